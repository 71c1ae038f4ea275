using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

public class MemoryTransactionGoldenTests
{
    public static TheoryData<string, byte[]> Layouts => new()
    {
        { "1.0", Golden.MtdV1_0 },
        { "1.1", Golden.MtdV1_1 },
        { "1.2", Golden.MtdV1_2 },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Writer_ProducesTheHandWrittenBytes(string version, byte[] expected)
    {
        var layout = Version(version);
        var emads = Golden.MtdReceivers(withImpdef: layout >= FfaVersion.V1_2);
        var constituents = Golden.MtdConstituents;
        var length = MemoryTransactionDescriptorWriter.RequiredLength(layout, MtdShape.Send, emads.Length, constituents.Length);
        length.ShouldBe(expected.Length);

        var buffer = new byte[length + 7];
        buffer.AsSpan().Fill(0xEE);
        MemoryTransactionDescriptorWriter.TryWrite(buffer, layout, MtdShape.Send, Golden.MtdSendHeader, emads, constituents, out var written)
            .ShouldBeTrue();

        written.ShouldBe(expected.Length);
        buffer[..written].ShouldBe(expected);
        buffer[written..].ShouldAllBe(b => b == 0xEE);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Reader_ReadsEveryFieldOfTheHandWrittenBytes(string version, byte[] bytes)
    {
        var layout = Version(version);
        MemoryTransactionDescriptorReader.TryRead(bytes, layout, MtdShape.Send, out var view, out var fault).ShouldBeTrue(fault.ToString());

        view.Sender.ShouldBe(new EndpointId(0x0001));
        view.Attributes.Value.ShouldBe((ushort)0x2F);
        view.Attributes.Type.ShouldBe(MemoryType.Normal);
        view.Attributes.Cacheability.ShouldBe(Cacheability.WriteBack);
        view.Attributes.Shareability.ShouldBe(Shareability.InnerShareable);
        view.Flags.ShouldBe(MemoryTransactionFlags.None);
        view.Handle.ShouldBe(new MemoryHandle(0));
        view.Tag.ShouldBe(7UL);
        view.EmadCount.ShouldBe(2);
        view.EmadSize.ShouldBe(layout >= FfaVersion.V1_2 ? 32 : 16);
        view.EmadOffset.ShouldBe(layout == FfaVersion.V1_0 ? 32 : 48);

        var expected = Golden.MtdReceivers(withImpdef: layout >= FfaVersion.V1_2);
        view.GetEmad(0).ShouldBe(expected[0]);
        view.GetEmad(1).ShouldBe(expected[1]);
        view.GetEmad(0).Permissions.Data.ShouldBe(DataAccess.ReadWrite);
        view.GetEmad(1).Permissions.Data.ShouldBe(DataAccess.ReadOnly);

        var compositeOffset = view.EmadOffset + (2 * view.EmadSize);
        view.GetCompositeOffset(0).ShouldBe((uint)compositeOffset);
        view.GetCompositeOffset(1).ShouldBe((uint)compositeOffset);
        view.EmadsShareComposite(out _).ShouldBeTrue();
        view.HasComposite.ShouldBeTrue();
        view.CompositeOffset.ShouldBe(compositeOffset);
        view.Composite.ShouldBe(new CompositeMemoryRegion(5, 2));
        view.ConstituentCount.ShouldBe(2);
        view.IsComplete.ShouldBeTrue();
        view.GetConstituent(0).ShouldBe(new MemoryRegionConstituent(0x8000_0000, 1));
        view.GetConstituent(1).ShouldBe(new MemoryRegionConstituent(0x8_8000_1000, 4));
        view.DescriptorLength.ShouldBe(bytes.Length);
    }

    [Fact]
    public void Writer_ProducesTheHandWrittenRetrieveRequest()
    {
        var header = new MemoryTransactionHeader(
            new EndpointId(1),
            MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable),
            MemoryTransactionFlags.ForRetrieveRequest(MemoryTransactionType.Share, timeSlice: true),
            new MemoryHandle(0x8000_0000_0000_0009),
            7);
        EndpointMemoryAccess[] emads = [new(new EndpointId(0x8001), MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotExecutable))];
        var buffer = new byte[MemoryTransactionDescriptorWriter.RequiredLength(FfaVersion.V1_2, MtdShape.RetrieveRequest, 1, 0)];

        MemoryTransactionDescriptorWriter.TryWrite(buffer, FfaVersion.V1_2, MtdShape.RetrieveRequest, header, emads, [], out var written).ShouldBeTrue();

        written.ShouldBe(80);
        buffer.ShouldBe(Golden.RetrieveRequestV1_2);
    }

    [Fact]
    public void Reader_ReadsARetrieveRequestWithoutComposite()
    {
        MemoryTransactionDescriptorReader.TryRead(Golden.RetrieveRequestV1_2, FfaVersion.V1_2, MtdShape.RetrieveRequest, out var view, out var fault)
            .ShouldBeTrue(fault.ToString());

        view.HasComposite.ShouldBeFalse();
        view.CompositeOffset.ShouldBe(-1);
        view.Constituents.Count.ShouldBe(0);
        view.Handle.IsHypervisorAllocated.ShouldBeTrue();
        view.Flags.TimeSlice.ShouldBeTrue();
        view.Flags.TransactionType.ShouldBe(MemoryTransactionType.Share);
        view.GetEmad(0).Permissions.ShouldBe(MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotExecutable));
        view.GetCompositeOffset(0).ShouldBe(0u);
        view.DescriptorLength.ShouldBe(80);
    }

    [Fact]
    public void Mtd_RetrieveRequestReadAsASend_IsRejectedForItsMissingComposite()
    {
        MemoryTransactionDescriptorReader.TryRead(Golden.RetrieveRequestV1_2, FfaVersion.V1_2, MtdShape.Send, out _, out var fault).ShouldBeFalse();

        // The send rules reject its flags first (bits 4:3 mean nothing in a send).
        fault.ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 4));
    }

    [Fact]
    public void Writer_And_Reader_AgreeOnTheHandWrittenHypervisorRetrieveRequest()
    {
        var header = new MemoryTransactionHeader(default, default, default, new MemoryHandle(0x42), 0);
        var buffer = new byte[48];
        MemoryTransactionDescriptorWriter.TryWrite(buffer, FfaVersion.V1_1, MtdShape.HypervisorRetrieve, header, [], [], out var written).ShouldBeTrue();
        written.ShouldBe(48);
        buffer.ShouldBe(Golden.HypervisorRetrieveV1_1);

        MemoryTransactionDescriptorReader.TryRead(Golden.HypervisorRetrieveV1_1, FfaVersion.V1_1, MtdShape.HypervisorRetrieve, out var view, out var fault)
            .ShouldBeTrue(fault.ToString());
        view.EmadCount.ShouldBe(0);
        view.Handle.ShouldBe(new MemoryHandle(0x42));
        view.HasComposite.ShouldBeFalse();
        view.DescriptorLength.ShouldBe(48);
    }

    [Fact]
    public void Mtd_V12_ReaderAcceptsTheV11EmadSize()
    {
        MemoryTransactionDescriptorReader.TryRead(Golden.MtdV1_1, FfaVersion.V1_2, out var view, out var fault).ShouldBeTrue(fault.ToString());

        view.EmadSize.ShouldBe(16);
        view.GetEmad(0).ImplementationDefined.ShouldBe(UInt128.Zero);
    }

    [Fact]
    public void Writer_WithTooSmallADestination_WritesNothing()
    {
        var buffer = new byte[111];
        MemoryTransactionDescriptorWriter.TryWrite(
            buffer, FfaVersion.V1_0, MtdShape.Send, Golden.MtdSendHeader, Golden.MtdReceivers(false), Golden.MtdConstituents, out var written)
            .ShouldBeFalse();

        written.ShouldBe(0);
        buffer.ShouldAllBe(b => b == 0);
    }

    [Fact]
    public void Writer_DropsTheImpdefValueInALayoutWithoutIt()
    {
        var bytes = new byte[128];
        MemoryTransactionDescriptorWriter.TryWrite(
            bytes, FfaVersion.V1_1, MtdShape.Send, Golden.MtdSendHeader, Golden.MtdReceivers(withImpdef: true), Golden.MtdConstituents, out _)
            .ShouldBeTrue();

        bytes.ShouldBe(Golden.MtdV1_1);
    }

    [Fact]
    public void Writer_WithAMisalignedConstituent_Throws()
    {
        var buffer = new byte[256];
        Should.Throw<ArgumentException>(() => MemoryTransactionDescriptorWriter.TryWrite(
            buffer, FfaVersion.V1_1, MtdShape.Send, Golden.MtdSendHeader, Golden.MtdReceivers(false), [new(0x1234, 1)], out _));
        buffer.ShouldAllBe(b => b == 0);
    }

    [Fact]
    public void Writer_WithAPageSumPast32Bits_Throws()
    {
        var buffer = new byte[256];
        Should.Throw<ArgumentException>(() => MemoryTransactionDescriptorWriter.TryWrite(
            buffer, FfaVersion.V1_1, MtdShape.Send, Golden.MtdSendHeader, Golden.MtdReceivers(false), [new(0, uint.MaxValue), new(0, 1)], out _));
    }

    [Fact]
    public void Writer_SendWithoutReceivers_Throws() =>
        Should.Throw<ArgumentException>(() => MemoryTransactionDescriptorWriter.TryWrite(
            new byte[256], FfaVersion.V1_1, MtdShape.Send, Golden.MtdSendHeader, [], Golden.MtdConstituents, out _));

    [Fact]
    public void Writer_RetrieveRequestWithConstituents_Throws() =>
        Should.Throw<ArgumentException>(() => MemoryTransactionDescriptorWriter.TryWrite(
            new byte[256], FfaVersion.V1_1, MtdShape.RetrieveRequest, Golden.MtdSendHeader, Golden.MtdReceivers(false), Golden.MtdConstituents, out _));

    [Fact]
    public void EmadsShareComposite_NamesTheFirstEmadThatPointsElsewhere()
    {
        // Give emad[1] its own (valid) composite: a copy of the first, placed after the constituents.
        var bytes = new byte[128 + 48];
        Golden.MtdV1_1.CopyTo(bytes, 0);
        bytes.AsSpan(80, 48).CopyTo(bytes.AsSpan(128));
        bytes.With32(64 + 4, 128);

        MemoryTransactionDescriptorReader.TryRead(bytes, FfaVersion.V1_1, out var view, out var fault).ShouldBeTrue(fault.ToString());

        view.EmadsShareComposite(out var differing).ShouldBeFalse();
        differing.ShouldBe(1);
        view.CompositeOffset.ShouldBe(80);
    }

    [Fact]
    public void Mtd_WithEightByteAlignedComposite_IsAccepted()
    {
        // The Rust arm-ffa crate emits 8-byte aligned composites: move the composite of the v1.0 golden from 64 to 72.
        var bytes = new byte[120];
        Golden.MtdV1_0.AsSpan(0, 64).CopyTo(bytes);
        Golden.MtdV1_0.AsSpan(64).CopyTo(bytes.AsSpan(72));
        bytes.With32(32 + 4, 72).With32(48 + 4, 72);

        MemoryTransactionDescriptorReader.TryRead(bytes, FfaVersion.V1_0, out var view, out var fault).ShouldBeTrue(fault.ToString());

        view.CompositeOffset.ShouldBe(72);
        view.Constituents.SumPageCounts().ShouldBe(5UL);
    }

    [Fact]
    public void Mtd_TrailingBytesAfterTheLastConstituent_AreIgnored()
    {
        var bytes = new byte[4096];
        Golden.MtdV1_1.CopyTo(bytes, 0);
        bytes[200] = 0xFF;

        MemoryTransactionDescriptorReader.TryRead(bytes, FfaVersion.V1_1, out var view, out _).ShouldBeTrue();

        view.DescriptorLength.ShouldBe(128);
    }

    [Fact]
    public void Model_DecodesTheGoldenAndEncodesItBack()
    {
        MemoryTransactionDescriptor.TryDecode(Golden.MtdV1_2, FfaVersion.V1_2, MtdShape.Send, out var model, out var fault).ShouldBeTrue(fault.ToString());

        model.Header.ShouldBe(Golden.MtdSendHeader);
        model.Receivers.ShouldBe(Golden.MtdReceivers(withImpdef: true));
        model.Constituents.ShouldBe(Golden.MtdConstituents);
        model.Encode(FfaVersion.V1_2, MtdShape.Send).ShouldBe(Golden.MtdV1_2);
    }

    private static FfaVersion Version(string text) => FfaVersion.TryParse(text, out var v) ? v : throw new ArgumentException(text, nameof(text));
}
