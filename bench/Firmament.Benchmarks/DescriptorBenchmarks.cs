using BenchmarkDotNet.Attributes;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Benchmarks;

/// <summary>
/// Reading a v1.2 memory transaction (two receivers) with 1, 64 and 4096 constituents: full validation, then a walk
/// over every constituent summing the page counts, as a partition manager would. Target: 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class DescriptorBenchmarks
{
    private byte[] _mtd = [];

    [Params(1, 64, 4096)]
    public int Constituents { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var header = new MemoryTransactionHeader(
            new EndpointId(1), MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable), default, default, 7);
        EndpointMemoryAccess[] emads =
        [
            new(new EndpointId(0x8001), MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified)),
            new(new EndpointId(0x8002), MemoryAccessPermissions.Of(DataAccess.ReadOnly, InstructionAccess.NotSpecified)),
        ];
        var constituents = new MemoryRegionConstituent[Constituents];
        for (var i = 0; i < constituents.Length; i++)
        {
            constituents[i] = new MemoryRegionConstituent(0x8000_0000UL + ((ulong)i * 0x10_0000), (uint)(i % 7) + 1);
        }

        _mtd = new byte[MemoryTransactionDescriptorWriter.RequiredLength(FfaVersion.V1_2, MtdShape.Send, emads.Length, constituents.Length)];
        MemoryTransactionDescriptorWriter.TryWrite(_mtd, FfaVersion.V1_2, MtdShape.Send, header, emads, constituents, out _);
    }

    [Benchmark]
    public ulong ReadMemoryTransaction()
    {
        if (!MemoryTransactionDescriptorReader.TryRead(_mtd, FfaVersion.V1_2, MtdShape.Send, out var view, out _))
        {
            return 0;
        }

        ulong pages = view.GetEmad(view.EmadCount - 1).Receiver.Value;
        foreach (var constituent in view.Constituents)
        {
            pages += constituent.PageCount;
        }

        return pages;
    }
}

/// <summary>Reading the small descriptors: 16 partition information descriptors (v1.2) and an indirect message header.</summary>
[MemoryDiagnoser]
public class DescriptorHeaderBenchmarks
{
    private readonly byte[] _partitions = new byte[16 * PartitionInfoDescriptors.SizeV1_1];
    private readonly byte[] _indirect = new byte[4096];

    [GlobalSetup]
    public void Setup()
    {
        var partitions = new PartitionInfo[16];
        for (var i = 0; i < partitions.Length; i++)
        {
            partitions[i] = new PartitionInfo(
                new EndpointId((ushort)(0x8001 + i)), 8, PartitionProperties.ReceivesDirectRequests | PartitionProperties.AArch64, new Uuid((ulong)i, ~(ulong)i));
        }

        PartitionInfoDescriptors.TryWrite(partitions, FfaVersion.V1_2, _partitions, out _);
        IndirectMessageHeader.For(FfaVersion.V1_2, new EndpointId(1), new EndpointId(0x8001), 256).TryWrite(_indirect, FfaVersion.V1_2, out _);
    }

    [Benchmark]
    public int ReadPartitionInfo()
    {
        if (!PartitionInfoDescriptors.TryRead(_partitions, 16, PartitionInfoDescriptors.SizeV1_1, out var list, out _))
        {
            return 0;
        }

        var sum = 0;
        foreach (var partition in list)
        {
            sum += partition.Id.Value + partition.ExecutionContextCount + (int)(partition.Uuid.Low & 0xFF);
        }

        return sum;
    }

    [Benchmark]
    public int ReadIndirectHeader() =>
        IndirectMessageHeader.TryRead(_indirect, FfaVersion.V1_2, out var header, out _)
            ? header.Payload(_indirect).Length + header.Sender.Value
            : 0;
}
