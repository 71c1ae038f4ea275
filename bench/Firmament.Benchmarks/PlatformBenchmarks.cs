using BenchmarkDotNet.Attributes;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Benchmarks;

/// <summary>
/// Calls from a managed VM through its conduit, on a booted platform (hypervisor + SPMC, one pCPU, trace off).
/// Each invocation wakes the VM, which makes <see cref="Calls"/> calls and parks again in FFA_MSG_WAIT.
/// Fast path: FFA_VERSION / FFA_ID_GET / FFA_FEATURES answered by the hypervisor. Round trip: a 64-bit direct
/// request VM → hypervisor → SPMC → echo SP and its response back.
/// </summary>
[MemoryDiagnoser]
public class PlatformBenchmarks
{
    private const int Calls = 100_000;
    private Platform _platform = null!;
    private Vcpu _vm = null!;
    private RegisterFrame _call;

    [Params("FFA_VERSION", "FFA_ID_GET", "FFA_FEATURES", "DIRECT_REQ_64 round trip")]
    public string Abi { get; set; } = "FFA_VERSION";

    [GlobalSetup]
    public void Setup()
    {
        _call = Abi switch
        {
            "FFA_VERSION" => RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.Version), FfaVersion.V1_2.Encode()),
            "FFA_ID_GET" => RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.IdGet)),
            "FFA_FEATURES" => RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.Features), FfaFunctions.Id32(FfaFunction.RxTxMap)),
            _ => RegisterFrame.Of(FfaFunctions.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, 1, 2, 3, 4, 5),
        };
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
                    Program = Loop,
                },
                new PartitionConfig
                {
                    Name = "sp1",
                    Id = new EndpointId(0x8001),
                    Kind = PartitionKind.Sp,
                    Properties = PartitionProperties.ReceivesDirectRequests | PartitionProperties.AArch64,
                    Program = Echo,
                },
            ],
        };
        _platform = Platform.Build(description);
        _platform.Boot();
        _platform.Run();
        _vm = _platform["vm1"].Vcpus[0];
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public long Run()
    {
        var scheduler = _platform.Scheduler;
        scheduler.Ready(_vm, default, scheduler.Pcpus[0]);
        return scheduler.Run();
    }

    /// <summary>The VM: <see cref="Calls"/> calls per wake-up, register-file form (what an SMC instruction does).</summary>
    private async ValueTask Loop(EndpointContext context)
    {
        var wait = RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait));
        context.Registers = wait;
        await context.CallAsync();
        while (true)
        {
            for (var i = 0; i < Calls; i++)
            {
                context.Registers = _call;
                await context.CallAsync();
            }

            context.Registers = wait;
            await context.CallAsync();
        }
    }

    /// <summary>A lean echo SP: turns each request into its response in place (swap the IDs, keep the payload).</summary>
    private static async ValueTask Echo(EndpointContext context)
    {
        context.Registers = RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait));
        await context.CallAsync();
        var request64 = FfaFunctions.Id64(FfaFunction.MsgSendDirectReq);
        while (true)
        {
            ref var r = ref context.Registers;
            var w1 = (uint)r[1];
            r[0] = r[0] == request64 ? FfaFunctions.Id64(FfaFunction.MsgSendDirectResp) : FfaFunctions.Id32(FfaFunction.MsgSendDirectResp);
            r[1] = (w1 >> 16) | (w1 << 16);
            await context.CallAsync();
        }
    }
}
