using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>
/// The endpoint RX/TX descriptor (v1.1+): what the hypervisor puts in its own TX buffer when it forwards FFA_RXTX_MAP
/// for a VM (x1 = x2 = x3 = 0), so the SPMC can reach that VM's buffers.
/// <code>
///  0 u16 endpoint ID
///  2 u16 reserved             MBZ
///  4 u32 RX composite offset  8-byte aligned, from the start of this descriptor
///  8 u32 TX composite offset  8-byte aligned
/// 12 u32 pad (Hafnium); the writer puts the RX composite at 16 and the TX composite after it
/// </code>
/// Limits: the v1.0 layout (Xen's: address-range counts at 4 and 8, constituents from 12) is not supported. The
/// reader checks each composite as a memory transaction's (inside the descriptor, reserved zero, constituents
/// aligned, page counts summed) and that the two do not overlap; that RX and TX have the same size is the SPMC's rule.
/// </summary>
public static class EndpointRxTxDescriptor
{
    /// <summary>The fields before the pad.</summary>
    public const int HeaderSize = 12;

    /// <summary>Where the writer places the RX composite.</summary>
    public const int FirstCompositeOffset = 16;

    public const int RxOffsetField = 4;
    public const int TxOffsetField = 8;

    public static int RequiredLength(int rxConstituentCount, int txConstituentCount) =>
        checked(FirstCompositeOffset + Composites.Length(rxConstituentCount) + Composites.Length(txConstituentCount));

    public static bool TryRead(ReadOnlySpan<byte> bytes, out EndpointRxTxView view, out DescriptorFault fault)
    {
        view = default;
        if (bytes.Length < HeaderSize)
        {
            return DescriptorFault.Fail(DescriptorError.Truncated, 0, out fault);
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.ReservedNotZero, 2, out fault);
        }

        if (!TryCheckComposite(bytes, RxOffsetField, out var rx, out var rxEnd, out fault)
            || !TryCheckComposite(bytes, TxOffsetField, out var tx, out var txEnd, out fault))
        {
            return false;
        }

        if (rx < txEnd && tx < rxEnd)
        {
            return DescriptorFault.Fail(DescriptorError.CompositeOffsetOutOfRange, TxOffsetField, out fault);
        }

        view = new EndpointRxTxView(bytes, rx, tx, Math.Max(rxEnd, txEnd));
        fault = default;
        return true;
    }

    /// <summary>False, with nothing written, if <paramref name="destination"/> is too small.</summary>
    public static bool TryWrite(
        Span<byte> destination,
        EndpointId endpoint,
        ReadOnlySpan<MemoryRegionConstituent> rx,
        ReadOnlySpan<MemoryRegionConstituent> tx,
        out int bytesWritten)
    {
        bytesWritten = 0;
        var rxPages = Composites.CheckWritable(rx, nameof(rx));
        var txPages = Composites.CheckWritable(tx, nameof(tx));
        var length = RequiredLength(rx.Length, tx.Length);
        if (destination.Length < length)
        {
            return false;
        }

        var d = destination[..length];
        d.Clear();
        var txOffset = FirstCompositeOffset + Composites.Length(rx.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(d, endpoint.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(d[RxOffsetField..], FirstCompositeOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(d[TxOffsetField..], (uint)txOffset);
        Composites.Write(d[FirstCompositeOffset..], rx, rxPages);
        Composites.Write(d[txOffset..], tx, txPages);
        bytesWritten = length;
        return true;
    }

    private static bool TryCheckComposite(ReadOnlySpan<byte> bytes, int field, out int offset, out int end, out DescriptorFault fault)
    {
        offset = 0;
        end = 0;
        var value = BinaryPrimitives.ReadUInt32LittleEndian(bytes[field..]);
        if (value < HeaderSize || (long)value + CompositeMemoryRegion.HeaderSize > bytes.Length)
        {
            return DescriptorFault.Fail(DescriptorError.CompositeOffsetOutOfRange, field, out fault);
        }

        if (value % 8 != 0)
        {
            return DescriptorFault.Fail(DescriptorError.CompositeOffsetMisaligned, field, out fault);
        }

        if (!Composites.TryCheck(bytes, bytes.Length, (int)value, out var count, out _, out fault))
        {
            return false;
        }

        offset = (int)value;
        end = offset + Composites.Length(count);
        return true;
    }
}

/// <summary>A validated endpoint RX/TX descriptor over the caller's bytes. Allocates nothing.</summary>
public readonly ref struct EndpointRxTxView
{
    private readonly ReadOnlySpan<byte> _bytes;

    internal EndpointRxTxView(ReadOnlySpan<byte> bytes, int rxCompositeOffset, int txCompositeOffset, int descriptorLength)
    {
        _bytes = bytes;
        RxCompositeOffset = rxCompositeOffset;
        TxCompositeOffset = txCompositeOffset;
        DescriptorLength = descriptorLength;
    }

    public EndpointId Endpoint => new(BinaryPrimitives.ReadUInt16LittleEndian(_bytes));

    public int RxCompositeOffset { get; }

    public int TxCompositeOffset { get; }

    /// <summary>Where the later of the two composites ends.</summary>
    public int DescriptorLength { get; }

    public CompositeMemoryRegion RxComposite => Composites.ReadHeader(_bytes[RxCompositeOffset..]);

    public CompositeMemoryRegion TxComposite => Composites.ReadHeader(_bytes[TxCompositeOffset..]);

    public ConstituentList Rx => ListAt(RxCompositeOffset);

    public ConstituentList Tx => ListAt(TxCompositeOffset);

    private ConstituentList ListAt(int offset)
    {
        var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(_bytes[(offset + 4)..]);
        return new ConstituentList(_bytes.Slice(offset + CompositeMemoryRegion.HeaderSize, count * MemoryRegionConstituent.Size), count);
    }
}

/// <summary>An endpoint RX/TX descriptor as plain objects, for tests and tools (allocates).</summary>
public sealed class EndpointRxTx
{
    public EndpointId Endpoint { get; set; }

    public List<MemoryRegionConstituent> Rx { get; } = [];

    public List<MemoryRegionConstituent> Tx { get; } = [];

    public byte[] Encode()
    {
        var rx = CollectionsMarshal.AsSpan(Rx);
        var tx = CollectionsMarshal.AsSpan(Tx);
        var bytes = new byte[EndpointRxTxDescriptor.RequiredLength(rx.Length, tx.Length)];
        EndpointRxTxDescriptor.TryWrite(bytes, Endpoint, rx, tx, out _);
        return bytes;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out EndpointRxTx? descriptor, out DescriptorFault fault)
    {
        descriptor = null;
        if (!EndpointRxTxDescriptor.TryRead(bytes, out var view, out fault))
        {
            return false;
        }

        descriptor = new EndpointRxTx { Endpoint = view.Endpoint };
        descriptor.Rx.AddRange(view.Rx.ToArray());
        descriptor.Tx.AddRange(view.Tx.ToArray());
        return true;
    }

    public bool ContentEquals(EndpointRxTx other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Endpoint == other.Endpoint
            && CollectionsMarshal.AsSpan(Rx).SequenceEqual(CollectionsMarshal.AsSpan(other.Rx))
            && CollectionsMarshal.AsSpan(Tx).SequenceEqual(CollectionsMarshal.AsSpan(other.Tx));
    }
}
