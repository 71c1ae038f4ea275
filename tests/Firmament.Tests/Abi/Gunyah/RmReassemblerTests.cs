using Firmament.Abi.Gunyah.Rm;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Gunyah;

public class RmReassemblerTests
{
    private const uint ConsoleWrite = 0x56000083;

    [Fact]
    public void Reassembler_SinglePacketMessage_CompletesAtOnce()
    {
        var reassembler = new RmReassembler();
        var result = reassembler.Accept(Packet(RmMessageType.Request, 0, 5, ConsoleWrite, 1, 2, 3));

        result.ShouldBe(new RmReceiveResult(RmReceiveOutcome.Complete, new RmPacketHeader(RmMessageType.Request, 0, 5, ConsoleWrite)));
        reassembler.Payload.ToArray().ShouldBe(new byte[] { 1, 2, 3 });
        reassembler.IsPartial.ShouldBeFalse();
    }

    [Fact]
    public void Reassembler_HeaderOnlyMessage_CompletesWithAnEmptyPayload()
    {
        var reassembler = new RmReassembler();
        reassembler.Accept(Packet(RmMessageType.Request, 0, 5, 0x56000024)).Outcome.ShouldBe(RmReceiveOutcome.Complete);
        reassembler.Payload.Length.ShouldBe(0);
    }

    [Fact]
    public void Reassembler_PacketShorterThanTheHeader_IsDroppedAndReported()
    {
        var reassembler = new RmReassembler();
        reassembler.Accept([0x21, 0x01, 0x00]).ShouldBe(new RmReceiveResult(RmReceiveOutcome.DroppedTooShort, default));
        reassembler.IsPartial.ShouldBeFalse();
        reassembler.Payload.Length.ShouldBe(0);
    }

    [Fact]
    public void Reassembler_WrongVersion_IsDroppedAndReported()
    {
        var packet = Packet(RmMessageType.Request, 0, 5, ConsoleWrite, 1);
        packet[0] = 0x20;
        new RmReassembler().Accept(packet).Outcome.ShouldBe(RmReceiveOutcome.DroppedWrongVersion);
    }

    [Fact]
    public void Reassembler_WrongHeaderWords_IsDroppedAndReported()
    {
        var packet = Packet(RmMessageType.Request, 0, 5, ConsoleWrite, 1);
        packet[0] = 0x11;
        new RmReassembler().Accept(packet).Outcome.ShouldBe(RmReceiveOutcome.DroppedWrongHeaderWords);
    }

    [Fact]
    public void Reassembler_MoreThan62Fragments_IsDroppedAndReported()
    {
        var reassembler = new RmReassembler();
        var result = reassembler.Accept(Packet(RmMessageType.Request, 63, 5, ConsoleWrite, 1));
        result.Outcome.ShouldBe(RmReceiveOutcome.DroppedTooManyFragments);
        result.Header.Fragments.ShouldBe((byte)63);
        reassembler.IsPartial.ShouldBeFalse();
    }

    [Fact]
    public void Reassembler_PacketLongerThan240Bytes_IsDroppedAndReported()
    {
        var reassembler = new RmReassembler();
        reassembler.Accept(Packet(RmMessageType.Request, 0, 5, ConsoleWrite, new byte[233])).Outcome.ShouldBe(RmReceiveOutcome.DroppedTooLong);
        reassembler.Accept(Packet(RmMessageType.Request, 0, 5, ConsoleWrite, new byte[232])).Outcome.ShouldBe(RmReceiveOutcome.Complete);
    }

    [Fact]
    public void Reassembler_NewRequestWhileAMessageIsPartial_DiscardsThePartialAndReportsIt()
    {
        var reassembler = new RmReassembler();
        var partial = new RmPacketHeader(RmMessageType.Request, 2, 5, ConsoleWrite);
        reassembler.Accept(Packet(RmMessageType.Request, 2, 5, ConsoleWrite, Fill(232, 0xAA))).Outcome.ShouldBe(RmReceiveOutcome.Pending);
        reassembler.Accept(Packet(RmMessageType.Continuation, 2, 5, ConsoleWrite, Fill(232, 0xAA))).Outcome.ShouldBe(RmReceiveOutcome.Pending);

        var result = reassembler.Accept(Packet(RmMessageType.Reply, 0, 6, 0x56000024, 0, 0, 0, 0));

        result.ShouldBe(new RmReceiveResult(RmReceiveOutcome.Complete, new RmPacketHeader(RmMessageType.Reply, 0, 6, 0x56000024), partial));
        reassembler.Payload.ToArray().ShouldBe(new byte[4]);
        reassembler.IsPartial.ShouldBeFalse();

        // The discarded message's last continuation now has nothing to join.
        reassembler.Accept(Packet(RmMessageType.Continuation, 2, 5, ConsoleWrite, 1)).Outcome.ShouldBe(RmReceiveOutcome.DroppedUnexpectedContinuation);
    }

    [Fact]
    public void Reassembler_NewMultiPacketMessageWhilePartial_StartsOverFromItsFirstPacket()
    {
        var reassembler = new RmReassembler();
        reassembler.Accept(Packet(RmMessageType.Request, 1, 5, ConsoleWrite, Fill(232, 0xAA)));

        var result = reassembler.Accept(Packet(RmMessageType.Request, 1, 6, ConsoleWrite, Fill(232, 0xBB)));
        result.Outcome.ShouldBe(RmReceiveOutcome.Pending);
        result.DiscardedPartial.ShouldBe(new RmPacketHeader(RmMessageType.Request, 1, 5, ConsoleWrite));

        reassembler.Accept(Packet(RmMessageType.Continuation, 1, 6, ConsoleWrite, 0xCC)).Outcome.ShouldBe(RmReceiveOutcome.Complete);
        reassembler.Payload.ToArray().ShouldBe([.. Fill(232, 0xBB), 0xCC]);
    }

    [Fact]
    public void Reassembler_ContinuationWithNoPartialMessage_IsDroppedAndReported()
    {
        var reassembler = new RmReassembler();
        var result = reassembler.Accept(Packet(RmMessageType.Continuation, 1, 5, ConsoleWrite, 1));
        result.Outcome.ShouldBe(RmReceiveOutcome.DroppedUnexpectedContinuation);
        result.IsDropped.ShouldBeTrue();
        reassembler.IsPartial.ShouldBeFalse();
    }

    [Fact]
    public void Reassembler_ContinuationWithMismatchedMessageId_IsDroppedAndReported() =>
        MismatchIsDroppedAndPartialKept(Packet(RmMessageType.Continuation, 1, 5, ConsoleWrite + 1, 0xEE), RmReceiveOutcome.DroppedMismatchedMessageId);

    [Fact]
    public void Reassembler_ContinuationWithMismatchedSeq_IsDroppedAndReported() =>
        MismatchIsDroppedAndPartialKept(Packet(RmMessageType.Continuation, 1, 6, ConsoleWrite, 0xEE), RmReceiveOutcome.DroppedMismatchedSequence);

    [Fact]
    public void Reassembler_ContinuationWithMismatchedFragmentCount_IsDroppedAndReported() =>
        MismatchIsDroppedAndPartialKept(Packet(RmMessageType.Continuation, 2, 5, ConsoleWrite, 0xEE), RmReceiveOutcome.DroppedMismatchedFragments);

    [Fact]
    public void Reassembler_BadPacketWhileAMessageIsPartial_LeavesThePartialAlone()
    {
        var reassembler = new RmReassembler();
        reassembler.Accept(Packet(RmMessageType.Request, 1, 5, ConsoleWrite, 1, 2));
        reassembler.Accept([0x21]).Outcome.ShouldBe(RmReceiveOutcome.DroppedTooShort);
        reassembler.Accept(Packet(RmMessageType.Request, 63, 5, ConsoleWrite)).Outcome.ShouldBe(RmReceiveOutcome.DroppedTooManyFragments);
        reassembler.IsPartial.ShouldBeTrue();
        reassembler.Accept(Packet(RmMessageType.Continuation, 1, 5, ConsoleWrite, 3)).Outcome.ShouldBe(RmReceiveOutcome.Complete);
        reassembler.Payload.ToArray().ShouldBe(new byte[] { 1, 2, 3 });
    }

    [Fact]
    public void Reassembler_Reset_ForgetsThePartialMessage()
    {
        var reassembler = new RmReassembler();
        reassembler.Accept(Packet(RmMessageType.Request, 1, 5, ConsoleWrite, 1));
        reassembler.RemainingFragments.ShouldBe(1);
        reassembler.Reset();
        reassembler.IsPartial.ShouldBeFalse();
        reassembler.Accept(Packet(RmMessageType.Continuation, 1, 5, ConsoleWrite, 2)).Outcome.ShouldBe(RmReceiveOutcome.DroppedUnexpectedContinuation);
    }

    [Fact]
    public void Reassembler_AndFragmenter_InSteadyState_AllocateNothing()
    {
        var reassembler = new RmReassembler();
        var payload = Fill(RmRpc.MaxPayload, 0x5A);
        var packet = new byte[RmRpc.PacketSize];
        RunMessage(reassembler, payload, packet); // warm up (JIT, statics)

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            RunMessage(reassembler, payload, packet);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
        reassembler.Payload.Length.ShouldBe(RmRpc.MaxPayload);

        static void RunMessage(RmReassembler reassembler, byte[] payload, byte[] packet)
        {
            RmFragmenter.TryCreate(RmMessageType.Request, 0x56000083, 1, payload, out var fragmenter);
            while (fragmenter.TryWriteNext(packet, out var length))
            {
                reassembler.Accept(packet.AsSpan(0, length));
            }
        }
    }

    private static void MismatchIsDroppedAndPartialKept(byte[] badContinuation, RmReceiveOutcome expected)
    {
        var reassembler = new RmReassembler();
        reassembler.Accept(Packet(RmMessageType.Request, 1, 5, ConsoleWrite, Fill(232, 0xAA))).Outcome.ShouldBe(RmReceiveOutcome.Pending);

        var result = reassembler.Accept(badContinuation);

        result.Outcome.ShouldBe(expected);
        result.IsDropped.ShouldBeTrue();
        result.DiscardedPartial.ShouldBeNull();
        reassembler.IsPartial.ShouldBeTrue();
        reassembler.RemainingFragments.ShouldBe(1);
        reassembler.Payload.Length.ShouldBe(0);

        // The right continuation still completes the message, without the dropped bytes.
        reassembler.Accept(Packet(RmMessageType.Continuation, 1, 5, ConsoleWrite, 0x11)).Outcome.ShouldBe(RmReceiveOutcome.Complete);
        reassembler.Payload.ToArray().ShouldBe([.. Fill(232, 0xAA), 0x11]);
    }

    private static byte[] Fill(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static byte[] Packet(RmMessageType type, byte fragments, ushort seq, uint id, params byte[] payload)
    {
        var packet = new byte[RmRpc.HeaderSize + payload.Length];
        new RmPacketHeader(type, fragments, seq, id).Write(packet);
        payload.CopyTo(packet, RmRpc.HeaderSize);
        return packet;
    }
}
