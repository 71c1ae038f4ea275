using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

public class IndirectMessageHeaderTests
{
    private static readonly Uuid Protocol = Uuid.Parse("b4b5671e-4a90-4fe1-b81f-fb13dae1dacb");

    [Fact]
    public void Writer_V11_ProducesTheHandWrittenHeader()
    {
        var buffer = new byte[25];
        IndirectMessageHeader.For(FfaVersion.V1_1, new EndpointId(0x0001), new EndpointId(0x8003), 5).TryWrite(buffer, FfaVersion.V1_1, out var written)
            .ShouldBeTrue();
        "hello"u8.CopyTo(buffer.AsSpan(written));

        written.ShouldBe(20);
        buffer.ShouldBe(Golden.IndirectV1_1);
    }

    [Fact]
    public void Writer_V12_ProducesTheHandWrittenHeader()
    {
        var buffer = new byte[43];
        IndirectMessageHeader.For(FfaVersion.V1_2, new EndpointId(0x8003), new EndpointId(0x0002), 3, Protocol).TryWrite(buffer, FfaVersion.V1_2, out var written)
            .ShouldBeTrue();
        "abc"u8.CopyTo(buffer.AsSpan(written));

        written.ShouldBe(40);
        buffer.ShouldBe(Golden.IndirectV1_2);
    }

    [Fact]
    public void Writer_WithTooSmallADestination_WritesNothing()
    {
        var buffer = new byte[39];
        IndirectMessageHeader.For(FfaVersion.V1_2, new EndpointId(1), new EndpointId(2), 0).TryWrite(buffer, FfaVersion.V1_2, out var written).ShouldBeFalse();

        written.ShouldBe(0);
        buffer.ShouldAllBe(b => b == 0);
    }

    [Fact]
    public void Reader_V11_ReadsEveryFieldAndThePayload()
    {
        var bytes = Golden.IndirectV1_1;
        IndirectMessageHeader.TryRead(bytes, FfaVersion.V1_1, out var header, out var fault).ShouldBeTrue(fault.ToString());

        header.ShouldBe(new IndirectMessageHeader(0, 20, new EndpointId(0x0001), new EndpointId(0x8003), 5, Uuid.Nil));
        header.SendRecvId.Pack().ShouldBe(0x0001_8003u);
        header.Payload(bytes).ToArray().ShouldBe("hello"u8.ToArray());
    }

    [Fact]
    public void Reader_V12_ReadsEveryFieldAndThePayload()
    {
        var bytes = Golden.IndirectV1_2;
        IndirectMessageHeader.TryRead(bytes, FfaVersion.V1_2, out var header, out var fault).ShouldBeTrue(fault.ToString());

        header.ShouldBe(new IndirectMessageHeader(0, 40, new EndpointId(0x8003), new EndpointId(0x0002), 3, Protocol));
        header.Payload(bytes).ToArray().ShouldBe("abc"u8.ToArray());
    }

    [Fact]
    public void Reader_HonoursTheOffset_NotTheHeaderSize()
    {
        // Xen delivers messages with offset 40: the payload is where the offset says.
        var bytes = new byte[45];
        Golden.IndirectV1_1.AsSpan(0, 20).CopyTo(bytes);
        "hello"u8.CopyTo(bytes.AsSpan(40));
        bytes.With32(8, 40);

        IndirectMessageHeader.TryRead(bytes, FfaVersion.V1_1, out var header, out var fault).ShouldBeTrue(fault.ToString());

        header.Payload(bytes).ToArray().ShouldBe("hello"u8.ToArray());
    }

    [Fact]
    public void Indirect_V12_LegacyLinux36ByteHeader_IsRejected()
    {
        // Linux before the 2025 fix: UUID at 20 (no reserved word), payload at 36. The buffer is a whole page.
        var bytes = new byte[4096];
        Golden.IndirectV1_2.AsSpan(0, 20).CopyTo(bytes);
        Golden.IndirectV1_2.AsSpan(24, 16).CopyTo(bytes.AsSpan(20));
        "abc"u8.CopyTo(bytes.AsSpan(36));
        bytes.With32(8, 36);

        IndirectMessageHeader.TryRead(bytes, FfaVersion.V1_2, out _, out var fault).ShouldBeFalse();

        // The first UUID word sits where v1.2 has its reserved word.
        fault.ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 20));
    }

    [Fact]
    public void Indirect_V12_LegacyHeaderWithNilUuid_IsRejectedForItsOffset()
    {
        var bytes = new byte[4096];
        Golden.IndirectV1_2.AsSpan(0, 20).CopyTo(bytes);
        bytes.With32(8, 36);

        IndirectMessageHeader.TryRead(bytes, FfaVersion.V1_2, out _, out var fault).ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.PayloadOffsetTooSmall, 8));
    }

    [Fact]
    public void Indirect_V10_HasNoLayout() =>
        Read(Golden.IndirectV1_1, FfaVersion.V1_0).ShouldBe(new DescriptorFault(DescriptorError.UnsupportedLayout, 0));

    [Fact]
    public void Indirect_V12_ShorterThan40Bytes_IsTruncated() =>
        Read(Golden.IndirectV1_2[..39], FfaVersion.V1_2).ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));

    [Fact]
    public void Indirect_WithFlagsSet_IsRejected() =>
        Read(Golden.IndirectV1_1.With32(0, 2), FfaVersion.V1_1).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 0));

    [Fact]
    public void Indirect_WithReservedAt4Set_IsRejected() =>
        Read(Golden.IndirectV1_1.With32(4, 1), FfaVersion.V1_1).ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 4));

    [Fact]
    public void Indirect_V12_WithOffsetIntoTheHeader_IsRejected() =>
        Read(Golden.IndirectV1_2.With32(8, 20), FfaVersion.V1_2).ShouldBe(new DescriptorFault(DescriptorError.PayloadOffsetTooSmall, 8));

    [Fact]
    public void Indirect_WithPayloadPastTheBuffer_IsRejected() =>
        Read(Golden.IndirectV1_1.With32(16, 6), FfaVersion.V1_1).ShouldBe(new DescriptorFault(DescriptorError.PayloadOutOfRange, 16));

    [Fact]
    public void Indirect_WhoseOffsetPlusSizeOverflows32Bits_IsRejected() =>
        Read(Golden.IndirectV1_1.With32(8, 0xFFFF_FFF0).With32(16, 0x20), FfaVersion.V1_1).ShouldBe(new DescriptorFault(DescriptorError.PayloadOutOfRange, 16));

    private static DescriptorFault Read(byte[] bytes, FfaVersion version)
    {
        IndirectMessageHeader.TryRead(bytes, version, out _, out var fault).ShouldBe(fault.IsNone);
        return fault;
    }
}
