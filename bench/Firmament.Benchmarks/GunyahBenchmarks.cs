using BenchmarkDotNet.Attributes;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Gunyah;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Benchmarks;

/// <summary>
/// Gunyah hypercalls through the hypervisor's whole call path (the vCPU's call handler: FF-A dispatch, routing by
/// SMCCC owner, the Gunyah service), on a booted hypervisor-only platform with trace off. Per operation:
/// a 240-byte msgqueue_send by vm1 and the msgqueue_receive by vm2; a doorbell_send by vm1 and the doorbell_receive
/// by vm2; an RM RPC round trip — vm1 sends a VM_GET_VMID request packet on its RM link (the RM serves it as it
/// lands) and receives the 16-byte reply.
/// </summary>
[MemoryDiagnoser]
public class GunyahBenchmarks
{
    private const int Operations = 10_000;
    private Vcpu _vm1 = null!;
    private Vcpu _vm2 = null!;
    private RegisterFrame _send;
    private RegisterFrame _receive;
    private RegisterFrame _ring;
    private RegisterFrame _take;
    private RegisterFrame _request;
    private RegisterFrame _reply;

    [GlobalSetup]
    public void Setup()
    {
        var description = new PlatformDescription
        {
            Roles = PlatformRoles.HypervisorOnly,
            Pcpus = 1,
            Partitions =
            [
                new PartitionConfig { Name = "vm1", Id = new EndpointId(1), Kind = PartitionKind.Vm },
                new PartitionConfig { Name = "vm2", Id = new EndpointId(2), Kind = PartitionKind.Vm },
            ],
            Gunyah = new GunyahPlatform
            {
                Primary = "vm1",
                Msgqueues = [new GunyahMsgqueueSpec("q", "vm1", "vm2", 8, 240)],
                Doorbells = [new GunyahDoorbellSpec("bell", ["vm1"], "vm2")],
            },
        };
        var platform = Platform.Build(description, new TraceRecorder { Enabled = false });
        platform.Boot();
        platform.Run();
        _vm1 = platform["vm1"].Vcpus[0];
        _vm2 = platform["vm2"].Vcpus[0];
        platform.TryGetCap("vm1", "q", out var tx);
        platform.TryGetCap("vm2", "q", out var rx);
        platform.TryGetCap("vm1", "bell", out var ring);
        platform.TryGetCap("vm2", "bell", out var bell);
        platform.TryGetCap("vm1", "rm-tx", out var rmTx);
        platform.TryGetCap("vm1", "rm-rx", out var rmRx);
        platform["vm1"].Memory.TryWrite(0x4000_2000, [0x21, 0x01, 0x00, 0x00, 0x24, 0x00, 0x00, 0x56], out _);
        new MsgqueueSend(tx, 240, 0x4000_1000, MsgqueueSendOptions.None).Encode(ref _send, GunyahConvention.Smccc);
        new MsgqueueReceive(rx, 0x4000_1000, 240).Encode(ref _receive, GunyahConvention.Smccc);
        new DoorbellSend(ring, 1).Encode(ref _ring, GunyahConvention.Smccc);
        new DoorbellReceive(bell, ulong.MaxValue).Encode(ref _take, GunyahConvention.Smccc);
        new MsgqueueSend(rmTx, 8, 0x4000_2000, MsgqueueSendOptions.Push).Encode(ref _request, GunyahConvention.Smccc);
        new MsgqueueReceive(rmRx, 0x4000_3000, 240).Encode(ref _reply, GunyahConvention.Smccc);
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public ulong MsgqueueSendReceive240()
    {
        ulong sum = 0;
        for (var i = 0; i < Operations; i++)
        {
            var frame = _send;
            _vm1.Handler.Call(_vm1, ref frame);
            frame = _receive;
            _vm2.Handler.Call(_vm2, ref frame);
            sum += frame.X1;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public ulong DoorbellSendReceive()
    {
        ulong sum = 0;
        for (var i = 0; i < Operations; i++)
        {
            var frame = _ring;
            _vm1.Handler.Call(_vm1, ref frame);
            frame = _take;
            _vm2.Handler.Call(_vm2, ref frame);
            sum += frame.X1;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public ulong RmRpcRoundTrip()
    {
        ulong sum = 0;
        for (var i = 0; i < Operations; i++)
        {
            var frame = _request;
            _vm1.Handler.Call(_vm1, ref frame);
            frame = _reply;
            _vm1.Handler.Call(_vm1, ref frame);
            sum += frame.X1;
        }

        return sum;
    }
}
