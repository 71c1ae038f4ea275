using System.Buffers.Binary;

namespace Firmament.Abi.Gunyah.Rm;

/// <summary>Sizes and limits of the RM RPC transport (one message-queue message = one packet).</summary>
public static class RmRpc
{
    /// <summary>Largest packet: the RM message queues' max_msg_size.</summary>
    public const int PacketSize = 240;

    /// <summary>Every packet starts with the 8-byte header.</summary>
    public const int HeaderSize = RmPacketHeader.Size;

    /// <summary>Payload bytes per packet: 240 − 8.</summary>
    public const int PayloadPerPacket = PacketSize - HeaderSize;

    /// <summary>Most continuation packets a message may have (num_fragments ≤ 62).</summary>
    public const int MaxFragments = 62;

    /// <summary>Largest message payload: 63 packets × 232 = 14 616 bytes (Linux v17 caps its requests at 14 384).</summary>
    public const int MaxPayload = (MaxFragments + 1) * PayloadPerPacket;

    /// <summary>Depth RM gives the queues of an RPC link.</summary>
    public const int QueueDepth = 8;
}

/// <summary>Byte 1 bits 1:0 of the header.</summary>
public enum RmMessageType : byte
{
    /// <summary>A packet after the first one of a message.</summary>
    Continuation = 0,
    Request = 1,

    /// <summary>Echoes the request's message ID and sequence number; the payload starts with a u32 RM error.</summary>
    Reply = 2,

    /// <summary>Unsolicited, no error word; the sequence number is RM's global counter and means nothing to clients.</summary>
    Notification = 3,
}

/// <summary>Why a packet's header was not read.</summary>
public enum RmHeaderStatus : byte
{
    Ok,

    /// <summary>Fewer than 8 bytes.</summary>
    TooShort,

    /// <summary>Byte 0 bits 3:0 are not API version 1.</summary>
    WrongVersion,

    /// <summary>Byte 0 bits 7:4 are not 2 header words.</summary>
    WrongHeaderWords,

    /// <summary>num_fragments is 63: above the limit of 62.</summary>
    TooManyFragments,
}

/// <summary>
/// The 8-byte header at the start of every RM RPC packet: byte 0 = version 1 | header words 2 &lt;&lt; 4 (always
/// 0x21); byte 1 = type (1:0) | num_fragments (7:2); u16 sequence number LE; u32 message ID LE.
/// <see cref="Fragments"/> is the number of continuation packets that follow the first one, repeated in each.
/// </summary>
public readonly record struct RmPacketHeader(RmMessageType Type, byte Fragments, ushort Sequence, uint MessageId)
{
    public const int Size = 8;

    public const byte ApiVersion = 1;

    public const byte HeaderWords = 2;

    /// <summary>Byte 0 of every valid packet.</summary>
    public const byte FirstByte = (HeaderWords << 4) | ApiVersion;

    /// <summary>Largest value the 6-bit num_fragments field holds (63 is representable but refused by receivers).</summary>
    public const byte MaxEncodableFragments = 63;

    /// <summary>Writes the 8 bytes. A type above 3 or fragments above 63 do not fit the fields and are refused.</summary>
    public void Write(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size, nameof(destination));
        if ((byte)Type > 3 || Fragments > MaxEncodableFragments)
        {
            throw new InvalidOperationException($"Type {Type} or fragments {Fragments} do not fit the header fields.");
        }

        destination[0] = FirstByte;
        destination[1] = (byte)((Fragments << 2) | (byte)Type);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], MessageId);
    }

    /// <summary>
    /// Reads the header of a received packet and checks it as RM's receiver does. The fields are filled whenever the
    /// packet has 8 bytes, even when the status says the packet is to be dropped (for traces).
    /// </summary>
    public static RmHeaderStatus TryRead(ReadOnlySpan<byte> packet, out RmPacketHeader header)
    {
        if (packet.Length < Size)
        {
            header = default;
            return RmHeaderStatus.TooShort;
        }

        var fragments = (byte)(packet[1] >> 2);
        header = new RmPacketHeader(
            (RmMessageType)(packet[1] & 0b11),
            fragments,
            BinaryPrimitives.ReadUInt16LittleEndian(packet[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(packet[4..]));
        return (packet[0] & 0xF) != ApiVersion ? RmHeaderStatus.WrongVersion
            : (packet[0] >> 4) != HeaderWords ? RmHeaderStatus.WrongHeaderWords
            : fragments > RmRpc.MaxFragments ? RmHeaderStatus.TooManyFragments
            : RmHeaderStatus.Ok;
    }

    public override string ToString() =>
        $"{Type} id 0x{MessageId:X8} ({RmMessageIds.Name(MessageId) ?? "unknown"}) seq {Sequence} fragments {Fragments}";
}
