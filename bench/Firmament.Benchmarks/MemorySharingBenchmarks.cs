using BenchmarkDotNet.Attributes;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Benchmarks;

/// <summary>
/// Memory sharing, through the register ABI, with the endpoints' descriptors in their TX buffers and the calls made
/// straight into the partition manager that serves each endpoint (every memory call completes at once; no scheduler
/// in the way). Trace off.
/// <list type="bullet">
/// <item><see cref="OnePageCycle"/>: one page, share + retrieve + relinquish + reclaim — SP to SP at the SPMC, and VM
/// to SP through the hypervisor's check and forwarding. Target ≥ 500 k cycles/s.</item>
/// <item><see cref="LargeShare"/>: <see cref="Pages"/> one-page constituents from a VM to an SP, the VM's descriptor
/// sent in 4 KiB fragments (FRAG_RX/FRAG_TX), forwarded by the hypervisor in fragments, retrieved by the SP fragment by
/// fragment (RX_RELEASE, FRAG_RX/FRAG_TX), then relinquished and reclaimed so the next invocation starts clean. Target:
/// 262,144 pages (1 GiB) under 250 ms, and 16× the pages within 20× the time.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
public class MemorySharingBenchmarks : MemorySharingRig
{
    private const int Cycles = 10_000;

    [Params("SP to SP", "VM to SP")]
    public string Path { get; set; } = "SP to SP";

    [GlobalSetup]
    public void Setup() => Build(Path == "SP to SP" ? "sp1" : "vm1", "sp2", 1);

    [Benchmark(OperationsPerInvoke = Cycles)]
    public ulong OnePageCycle()
    {
        ulong sum = 0;
        for (var i = 0; i < Cycles; i++)
        {
            sum += Cycle();
        }

        return sum;
    }
}

/// <summary>The large share of <see cref="MemorySharingBenchmarks"/>: <see cref="Pages"/> one-page constituents, fragmented both ways.</summary>
[MemoryDiagnoser]
public class LargeMemoryShareBenchmarks : MemorySharingRig
{
    [Params(16_384, 262_144)]
    public int Pages { get; set; } = 16_384;

    [GlobalSetup]
    public void Setup() => Build("vm1", "sp2", Pages);

    [Benchmark]
    public ulong LargeShare() => Cycle();
}

/// <summary>A platform, the two endpoints' descriptors, and one transaction's life through the register ABI.</summary>
public abstract class MemorySharingRig
{

    private Platform _platform = null!;
    private Vcpu _sender = null!;
    private Vcpu _borrower = null!;
    private AddressSpace _senderSpace = null!;
    private AddressSpace _borrowerSpace = null!;
    private RxTxBufferPair _senderBuffers;
    private RxTxBufferPair _borrowerBuffers;
    private byte[] _send = [];
    private byte[] _retrieve = [];
    private byte[] _relinquish = [];
    private byte[] _response = [];

    /// <summary>One transaction's life: share (fragmented as needed), retrieve (every fragment), relinquish, reclaim.</summary>
    protected ulong Cycle()
    {
        // Send: the first TX-sized fragment with the call, the rest with FRAG_TX while the manager asks FRAG_RX.
        var frame = default(RegisterFrame);
        var sent = Math.Min(_send.Length, PhysicalMemory.PageSize);
        _senderSpace.TryWrite(_senderBuffers.Tx, _send.AsSpan(0, sent), out _);
        new MemShare(true, new MemoryTransaction((uint)_send.Length, (uint)sent, 0, 0)).Encode(ref frame);
        Call(_sender, ref frame);
        while (frame.W(0) == FfaFunctions.Id32(FfaFunction.MemFragRx))
        {
            var length = Math.Min(_send.Length - sent, PhysicalMemory.PageSize);
            _senderSpace.TryWrite(_senderBuffers.Tx, _send.AsSpan(sent, length), out _);
            sent += length;
            var handleLow = frame.W(1);
            var handleHigh = frame.W(2);
            frame = default;
            new MemFragTx(MemoryHandle.FromHalves(handleLow, handleHigh), (uint)length, default).Encode(ref frame);
            Call(_sender, ref frame);
        }

        var handle = MemoryHandle.FromHalves(frame.W(2), frame.W(3));

        // Retrieve: the request names the handle; the response comes in RX-sized pieces.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(_retrieve.AsSpan(8), handle.Value);
        _borrowerSpace.TryWrite(_borrowerBuffers.Tx, _retrieve, out _);
        frame = default;
        new MemRetrieveReq(true, MemoryTransaction.InTxBuffer((uint)_retrieve.Length)).Encode(ref frame);
        Call(_borrower, ref frame);
        var total = frame.W(1);
        var received = frame.W(2);
        _borrowerSpace.TryRead(_borrowerBuffers.Rx, _response.AsSpan(0, (int)received), out _);
        while (received < total)
        {
            frame = RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.RxRelease));
            Call(_borrower, ref frame);
            frame = default;
            new MemFragRx(handle, received, default).Encode(ref frame);
            Call(_borrower, ref frame);
            var length = frame.W(3);
            _borrowerSpace.TryRead(_borrowerBuffers.Rx, _response.AsSpan((int)received, (int)length), out _);
            received += length;
        }

        frame = RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.RxRelease));
        Call(_borrower, ref frame);

        // Relinquish and reclaim.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(_relinquish, handle.Value);
        _borrowerSpace.TryWrite(_borrowerBuffers.Tx, _relinquish, out _);
        frame = default;
        new MemRelinquish().Encode(ref frame);
        Call(_borrower, ref frame);
        frame = default;
        new MemReclaim(handle, MemReclaimFlags.None).Encode(ref frame);
        Call(_sender, ref frame);
        if (frame.W(0) != FfaFunctions.Id32(FfaFunction.Success))
        {
            throw new InvalidOperationException($"the cycle failed: {frame}");
        }

        return handle.Value;
    }

    private static void Call(Vcpu vcpu, ref RegisterFrame frame) => vcpu.Handler.Call(vcpu, ref frame);

    protected void Build(string senderName, string borrowerName, int pages)
    {
        PartitionConfig Sp(string name, ushort id) => new()
        {
            Name = name,
            Id = new EndpointId(id),
            Kind = PartitionKind.Sp,
            Uuids = [Uuid.Parse($"{id:x8}-0000-0000-0000-000000000000")],
            Properties = PartitionProperties.AArch64,
            Memory = name == senderName ? [new MemoryRegion("ram", 0x1000_0000, (ulong)pages, Stage2Access.All)] : [],
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
                    Properties = PartitionProperties.AArch64,
                    Memory = [new MemoryRegion("ram", 0x4000_0000, Math.Max((ulong)pages, 16), Stage2Access.All)],
                },
                Sp("sp1", 0x8001),
                Sp("sp2", 0x8002),
            ],
        };
        _platform = Platform.Build(description);
        _platform.Boot();
        _platform.Run();
        var sender = _platform[senderName];
        var borrower = _platform[borrowerName];
        (_sender, _borrower) = (sender.Vcpus[0], borrower.Vcpus[0]);
        (_senderSpace, _borrowerSpace) = (sender.Memory, borrower.Memory);
        _senderBuffers = Map(sender);
        _borrowerBuffers = Map(borrower);

        var ram = sender.Config.Memory[0].Address;
        var send = new MemoryTransactionDescriptor
        {
            Header = new MemoryTransactionHeader(sender.Id, MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable), default, default, 0),
        };
        send.Receivers.Add(new EndpointMemoryAccess(borrower.Id, MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified)));
        for (var i = 0; i < pages; i++)
        {
            send.Constituents.Add(new MemoryRegionConstituent(ram + ((ulong)i * PhysicalMemory.PageSize), 1));
        }

        _send = send.Encode(FfaVersion.V1_2, MtdShape.Send);
        var retrieve = new MemoryTransactionDescriptor { Header = new MemoryTransactionHeader(sender.Id, default, default, default, 0) };
        retrieve.Receivers.Add(new EndpointMemoryAccess(borrower.Id, MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified)));
        _retrieve = retrieve.Encode(FfaVersion.V1_2, MtdShape.RetrieveRequest);
        var relinquish = new MemoryRelinquish();
        relinquish.Endpoints.Add(borrower.Id);
        _relinquish = relinquish.Encode();
        _response = new byte[MemoryTransactionDescriptorWriter.RequiredLength(FfaVersion.V1_2, MtdShape.RetrieveResponse, 1, pages)];
        Cycle(); // warm, and proves the cycle works
    }

    private RxTxBufferPair Map(Partition partition)
    {
        var buffers = _platform.BuffersOf(partition.Id);
        var frame = default(RegisterFrame);
        new RxTxMap(true, buffers.Tx, buffers.Rx, buffers.Pages).Encode(ref frame);
        Call(partition.Vcpus[0], ref frame);
        return new RxTxBufferPair(buffers.Tx, buffers.Rx);
    }

    private readonly record struct RxTxBufferPair(ulong Tx, ulong Rx);
}
