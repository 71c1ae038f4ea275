namespace Firmament.Abi.Gunyah.Rm;

/// <summary>Why a message cannot be split into packets.</summary>
public enum RmFragmentStatus : byte
{
    Ok,

    /// <summary>The payload is longer than 63 × 232 = 14 616 bytes.</summary>
    PayloadTooLong,

    /// <summary>A message is a request, a reply or a notification; continuation is a packet type only.</summary>
    NotAMessageType,
}

/// <summary>
/// Splits one RM message into packets of at most 240 bytes: the first carries the message type, the others are
/// continuations with the same message ID, sequence number and num_fragments, and each carries up to 232 payload
/// bytes. An empty payload is one header-only packet. Packets are written one at a time into a caller's buffer; the
/// fragmenter allocates nothing.
/// </summary>
/// <example>
/// <code>
/// if (RmFragmenter.TryCreate(RmMessageType.Request, id, seq, payload, out var fragmenter) == RmFragmentStatus.Ok)
/// {
///     Span&lt;byte&gt; packet = stackalloc byte[RmRpc.PacketSize];
///     while (fragmenter.TryWriteNext(packet, out var length)) { Send(packet[..length]); }
/// }
/// </code>
/// </example>
public ref struct RmFragmenter
{
    private readonly ReadOnlySpan<byte> _payload;
    private readonly RmPacketHeader _header;
    private readonly bool _ready;
    private int _next;

    private RmFragmenter(ReadOnlySpan<byte> payload, RmPacketHeader header)
    {
        _payload = payload;
        _header = header;
        _ready = true;
        _next = 0;
    }

    /// <summary>Packets in the message: num_fragments + 1 (0 for a fragmenter that was refused).</summary>
    public readonly int PacketCount => _ready ? _header.Fragments + 1 : 0;

    /// <summary>Packets not written yet.</summary>
    public readonly int Remaining => PacketCount - _next;

    /// <summary>The first packet's header (continuations differ only in their type).</summary>
    public readonly RmPacketHeader Header => _header;

    /// <summary>Packets a payload of this length needs: ceil(length / 232), at least 1.</summary>
    public static int PacketCountFor(int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        return payloadLength == 0 ? 1 : ((payloadLength - 1) / RmRpc.PayloadPerPacket) + 1;
    }

    /// <summary>num_fragments for a payload of this length: packets − 1.</summary>
    public static int FragmentsFor(int payloadLength) => PacketCountFor(payloadLength) - 1;

    /// <summary>Whether a message of this type and length can be sent.</summary>
    public static RmFragmentStatus Check(RmMessageType type, int payloadLength) =>
        type is not (RmMessageType.Request or RmMessageType.Reply or RmMessageType.Notification) ? RmFragmentStatus.NotAMessageType
        : payloadLength > RmRpc.MaxPayload ? RmFragmentStatus.PayloadTooLong
        : RmFragmentStatus.Ok;

    /// <summary>Prepares to split a message; on any status but <see cref="RmFragmentStatus.Ok"/> nothing is written.</summary>
    public static RmFragmentStatus TryCreate(RmMessageType type, uint messageId, ushort sequence, ReadOnlySpan<byte> payload, out RmFragmenter fragmenter)
    {
        var status = Check(type, payload.Length);
        fragmenter = status == RmFragmentStatus.Ok
            ? new RmFragmenter(payload, new RmPacketHeader(type, (byte)FragmentsFor(payload.Length), sequence, messageId))
            : default;
        return status;
    }

    /// <summary>
    /// Writes the next packet into <paramref name="destination"/> (which must hold <see cref="RmRpc.PacketSize"/>
    /// bytes) and gives its length; false when every packet has been written.
    /// </summary>
    public bool TryWriteNext(scoped Span<byte> destination, out int length)
    {
        if (_next >= PacketCount)
        {
            length = 0;
            return false;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, RmRpc.PacketSize, nameof(destination));
        var header = _next == 0 ? _header : _header with { Type = RmMessageType.Continuation };
        header.Write(destination);
        var start = _next * RmRpc.PayloadPerPacket;
        var chunk = _payload[start..Math.Min(_payload.Length, start + RmRpc.PayloadPerPacket)];
        chunk.CopyTo(destination[RmRpc.HeaderSize..]);
        length = RmRpc.HeaderSize + chunk.Length;
        _next++;
        return true;
    }

    /// <summary>Splits a message into new arrays, one per packet (for tools and tests; allocates).</summary>
    public static RmFragmentStatus Split(RmMessageType type, uint messageId, ushort sequence, ReadOnlySpan<byte> payload, out byte[][] packets)
    {
        var status = TryCreate(type, messageId, sequence, payload, out var fragmenter);
        packets = new byte[status == RmFragmentStatus.Ok ? fragmenter.PacketCount : 0][];
        Span<byte> buffer = stackalloc byte[RmRpc.PacketSize];
        for (var i = 0; i < packets.Length && fragmenter.TryWriteNext(buffer, out var length); i++)
        {
            packets[i] = buffer[..length].ToArray();
        }

        return status;
    }
}
