using Firmament.Abi.Gunyah.Rm;
using FsCheck;
using FsCheck.Fluent;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Gunyah;

public class RmPacketTests
{
    [Fact]
    public void Header_OfAConsoleOpenRequestWithSeq7_IsTheGoldenBytes()
    {
        var bytes = new byte[8];
        new RmPacketHeader(RmMessageType.Request, 0, 7, 0x56000081).Write(bytes);
        bytes.ShouldBe(new byte[] { 0x21, 0x01, 0x07, 0x00, 0x81, 0x00, 0x00, 0x56 });
    }

    [Theory]
    [InlineData(RmMessageType.Reply, 2, 0x1234, 0x51000012u, new byte[] { 0x21, 0x0A, 0x34, 0x12, 0x12, 0x00, 0x00, 0x51 })]
    [InlineData(RmMessageType.Notification, 0, 0xFFFF, 0x56100080u, new byte[] { 0x21, 0x03, 0xFF, 0xFF, 0x80, 0x00, 0x10, 0x56 })]
    [InlineData(RmMessageType.Continuation, 62, 1, 0x56000020u, new byte[] { 0x21, 0xF8, 0x01, 0x00, 0x20, 0x00, 0x00, 0x56 })]
    public void Header_WritesAndReadsTheGoldenBytes(RmMessageType type, int fragments, int seq, uint id, byte[] golden)
    {
        var header = new RmPacketHeader(type, (byte)fragments, (ushort)seq, id);
        var bytes = new byte[8];
        header.Write(bytes);
        bytes.ShouldBe(golden);
        RmPacketHeader.TryRead(golden, out var back).ShouldBe(RmHeaderStatus.Ok);
        back.ShouldBe(header);
    }

    [Theory]
    [InlineData(new byte[] { 0x21, 0x01, 0x07, 0x00, 0x81, 0x00, 0x00 }, RmHeaderStatus.TooShort)]
    [InlineData(new byte[] { 0x22, 0x01, 0x07, 0x00, 0x81, 0x00, 0x00, 0x56 }, RmHeaderStatus.WrongVersion)]
    [InlineData(new byte[] { 0x31, 0x01, 0x07, 0x00, 0x81, 0x00, 0x00, 0x56 }, RmHeaderStatus.WrongHeaderWords)]
    [InlineData(new byte[] { 0x21, 0xFD, 0x07, 0x00, 0x81, 0x00, 0x00, 0x56 }, RmHeaderStatus.TooManyFragments)]
    public void Header_TryRead_RefusesWhatReceiversDrop(byte[] packet, RmHeaderStatus status) =>
        RmPacketHeader.TryRead(packet, out _).ShouldBe(status);

    [Fact]
    public void Header_RoundTripsEveryEncodableValue()
    {
        var headers =
            from type in Gen.Elements(Enum.GetValues<RmMessageType>())
            from fragments in Gen.Choose(0, RmRpc.MaxFragments)
            from seq in Gen.Choose(0, 0xFFFF)
            from id in GunyahGen.AnyU32
            select new RmPacketHeader(type, (byte)fragments, (ushort)seq, id);
        Prop.ForAll(Arb.From(headers), static header =>
        {
            var bytes = new byte[8];
            header.Write(bytes);
            bytes[0].ShouldBe((byte)0x21);
            RmPacketHeader.TryRead(bytes, out var back).ShouldBe(RmHeaderStatus.Ok);
            back.ShouldBe(header);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Header_ReadingAnyBytes_NeverThrows()
    {
        Prop.ForAll(Arb.From(Gen.ArrayOf(Gen.Choose(0, 255).Select(static b => (byte)b))), static bytes =>
        {
            _ = RmPacketHeader.TryRead(bytes, out _);
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(232, 1)]
    [InlineData(233, 2)]
    [InlineData(464, 2)]
    [InlineData(465, 3)]
    [InlineData(14_616, 63)]
    public void Fragmenter_SendsCeilLengthOver232Packets_AtLeastOne(int length, int packets)
    {
        RmFragmenter.PacketCountFor(length).ShouldBe(packets);
        RmFragmenter.Split(RmMessageType.Request, 0x56000083, 1, new byte[length], out var split).ShouldBe(RmFragmentStatus.Ok);
        split.Length.ShouldBe(packets);
        split.ShouldAllBe(p => p.Length <= RmRpc.PacketSize && p[1] >> 2 == packets - 1);
    }

    [Fact]
    public void Fragmenter_LongerThan14616Bytes_IsRefusedAndWritesNothing()
    {
        var status = RmFragmenter.TryCreate(RmMessageType.Reply, 0x56000020, 3, new byte[RmRpc.MaxPayload + 1], out var fragmenter);
        status.ShouldBe(RmFragmentStatus.PayloadTooLong);
        fragmenter.PacketCount.ShouldBe(0);
        fragmenter.TryWriteNext(new byte[RmRpc.PacketSize], out _).ShouldBeFalse();
    }

    [Fact]
    public void Fragmenter_ContinuationAsAMessageType_IsRefused() =>
        RmFragmenter.Split(RmMessageType.Continuation, 0x56000020, 3, new byte[4], out var packets).ShouldBe(RmFragmentStatus.NotAMessageType);

    [Fact]
    public void Fragmenter_EmptyPayload_IsOneHeaderOnlyPacket()
    {
        RmFragmenter.Split(RmMessageType.Request, 0x56000024, 9, [], out var packets).ShouldBe(RmFragmentStatus.Ok);
        packets.Length.ShouldBe(1);
        packets[0].ShouldBe(new byte[] { 0x21, 0x01, 0x09, 0x00, 0x24, 0x00, 0x00, 0x56 });
    }

    [Fact]
    public void Fragmenter_ContinuationsRepeatIdSeqAndFragmentCount_WithType0()
    {
        var payload = Enumerable.Range(0, 500).Select(static i => (byte)i).ToArray();
        RmFragmenter.Split(RmMessageType.Notification, 0x56100080, 0x4242, payload, out var packets).ShouldBe(RmFragmentStatus.Ok);
        packets.Select(static p => p.Length).ShouldBe([240, 240, 8 + 36]);
        RmPacketHeader.TryRead(packets[0], out var first).ShouldBe(RmHeaderStatus.Ok);
        first.ShouldBe(new RmPacketHeader(RmMessageType.Notification, 2, 0x4242, 0x56100080));
        foreach (var packet in packets.Skip(1))
        {
            RmPacketHeader.TryRead(packet, out var next).ShouldBe(RmHeaderStatus.Ok);
            next.ShouldBe(first with { Type = RmMessageType.Continuation });
        }

        packets.SelectMany(static p => p.Skip(8)).ShouldBe(payload);
    }

    [Fact]
    public void FragmenterThenReassembler_GiveBackAnyPayloadUpTo14616Bytes()
    {
        var messages =
            from length in Gen.Frequency(
                (3, Gen.Choose(0, RmRpc.MaxPayload)),
                (1, Gen.Elements(0, 1, 231, 232, 233, 464, 465, RmRpc.MaxPayload - 1, RmRpc.MaxPayload)))
            from seed in Gen.Choose(0, int.MaxValue)
            from type in Gen.Elements(RmMessageType.Request, RmMessageType.Reply, RmMessageType.Notification)
            from seq in Gen.Choose(0, 0xFFFF)
            from id in GunyahGen.AnyU32
            select (length, seed, type, (ushort)seq, id);
        var reassembler = new RmReassembler();
        Prop.ForAll(Arb.From(messages), m =>
        {
            var (length, seed, type, seq, id) = m;
            var payload = new byte[length];
            new Random(seed).NextBytes(payload);

            RmFragmenter.TryCreate(type, id, seq, payload, out var fragmenter).ShouldBe(RmFragmentStatus.Ok);
            var expectedPackets = Math.Max(1, (length + 231) / 232);
            fragmenter.PacketCount.ShouldBe(expectedPackets);

            var packet = new byte[RmRpc.PacketSize];
            var count = 0;
            RmReceiveResult last = default;
            while (fragmenter.TryWriteNext(packet, out var size))
            {
                size.ShouldBeLessThanOrEqualTo(RmRpc.PacketSize);
                count++;
                last = reassembler.Accept(packet.AsSpan(0, size));
                last.Outcome.ShouldBe(count == expectedPackets ? RmReceiveOutcome.Complete : RmReceiveOutcome.Pending);
                last.DiscardedPartial.ShouldBeNull();
            }

            count.ShouldBe(expectedPackets);
            reassembler.Header.ShouldBe(new RmPacketHeader(type, (byte)(expectedPackets - 1), seq, id));
            reassembler.Payload.ToArray().ShouldBe(payload);
            reassembler.IsPartial.ShouldBeFalse();
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ReplyPayload_StartsWithTheRmErrorWord()
    {
        byte[] payload = [0x06, 0x00, 0x00, 0x00, 0xAA];
        RmErrors.TryReadReply(payload, out var error, out var data).ShouldBeTrue();
        error.ShouldBe(RmError.ArgumentInvalid);
        data.ToArray().ShouldBe(new byte[] { 0xAA });
        RmErrors.TryReadReply(payload.AsSpan(0, 3), out _, out _).ShouldBeFalse();

        var written = new byte[4];
        RmErrors.WriteReplyError(written, RmError.Unimplemented);
        written.ShouldBe(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF });
    }

    [Fact]
    public void MessageIds_HaveNamesAndNotificationsHaveBit20()
    {
        RmMessageIds.Name(0x56000081).ShouldBe("VM_CONSOLE_OPEN");
        RmMessageIds.Name(0x56000084).ShouldBe("VM_CONSOLE_FLUSH");
        RmMessageIds.Name(0x51000017).ShouldBe("MEM_NOTIFY");
        RmMessageIds.Name(0x56100080).ShouldBe("VM_CONSOLE_CHARS");
        RmMessageIds.Name(0x12345678).ShouldBeNull();
        foreach (var id in Enum.GetValues<RmMessageId>())
        {
            RmMessageIds.Name(id).ShouldNotBeNull();
            RmMessageIds.IsNotification((uint)id).ShouldBe(id.ToString().EndsWith("Notification", StringComparison.Ordinal));
        }

        RmMessageIds.All.Count.ShouldBe(Enum.GetValues<RmMessageId>().Length);
    }

    [Fact]
    public void VmState_PacksVmOsAndAppStatus()
    {
        RmVmStates.PackState(RmVmState.Running, RmOsState.Run, 0x1234).ShouldBe(0x1234_0403u);
        RmVmStates.UnpackState(0x1234_0403).ShouldBe((RmVmState.Running, RmOsState.Run, (ushort)0x1234));
        RmVmState.InitFailed.Name().ShouldBe("INIT_FAILED");
    }
}
