using System.Buffers.Binary;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>
/// The header of an indirect message (FFA_MSG_SEND2), at the start of the sender's TX buffer and, once delivered,
/// of the receiver's RX buffer.
/// <code>
///  0 u32 flags     MBZ
///  4 u32 reserved  MBZ
///  8 u32 offset    of the payload from the start of the buffer
/// 12 u16 receiver  } read together as send_recv_id: sender in bits 31:16, receiver in bits 15:0
/// 14 u16 sender    }
/// 16 u32 size      of the payload
/// 20 u32 reserved  MBZ   (v1.2)
/// 24 16  UUID            (v1.2)
/// </code>
/// The v1.1 header is 20 bytes, the v1.2 header 40. Readers find the payload at <see cref="Offset"/>, never at the
/// header size: Xen rewrites it, and Linux kernels before the 2025 fix sent 36-byte v1.2 headers (no reserved word at
/// 20, UUID at 20, payload at 36). Such a header is rejected under v1.2 rules (offset 36 &lt; 40), as Hafnium does;
/// the describer recognises it and says so.
/// </summary>
/// <param name="Flags">Offset 0, MBZ.</param>
/// <param name="Offset">Offset 8: where the payload starts, from the start of the buffer.</param>
/// <param name="Sender">Offset 14 (bits 31:16 of send_recv_id).</param>
/// <param name="Receiver">Offset 12 (bits 15:0 of send_recv_id).</param>
/// <param name="Size">Offset 16: payload bytes.</param>
/// <param name="Uuid">Offset 24, v1.2 only: the protocol UUID (Nil allowed). Nil when read from a v1.1 header.</param>
public readonly record struct IndirectMessageHeader(uint Flags, uint Offset, EndpointId Sender, EndpointId Receiver, uint Size, Uuid Uuid)
{
    public const int SizeV1_1 = 20;
    public const int SizeV1_2 = 40;

    /// <summary>A header for a payload placed right after it.</summary>
    public static IndirectMessageHeader For(FfaVersion version, EndpointId sender, EndpointId receiver, uint size, Uuid uuid = default) =>
        new(0, (uint)SizeFor(version), sender, receiver, size, uuid);

    /// <summary>20 for v1.1, 40 for v1.2 and later 1.x. Indirect messaging does not exist in v1.0.</summary>
    public static int SizeFor(FfaVersion version) => DescriptorLayout.Of(version) switch
    {
        LayoutGeneration.V1_1 => SizeV1_1,
        LayoutGeneration.V1_2 => SizeV1_2,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "Indirect messages exist from v1.1."),
    };

    /// <summary><c>send_recv_id</c>: sender in bits 31:16, receiver in bits 15:0.</summary>
    public SenderReceiver SendRecvId => new(Sender, Receiver);

    /// <summary>The payload inside <paramref name="buffer"/>; valid for a header that <see cref="TryRead"/> returned.</summary>
    public ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> buffer) => buffer.Slice((int)Offset, (int)Size);

    /// <summary>
    /// Reads the header at the start of <paramref name="buffer"/> (the whole TX or RX buffer, or at least header and
    /// payload) with the rules of <paramref name="version"/>. Faults: <see cref="DescriptorError.UnsupportedLayout"/>
    /// (v1.0), <see cref="DescriptorError.Truncated"/>, <see cref="DescriptorError.MbzBitsSet"/> (flags),
    /// <see cref="DescriptorError.ReservedNotZero"/>, <see cref="DescriptorError.PayloadOffsetTooSmall"/>,
    /// <see cref="DescriptorError.PayloadOutOfRange"/> (computed without overflow).
    /// Sender = receiver, a zero size, and the sender matching the caller are the partition manager's checks.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, FfaVersion version, out IndirectMessageHeader header, out DescriptorFault fault)
    {
        header = default;
        var generation = DescriptorLayout.Of(version);
        if (generation is not (LayoutGeneration.V1_1 or LayoutGeneration.V1_2))
        {
            return DescriptorFault.Fail(DescriptorError.UnsupportedLayout, 0, out fault);
        }

        var size = generation == LayoutGeneration.V1_1 ? SizeV1_1 : SizeV1_2;
        if (buffer.Length < size)
        {
            return DescriptorFault.Fail(DescriptorError.Truncated, 0, out fault);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(buffer) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.MbzBitsSet, 0, out fault);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.ReservedNotZero, 4, out fault);
        }

        if (size == SizeV1_2 && BinaryPrimitives.ReadUInt32LittleEndian(buffer[20..]) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.ReservedNotZero, 20, out fault);
        }

        var offset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[8..]);
        if (offset < size)
        {
            return DescriptorFault.Fail(DescriptorError.PayloadOffsetTooSmall, 8, out fault);
        }

        var payloadSize = BinaryPrimitives.ReadUInt32LittleEndian(buffer[16..]);
        if ((ulong)offset + payloadSize > (ulong)buffer.Length)
        {
            return DescriptorFault.Fail(DescriptorError.PayloadOutOfRange, 16, out fault);
        }

        var sendRecv = SenderReceiver.Unpack(BinaryPrimitives.ReadUInt32LittleEndian(buffer[12..]));
        header = new IndirectMessageHeader(
            0, offset, sendRecv.Sender, sendRecv.Receiver, payloadSize, size == SizeV1_2 ? Uuid.FromBytes(buffer[24..]) : Uuid.Nil);
        fault = default;
        return true;
    }

    /// <summary>
    /// Writes the header (not the payload) in the layout of <paramref name="version"/>; a v1.1 header has no UUID
    /// field, so the UUID is dropped. False, with nothing written, if the destination is shorter than the header.
    /// </summary>
    public bool TryWrite(Span<byte> destination, FfaVersion version, out int bytesWritten)
    {
        var size = SizeFor(version);
        bytesWritten = 0;
        if (destination.Length < size)
        {
            return false;
        }

        var d = destination[..size];
        d.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(d, Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], SendRecvId.Pack());
        BinaryPrimitives.WriteUInt32LittleEndian(d[16..], Size);
        if (size == SizeV1_2)
        {
            Uuid.WriteBytes(d[24..]);
        }

        bytesWritten = size;
        return true;
    }
}
