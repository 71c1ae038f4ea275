using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

/// <summary>
/// One test per rule: each starts from a valid hand-written descriptor, breaks exactly one field, and expects exactly
/// one fault at exactly that field. Offsets in the v1.1 golden: header 0-47, emad[0] 48, emad[1] 64, composite 80,
/// constituents 96 and 112.
/// </summary>
public class MemoryTransactionFaultTests
{
    [Fact]
    public void Mtd_V11_ShorterThanTheHeader_IsTruncated() =>
        Read(Golden.MtdV1_1[..47]).ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));

    [Fact]
    public void Mtd_V10_ShorterThanTheHeader_IsTruncated() =>
        Read(Golden.MtdV1_0[..31], FfaVersion.V1_0).ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));

    [Fact]
    public void Mtd_WithMajorVersion2_HasNoLayout() =>
        Read(Golden.MtdV1_1, new FfaVersion(2, 0)).ShouldBe(new DescriptorFault(DescriptorError.UnsupportedLayout, 0));

    [Fact]
    public void Mtd_V10_WithReservedByte3Set_IsRejected() =>
        Read(Golden.MtdV1_0.With8(3, 1), FfaVersion.V1_0).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 3));

    [Fact]
    public void Mtd_V10_WithReservedWordAt24Set_IsRejected() =>
        Read(Golden.MtdV1_0.With32(24, 16), FfaVersion.V1_0).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 24));

    [Fact]
    public void Mtd_V11_WithHeaderReservedBytesSet_IsRejected() =>
        Read(Golden.MtdV1_1.With8(47, 1)).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 36));

    [Fact]
    public void Mtd_V11_WithEmadReservedSet_IsRejected() =>
        Read(Golden.MtdV1_1.With8(64 + 8, 1)).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 72));

    [Fact]
    public void Mtd_V12_WithEmadReservedSet_IsRejected_ButTheImpdefValueIsFree() =>
        Read(Golden.MtdV1_2.With8(80 + 24, 1), FfaVersion.V1_2).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 104));

    [Fact]
    public void Mtd_WithCompositeReservedSet_IsRejected() =>
        Read(Golden.MtdV1_1.With8(80 + 15, 1)).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 88));

    [Fact]
    public void Mtd_WithConstituentReservedSet_IsRejected() =>
        Read(Golden.MtdV1_1.With32(112 + 12, 1)).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 124));

    [Fact]
    public void Mtd_V11_WithAttributeBit7Set_IsRejected() =>
        Read(Golden.MtdV1_1.With8(2, 0xAF)).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 2));

    [Fact]
    public void Mtd_V10_WithAttributeBit6Set_IsRejected() =>
        Read(Golden.MtdV1_0.With8(2, 0x6F), FfaVersion.V1_0, MtdShape.RetrieveResponse).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 2));

    [Fact]
    public void Mtd_SendWithNsBitSet_IsRejected() =>
        Read(Golden.MtdV1_1.With8(2, 0x6F)).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 2));

    [Fact]
    public void Mtd_RetrieveResponseWithNsBitSet_IsAccepted()
    {
        var bytes = Golden.MtdV1_1.With8(2, 0x6F).With64(8, 0x42);
        MemoryTransactionDescriptorReader.TryRead(bytes, FfaVersion.V1_1, MtdShape.RetrieveResponse, out var view, out var fault).ShouldBeTrue(fault.ToString());
        view.Attributes.NonSecure.ShouldBeTrue();
    }

    [Fact]
    public void Mtd_SendWithFlagsBit2Set_IsRejected() =>
        Read(Golden.MtdV1_1.With32(4, 1u << 2)).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 4));

    [Fact]
    public void Mtd_V11_RetrieveRequestWithTheV12BypassBit_IsRejected() =>
        Read(RetrieveRequestV1_1().With32(4, 1u << 10), FfaVersion.V1_1, MtdShape.RetrieveRequest)
            .ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 4));

    [Fact]
    public void Mtd_V12_RetrieveRequestWithTheBypassBit_IsAccepted() =>
        Read(Golden.RetrieveRequestV1_2.With32(4, 1u << 10), FfaVersion.V1_2, MtdShape.RetrieveRequest).ShouldBe(DescriptorFault.None);

    [Fact]
    public void Mtd_RetrieveResponseWithFlagsBit5Set_IsRejected() =>
        Read(Golden.MtdV1_1.With32(4, 1u << 5), FfaVersion.V1_1, MtdShape.RetrieveResponse).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 4));

    [Fact]
    public void Mtd_WithPermissionsBit4Set_IsRejected() =>
        Read(Golden.MtdV1_1.With8(64 + 2, 0x11)).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 66));

    [Fact]
    public void Mtd_SendWithNonRetrievalBorrowerFlag_IsRejected() =>
        Read(Golden.MtdV1_1.With8(48 + 3, 1)).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 51));

    [Fact]
    public void Mtd_RetrieveRequestWithNonRetrievalBorrowerFlag_IsAccepted() =>
        Read(Golden.RetrieveRequestV1_2.With8(48 + 3, 1), FfaVersion.V1_2, MtdShape.RetrieveRequest).ShouldBe(DescriptorFault.None);

    [Fact]
    public void Mtd_V11_WithEmadSize32_IsRejected() =>
        Read(Golden.MtdV1_2, FfaVersion.V1_1).ShouldBe(new DescriptorFault(DescriptorError.BadEmadSize, 24));

    [Fact]
    public void Mtd_V12_WithEmadSize24_IsRejected() =>
        Read(Golden.MtdV1_2.With32(24, 24), FfaVersion.V1_2).ShouldBe(new DescriptorFault(DescriptorError.BadEmadSize, 24));

    [Fact]
    public void Mtd_V11_WithEmadOffsetInsideTheHeader_IsRejected() =>
        Read(Golden.MtdV1_1.With32(32, 32)).ShouldBe(new DescriptorFault(DescriptorError.EmadOffsetTooSmall, 32));

    [Fact]
    public void Mtd_V11_WithEmadOffsetNotMultipleOf16_IsRejected() =>
        Read(Golden.MtdV1_1.With32(32, 56)).ShouldBe(new DescriptorFault(DescriptorError.EmadOffsetMisaligned, 32));

    [Fact]
    public void Mtd_V11_WithEmadOffsetPast48_IsAccepted()
    {
        // Move the EMADs from 48 to 64; the composite (at 80 + 16 = 96) follows them.
        var bytes = new byte[144];
        Golden.MtdV1_1.AsSpan(0, 48).CopyTo(bytes);
        Golden.MtdV1_1.AsSpan(48).CopyTo(bytes.AsSpan(64));
        bytes.With32(32, 64).With32(64 + 4, 96).With32(80 + 4, 96);

        MemoryTransactionDescriptorReader.TryRead(bytes, FfaVersion.V1_1, out var view, out var fault).ShouldBeTrue(fault.ToString());
        view.EmadOffset.ShouldBe(64);
        view.GetEmad(1).Receiver.ShouldBe(new EndpointId(0x8002));
        view.Constituents.SumPageCounts().ShouldBe(5UL);
    }

    [Fact]
    public void Mtd_WithHugeEmadCount_IsRejectedWithoutOverflow() =>
        Read(Golden.MtdV1_1.With32(28, uint.MaxValue)).ShouldBe(new DescriptorFault(DescriptorError.EmadArrayOutOfRange, 28));

    [Fact]
    public void Mtd_WithHugeEmadOffset_IsRejectedWithoutOverflow() =>
        Read(Golden.MtdV1_1.With32(32, 0xFFFF_FFF0)).ShouldBe(new DescriptorFault(DescriptorError.EmadArrayOutOfRange, 28));

    [Fact]
    public void Mtd_SendWithNoEmad_IsRejected() =>
        Read(Golden.MtdV1_1.With32(28, 0)).ShouldBe(new DescriptorFault(DescriptorError.NoEndpoints, 28));

    [Fact]
    public void Mtd_HypervisorRetrieveWithAnEmad_IsRejected() =>
        Read(Golden.HypervisorRetrieveV1_1.With32(28, 1), FfaVersion.V1_1, MtdShape.HypervisorRetrieve)
            .ShouldBe(new DescriptorFault(DescriptorError.UnexpectedEmads, 28));

    [Fact]
    public void Mtd_WithCompositeOffsetPastTheEnd_IsRejected() =>
        Read(Golden.MtdV1_1.With32(48 + 4, 0x1000)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetOutOfRange, 52));

    [Fact]
    public void Mtd_WithCompositeOffsetIntoTheEmads_IsRejected() =>
        Read(Golden.MtdV1_1.With32(64 + 4, 64)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetOutOfRange, 68));

    [Fact]
    public void Mtd_SendWithCompositeOffsetZero_IsRejected() =>
        Read(Golden.MtdV1_1.With32(48 + 4, 0)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetOutOfRange, 52));

    [Fact]
    public void Mtd_WithCompositeOffsetNotMultipleOf8_IsRejected() =>
        Read(Golden.MtdV1_1.With32(48 + 4, 84)).ShouldBe(new DescriptorFault(DescriptorError.CompositeOffsetMisaligned, 52));

    [Fact]
    public void Mtd_RetrieveRequestNamingAComposite_IsRejected() =>
        Read(Golden.RetrieveRequestV1_2.With32(48 + 4, 80), FfaVersion.V1_2, MtdShape.RetrieveRequest)
            .ShouldBe(new DescriptorFault(DescriptorError.UnexpectedComposite, 52));

    [Fact]
    public void Mtd_WithOneConstituentTooMany_IsRejected() =>
        Read(Golden.MtdV1_1.With32(80 + 4, 3)).ShouldBe(new DescriptorFault(DescriptorError.ConstituentCountMismatch, 84));

    [Fact]
    public void Mtd_WithHugeConstituentCount_IsRejectedWithoutOverflow() =>
        Read(Golden.MtdV1_1.With32(80 + 4, uint.MaxValue)).ShouldBe(new DescriptorFault(DescriptorError.ConstituentCountMismatch, 84));

    [Fact]
    public void Mtd_WithTotalPageCountNotTheSum_IsRejected() =>
        Read(Golden.MtdV1_1.With32(80, 6)).ShouldBe(new DescriptorFault(DescriptorError.PageCountMismatch, 80));

    [Fact]
    public void Mtd_WhosePageSumWrapsAt32Bits_IsAPageCountMismatch()
    {
        // 0xFFFFFFFF + 6 pages wraps to 5 in 32 bits; the reader sums in 64 bits.
        var bytes = Golden.MtdV1_1.With32(96 + 8, uint.MaxValue).With32(112 + 8, 6);
        Read(bytes).ShouldBe(new DescriptorFault(DescriptorError.PageCountMismatch, 80));
    }

    [Fact]
    public void Mtd_WithConstituentAddressNot4KiBAligned_IsRejected() =>
        Read(Golden.MtdV1_1.With64(112, 0x8_8000_1800)).ShouldBe(new DescriptorFault(DescriptorError.AddressMisaligned, 112));

    [Fact]
    public void Mtd_V10_LayoutGivenToAV11Reader_IsRejected() =>
        // v1.0 bytes under v1.1 rules: the v1.0 reserved word at 24 reads as EMAD size 0.
        Read(Golden.MtdV1_0).ShouldBe(new DescriptorFault(DescriptorError.BadEmadSize, 24));

    [Fact]
    public void Mtd_V11_LayoutGivenToAV10Reader_IsRejected() =>
        // v1.1 bytes under v1.0 rules: the EMAD size at 24 reads as a non-zero reserved word.
        Read(Golden.MtdV1_1, FfaVersion.V1_0).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 24));

    [Fact]
    public void Mtd_ReadOfAValidDescriptor_ReportsNoFault()
    {
        MemoryTransactionDescriptorReader.TryRead(Golden.MtdV1_1, FfaVersion.V1_1, out _, out var fault).ShouldBeTrue();
        fault.ShouldBe(DescriptorFault.None);
        fault.ToString().ShouldBe("ok");
    }

    [Fact]
    public void Fault_ToString_NamesTheErrorTheOffsetAndTheRule() =>
        new DescriptorFault(DescriptorError.EmadOffsetMisaligned, 32).ToString()
            .ShouldBe("EmadOffsetMisaligned at byte 32 (0x20): EMAD offset is not a multiple of 16");

    [Fact]
    public void EveryError_HasItsOwnExplanation()
    {
        var texts = Enum.GetValues<DescriptorError>().Select(DescriptorFault.Explain).ToList();
        texts.Distinct(StringComparer.Ordinal).Count().ShouldBe(texts.Count);
        texts.ShouldAllBe(t => t != "unknown");
    }

    private static byte[] RetrieveRequestV1_1()
    {
        var bytes = new byte[64];
        Golden.RetrieveRequestV1_2.AsSpan(0, 64).CopyTo(bytes);
        return bytes.With32(24, 16);
    }

    private static DescriptorFault Read(byte[] bytes, FfaVersion? layout = null, MtdShape shape = MtdShape.Send)
    {
        var ok = MemoryTransactionDescriptorReader.TryRead(bytes, layout ?? FfaVersion.V1_1, shape, out _, out var fault);
        ok.ShouldBe(fault.IsNone);
        return fault;
    }
}
