using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

/// <summary>On the golden: header 0-15, RX composite 16 (constituent 32), TX composite 48 (constituent 64).</summary>
public class EndpointRxTxTests
{
    [Fact]
    public void Writer_ProducesTheHandWrittenBytes()
    {
        var buffer = new byte[80];
        EndpointRxTxDescriptor.TryWrite(buffer, new EndpointId(2), [new(0x4000_0000, 1)], [new(0x4000_1000, 1)], out var written).ShouldBeTrue();

        written.ShouldBe(80);
        buffer.ShouldBe(Golden.RxTx);
    }

    [Fact]
    public void Reader_ReadsEveryField()
    {
        EndpointRxTxDescriptor.TryRead(Golden.RxTx, out var view, out var fault).ShouldBeTrue(fault.ToString());

        view.Endpoint.ShouldBe(new EndpointId(2));
        view.RxCompositeOffset.ShouldBe(16);
        view.TxCompositeOffset.ShouldBe(48);
        view.RxComposite.ShouldBe(new CompositeMemoryRegion(1, 1));
        view.TxComposite.ShouldBe(new CompositeMemoryRegion(1, 1));
        view.Rx.ToArray().ShouldBe([new MemoryRegionConstituent(0x4000_0000, 1)]);
        view.Tx.ToArray().ShouldBe([new MemoryRegionConstituent(0x4000_1000, 1)]);
        view.DescriptorLength.ShouldBe(80);
    }

    [Fact]
    public void RxTx_ShorterThanItsHeader_IsTruncated() =>
        Read(Golden.RxTx[..11]).ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));

    [Fact]
    public void RxTx_WithReservedSet_IsRejected() =>
        Read(Golden.RxTx.With8(3, 1)).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 2));

    [Fact]
    public void RxTx_WithRxCompositeInsideTheHeader_IsRejected() =>
        Read(Golden.RxTx.With32(4, 8)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetOutOfRange, 4));

    [Fact]
    public void RxTx_WithTxCompositePastTheEnd_IsRejected() =>
        Read(Golden.RxTx.With32(8, 72)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetOutOfRange, 8));

    [Fact]
    public void RxTx_WithTxCompositeOverlappingTheRxComposite_IsRejected() =>
        Read(Golden.RxTx.With32(8, 16)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetOutOfRange, 8));

    [Fact]
    public void RxTx_WithCompositeOffsetNotMultipleOf8_IsRejected() =>
        Read(Golden.RxTx.With32(8, 52)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetMisaligned, 8));

    [Fact]
    public void RxTx_WithTooManyConstituents_IsRejected() =>
        Read(Golden.RxTx.With32(48 + 4, 2)).ShouldBe(new DescriptorFault(DescriptorError.ConstituentCountMismatch, 52));

    [Fact]
    public void RxTx_WithWrongPageTotal_IsRejected() =>
        Read(Golden.RxTx.With32(16, 2)).ShouldBe(new DescriptorFault(DescriptorError.PageCountMismatch, 16));

    [Fact]
    public void RxTx_WithMisalignedAddress_IsRejected() =>
        Read(Golden.RxTx.With64(64, 0x4000_1004)).ShouldBe(new DescriptorFault(DescriptorError.AddressMisaligned, 64));

    private static DescriptorFault Read(byte[] bytes)
    {
        EndpointRxTxDescriptor.TryRead(bytes, out _, out var fault).ShouldBe(fault.IsNone);
        return fault;
    }
}
