using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

/// <summary>
/// The readers allocate nothing, however large the descriptor. This counts bytes allocated on the test's own thread —
/// deterministic, unlike time; the benchmark (DescriptorBenchmarks) is where speed is measured.
/// </summary>
public class DescriptorAllocationTests
{
    [Fact]
    public void ReadingAnMtdWith4096Constituents_AllocatesNothing()
    {
        var model = new MemoryTransactionDescriptor { Header = Golden.MtdSendHeader };
        model.Receivers.AddRange(Golden.MtdReceivers(withImpdef: true));
        model.Constituents.AddRange(Enumerable.Range(0, 4096).Select(i => new MemoryRegionConstituent((ulong)i << 12, 3)));
        var bytes = model.Encode(FfaVersion.V1_2, MtdShape.Send);
        var pages = SumPages(bytes);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 16; i++)
        {
            pages += SumPages(bytes);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.ShouldBe(0);
        pages.ShouldBe(17UL * 3 * 4096);
    }

    [Fact]
    public void ReadingTheSmallDescriptors_AllocatesNothing()
    {
        var partitions = Golden.PartitionInfoV1_1;
        var indirect = Golden.IndirectV1_2;
        var relinquish = Golden.Relinquish;
        var rxtx = Golden.RxTx;
        var sum = ReadSmall(partitions, indirect, relinquish, rxtx);

        var before = GC.GetAllocatedBytesForCurrentThread();
        sum += ReadSmall(partitions, indirect, relinquish, rxtx);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.ShouldBe(0);
        sum.ShouldBeGreaterThan(0UL);
    }

    private static ulong SumPages(byte[] bytes)
    {
        if (!MemoryTransactionDescriptorReader.TryRead(bytes, FfaVersion.V1_2, MtdShape.Send, out var view, out _))
        {
            return 0;
        }

        ulong pages = 0;
        for (var i = 0; i < view.ConstituentCount; i++)
        {
            pages += view.GetConstituent(i).PageCount;
        }

        return pages;
    }

    private static ulong ReadSmall(byte[] partitions, byte[] indirect, byte[] relinquish, byte[] rxtx)
    {
        ulong sum = 0;
        if (PartitionInfoDescriptors.TryRead(partitions, 1, 24, out var list, out _))
        {
            foreach (var p in list)
            {
                sum += p.Uuid.Low;
            }
        }

        if (IndirectMessageHeader.TryRead(indirect, FfaVersion.V1_2, out var header, out _))
        {
            sum += header.Size;
        }

        if (MemoryRelinquishDescriptor.TryRead(relinquish, out var r, out _))
        {
            sum += r.GetEndpoint(0).Value;
        }

        if (EndpointRxTxDescriptor.TryRead(rxtx, out var x, out _))
        {
            sum += x.Rx.SumPageCounts() + x.Tx.SumPageCounts();
        }

        return sum;
    }
}
