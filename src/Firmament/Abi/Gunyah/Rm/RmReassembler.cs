namespace Firmament.Abi.Gunyah.Rm;

/// <summary>What the reassembler did with one packet.</summary>
public enum RmReceiveOutcome : byte
{
    /// <summary>The packet completed a message: <see cref="RmReassembler.Payload"/> holds it.</summary>
    Complete,

    /// <summary>The packet was kept; the message waits for more continuations.</summary>
    Pending,

    /// <summary>Fewer than 8 bytes: dropped.</summary>
    DroppedTooShort,

    /// <summary>Longer than one 240-byte message-queue message: dropped (a rule of this model; RM asserts).</summary>
    DroppedTooLong,

    /// <summary>Byte 0 bits 3:0 not version 1: dropped.</summary>
    DroppedWrongVersion,

    /// <summary>Byte 0 bits 7:4 not 2 header words: dropped.</summary>
    DroppedWrongHeaderWords,

    /// <summary>num_fragments above 62: dropped.</summary>
    DroppedTooManyFragments,

    /// <summary>A continuation while no message is partial: dropped.</summary>
    DroppedUnexpectedContinuation,

    /// <summary>A continuation whose message ID is not the partial message's: dropped, the partial kept.</summary>
    DroppedMismatchedMessageId,

    /// <summary>A continuation whose sequence number is not the partial message's: dropped, the partial kept.</summary>
    DroppedMismatchedSequence,

    /// <summary>A continuation whose num_fragments is not the partial message's: dropped, the partial kept.</summary>
    DroppedMismatchedFragments,
}

/// <summary>
/// The report for one packet: the outcome, the packet's header (default when it had fewer than 8 bytes) and, when a
/// new message began while another was partial, the first header of the message that was discarded.
/// </summary>
public readonly record struct RmReceiveResult(RmReceiveOutcome Outcome, RmPacketHeader Header, RmPacketHeader? DiscardedPartial = null)
{
    public bool IsComplete => Outcome == RmReceiveOutcome.Complete;

    public bool IsDropped => Outcome >= RmReceiveOutcome.DroppedTooShort;
}

/// <summary>
/// Rebuilds RM messages from packets, applying the receiver rules of RM's transport: a short packet, a bad version
/// or header size, or more than 62 fragments is dropped; a new request, reply or notification while a message is
/// partial discards the partial one (reported) and starts anew; a continuation with no partial message, or whose
/// message ID, sequence number or num_fragments differ from the partial message's, is dropped and the partial kept.
/// Every outcome is a value. One 14 616-byte buffer is allocated with the reassembler and reused for every message:
/// <see cref="Payload"/> is valid until the next <see cref="Accept"/>.
/// </summary>
/// <remarks>
/// RM's own receiver never delivers a message whose first packet is header-only (an empty payload); this model
/// delivers it, since the sender rules make an empty message one header-only packet. Linux aborts on the cases RM
/// drops; the caller sees the same outcomes and chooses.
/// </remarks>
public sealed class RmReassembler
{
    private readonly byte[] _buffer = new byte[RmRpc.MaxPayload];
    private RmPacketHeader _first;
    private int _length;
    private int _remaining;
    private bool _partial;
    private bool _complete;

    /// <summary>Whether a message has begun and waits for continuations.</summary>
    public bool IsPartial => _partial;

    /// <summary>Continuations the partial message still needs.</summary>
    public int RemainingFragments => _partial ? _remaining : 0;

    /// <summary>The first header of the partial message, or of the message just completed.</summary>
    public RmPacketHeader Header => _first;

    /// <summary>The payload of the message just completed; empty otherwise. Valid until the next <see cref="Accept"/>.</summary>
    public ReadOnlySpan<byte> Payload => _complete ? _buffer.AsSpan(0, _length) : [];

    /// <summary>Forgets any partial message.</summary>
    public void Reset()
    {
        _partial = false;
        _complete = false;
        _length = 0;
        _remaining = 0;
        _first = default;
    }

    /// <summary>Takes one packet (one message-queue message) and says what became of it.</summary>
    public RmReceiveResult Accept(ReadOnlySpan<byte> packet)
    {
        _complete = false;
        var status = RmPacketHeader.TryRead(packet, out var header);
        var dropped = status switch
        {
            RmHeaderStatus.TooShort => RmReceiveOutcome.DroppedTooShort,
            RmHeaderStatus.WrongVersion => RmReceiveOutcome.DroppedWrongVersion,
            RmHeaderStatus.WrongHeaderWords => RmReceiveOutcome.DroppedWrongHeaderWords,
            RmHeaderStatus.TooManyFragments => RmReceiveOutcome.DroppedTooManyFragments,
            _ when packet.Length > RmRpc.PacketSize => RmReceiveOutcome.DroppedTooLong,
            _ => RmReceiveOutcome.Complete,
        };
        if (dropped != RmReceiveOutcome.Complete)
        {
            return new RmReceiveResult(dropped, header);
        }

        var body = packet[RmRpc.HeaderSize..];
        return header.Type == RmMessageType.Continuation ? Continue(header, body) : Begin(header, body);
    }

    private RmReceiveResult Begin(RmPacketHeader header, ReadOnlySpan<byte> body)
    {
        RmPacketHeader? discarded = _partial ? _first : null;
        _first = header;
        body.CopyTo(_buffer);
        _length = body.Length;
        _remaining = header.Fragments;
        _partial = _remaining > 0;
        _complete = !_partial;
        return new RmReceiveResult(_complete ? RmReceiveOutcome.Complete : RmReceiveOutcome.Pending, header, discarded);
    }

    private RmReceiveResult Continue(RmPacketHeader header, ReadOnlySpan<byte> body)
    {
        var mismatch = !_partial ? RmReceiveOutcome.DroppedUnexpectedContinuation
            : header.MessageId != _first.MessageId ? RmReceiveOutcome.DroppedMismatchedMessageId
            : header.Sequence != _first.Sequence ? RmReceiveOutcome.DroppedMismatchedSequence
            : header.Fragments != _first.Fragments ? RmReceiveOutcome.DroppedMismatchedFragments
            : RmReceiveOutcome.Pending;
        if (mismatch != RmReceiveOutcome.Pending)
        {
            return new RmReceiveResult(mismatch, header);
        }

        // At most 62 continuations of at most 232 bytes follow a first packet of at most 232: the buffer holds them.
        body.CopyTo(_buffer.AsSpan(_length));
        _length += body.Length;
        _remaining--;
        _partial = _remaining > 0;
        _complete = !_partial;
        return new RmReceiveResult(_complete ? RmReceiveOutcome.Complete : RmReceiveOutcome.Pending, header);
    }
}
