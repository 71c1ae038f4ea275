using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Endpoints.Emulation;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Benchmarks;

/// <summary>
/// Calls made by emulated AArch64 code (guests/samples/bench-vm.c, built here with make) on a booted platform
/// (hypervisor + SPMC, one pCPU, trace off). Each invocation wakes the VM, which makes <see cref="Calls"/> calls and
/// parks again in FFA_MSG_WAIT. Cases: FFA_VERSION answered inside the trap hook; a DIRECT_REQ_64 round trip to the
/// emulated echo SP (guests/samples/echo-sp.c); the same round trip to a managed echo SP.
/// </summary>
[MemoryDiagnoser]
public class EmulationBenchmarks
{
    private const int Calls = 100_000;
    private Platform _platform = null!;
    private Vcpu _vm = null!;

    [Params("FFA_VERSION", "DIRECT_REQ emulated VM -> emulated SP", "DIRECT_REQ emulated VM -> managed SP")]
    public string Case { get; set; } = "FFA_VERSION";

    [GlobalSetup]
    public void Setup()
    {
        if (Unicorn.UnavailableReason is { } reason)
        {
            throw new InvalidOperationException($"emulator unavailable: {reason}");
        }

        var images = BuildGuests();
        var mode = Case == "FFA_VERSION" ? 0UL : 1UL;
        var sp = new PartitionConfig
        {
            Name = "sp1",
            Id = new EndpointId(0x8001),
            Kind = PartitionKind.Sp,
            Properties = PartitionProperties.ReceivesDirectRequests | PartitionProperties.AArch64,
        };
        sp = Case.EndsWith("managed SP", StringComparison.Ordinal)
            ? sp with { Program = Endpoints.Samples.SecurePartitions.Echo }
            : sp with { Image = new GuestImage(Path.Combine(images, "echo-sp.bin"), Platform.DefaultSpRam, Platform.DefaultSpRam) };
        var description = new PlatformDescription
        {
            Pcpus = 1,
            Partitions =
            [
                new PartitionConfig
                {
                    Name = "vm1",
                    Id = new EndpointId(1),
                    Kind = PartitionKind.Vm,
                    Properties = PartitionProperties.SendsDirectRequests | PartitionProperties.AArch64,
                    Image = new GuestImage(Path.Combine(images, "bench-vm.bin"), Platform.DefaultVmRam, Platform.DefaultVmRam) { Arguments = [mode, 0x8001, Calls] },
                },
                sp,
            ],
        };
        _platform = Platform.Build(description);
        _platform.Boot();
        _platform.Run();
        _vm = _platform["vm1"].Vcpus[0];
        if (_vm.State != VcpuState.Waiting)
        {
            throw new InvalidOperationException($"the benchmark VM did not park in MSG_WAIT: {_vm}");
        }
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public long Run()
    {
        var scheduler = _platform.Scheduler;
        scheduler.Ready(_vm, default, scheduler.Pcpus[0]);
        return scheduler.Run();
    }

    private static string BuildGuests()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Firmament.slnx")))
        {
            root = root.Parent;
        }

        var guests = Path.Combine(root?.FullName ?? throw new InvalidOperationException("Firmament.slnx not found above the benchmark"), "guests");
        using var make = Process.Start(new ProcessStartInfo("make", ["-s", "-C", guests]) { UseShellExecute = false })!;
        make.WaitForExit();
        return make.ExitCode == 0 ? Path.Combine(guests, "build") : throw new InvalidOperationException("make -C guests failed (gcc-aarch64-linux-gnu installed?)");
    }
}
