using Firmament.Abi.Ffa;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Tests.Scenarios;

/// <summary>Runs of the default demo with the trace recorder on.</summary>
internal static class TraceRuns
{
    public static Platform Default(ulong seed = 0, ScheduleStrategy strategy = ScheduleStrategy.Fair, bool trace = true)
    {
        var platform = Platform.Build(DefaultPlatform.Create(seed) with { Strategy = strategy }, new TraceRecorder { Enabled = trace });
        platform.Boot();
        platform.Run();
        return platform;
    }

    /// <summary>
    /// The default demo after boot with a non-secure interrupt pending for pCPU0 (the SP running there is preempted at
    /// its next completed call, and the VM gets FFA_INTERRUPT) and virtual interrupt 5 pending for sp1's idle vCPU1.
    /// </summary>
    public static Platform DefaultWithInterrupts()
    {
        var platform = Platform.Build(DefaultPlatform.Create(), new TraceRecorder { Enabled = true });
        platform.Boot();
        platform.Spmc!.SignalNonSecureInterrupt(platform.Scheduler.Pcpus[0]);
        platform.Spmc.SignalVirtualInterrupt(platform["sp1"].Vcpus[1], 5);
        platform.Run();
        return platform;
    }

    /// <summary>No hypervisor: the demo client as the OS kernel (endpoint 0, its RAM in normal-world RAM) and the default SPs.</summary>
    public static Platform KernelAndSpmc()
    {
        var defaults = DefaultPlatform.Create();
        var kernel = new PartitionConfig
        {
            Name = "linux",
            Id = EndpointId.Hypervisor,
            Kind = PartitionKind.Kernel,
            Memory = [new MemoryRegion("ram", 0x8800_0000, 256, Stage2Access.All)],
            Properties = defaults.Partitions[0].Properties,
            Program = NormalWorld.DemoClient,
            ProgramName = "demo-client",
        };
        var description = defaults with
        {
            Name = "kernel",
            Roles = PlatformRoles.KernelAndSpmc,
            Partitions = [kernel, .. defaults.Partitions.Where(static p => p.Kind == PartitionKind.Sp)],
        };
        var platform = Platform.Build(description, new TraceRecorder { Enabled = true });
        platform.Boot();
        platform.Run();
        return platform;
    }
}
