using System.Buffers.Binary;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>Offsets and sizes of the memory transaction descriptor layouts.</summary>
internal static class MtdLayout
{
    public const int HeaderSizeV1_0 = 32;
    public const int HeaderSizeV1_1 = 48;
    public const int EmadSizeV1_0 = 16;
    public const int EmadSizeV1_1 = 16;
    public const int EmadSizeV1_2 = 32;

    public const int SenderOffset = 0;
    public const int AttributesOffset = 2;
    public const int ReservedByteV1_0 = 3;
    public const int FlagsOffset = 4;
    public const int HandleOffset = 8;
    public const int TagOffset = 16;
    public const int ReservedWordV1_0 = 24;
    public const int EmadSizeOffset = 24;
    public const int EmadCountOffset = 28;
    public const int EmadOffsetOffset = 32;
    public const int ReservedV1_1 = 36;
    public const int ReservedV1_1Length = 12;

    public const int EmadReceiver = 0;
    public const int EmadPermissions = 2;
    public const int EmadFlags = 3;
    public const int EmadCompositeOffset = 4;
    public const int EmadReserved16 = 8;
    public const int EmadImpdef = 8;
    public const int EmadReserved32 = 24;

    public static int HeaderSize(LayoutGeneration generation) =>
        generation == LayoutGeneration.V1_0 ? HeaderSizeV1_0 : HeaderSizeV1_1;

    /// <summary>The EMAD size a writer uses for a layout: 16 for v1.0 and v1.1, 32 from v1.2.</summary>
    public static int EmadSize(LayoutGeneration generation) =>
        generation >= LayoutGeneration.V1_2 ? EmadSizeV1_2 : EmadSizeV1_1;

    public static bool HasComposite(MtdShape shape) => shape is MtdShape.Send or MtdShape.RetrieveResponse;
}

/// <summary>
/// Reads memory transaction descriptors (FFA_MEM_DONATE/LEND/SHARE, FFA_MEM_RETRIEVE_REQ/RESP, the hypervisor retrieve
/// request) from untrusted bytes without allocating and without throwing. Everything is validated up front — every
/// offset, count and size, the reserved and MBZ fields, every constituent, the page count sum — so the view that
/// comes back can be read freely.
/// </summary>
/// <remarks>
/// What the codec checks and what it leaves to the partition manager:
/// <list type="bullet">
/// <item>Composite offsets must be 8-byte aligned. Firmament's writer emits 16-byte alignment; Hafnium demands 16
/// and the Rust arm-ffa crate emits 8, so 8 is accepted (reference §12 item 14). The describer flags it.</item>
/// <item>Every EMAD's composite offset is checked to lie after the EMAD array with the composite header inside the
/// descriptor, but only the composite of EMAD 0 is walked and exposed. That all EMADs of a send share one composite
/// is a rule for the partition manager: <see cref="MemoryTransactionView.EmadsShareComposite"/> checks it.</item>
/// <item>The EMAD offset must be ≥ 48 and 16-aligned (Hafnium demands exactly 48; the spec allows more).</item>
/// <item>Reserved values of attributes and permissions (memory type 3, data access 3 …), the sender/receiver
/// rules (§10.6), handle 0 on a send and zero-page constituents are semantic: the partition manager answers them.</item>
/// <item>Bytes after the last structure are ignored; <see cref="MemoryTransactionView.DescriptorLength"/> says where
/// the descriptor ends.</item>
/// </list>
/// </remarks>
public static class MemoryTransactionDescriptorReader
{
    /// <summary>Reads a whole send descriptor.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, FfaVersion layout, out MemoryTransactionView view, out DescriptorFault fault) =>
        TryRead(bytes, layout, MtdShape.Send, out view, out fault);

    /// <summary>
    /// Reads a whole descriptor of the given shape, in the layout of <paramref name="layout"/> (v1.0: 32-byte header,
    /// 16-byte EMADs at 32; v1.1: 48-byte header, EMAD size 16; v1.2 and later 1.x: EMAD size 16 or 32).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, FfaVersion layout, MtdShape shape, out MemoryTransactionView view, out DescriptorFault fault) =>
        TryReadCore(bytes, bytes.Length, layout, shape, out view, out fault);

    /// <summary>
    /// Reads the first fragment of a descriptor of <paramref name="totalLength"/> bytes (w1 of the call; the fragment
    /// length is w2). By §10.7 the first fragment must hold the header, every EMAD and the composite header; it may end
    /// before the last constituent but not inside one. The view exposes the constituents present
    /// (<see cref="MemoryTransactionView.IsComplete"/> says whether that is all of them); the page count sum is checked
    /// only when they are all present. Later fragments: <see cref="ConstituentFragment.TryRead"/>.
    /// </summary>
    public static bool TryReadFirstFragment(
        ReadOnlySpan<byte> fragment,
        uint totalLength,
        FfaVersion layout,
        MtdShape shape,
        out MemoryTransactionView view,
        out DescriptorFault fault)
    {
        if (fragment.Length > totalLength)
        {
            view = default;
            return DescriptorFault.Fail(DescriptorError.FragmentLongerThanTotal, DescriptorFault.At(totalLength), out fault);
        }

        return TryReadCore(fragment, totalLength, layout, shape, out view, out fault);
    }

    /// <summary>
    /// The shared walk. <paramref name="bytes"/> is what we hold; <paramref name="total"/> is how long the descriptor
    /// says it is (equal for a whole read). A structure that ends past <paramref name="total"/> breaks its own rule;
    /// one that ends inside the descriptor but past the fragment is <see cref="DescriptorError.FragmentTooShort"/>.
    /// </summary>
    private static bool TryReadCore(ReadOnlySpan<byte> bytes, long total, FfaVersion layout, MtdShape shape, out MemoryTransactionView view, out DescriptorFault fault)
    {
        view = default;
        if (shape > MtdShape.HypervisorRetrieve)
        {
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "Not a memory transaction shape.");
        }

        var generation = DescriptorLayout.Of(layout);
        if (generation == LayoutGeneration.Unsupported)
        {
            return DescriptorFault.Fail(DescriptorError.UnsupportedLayout, 0, out fault);
        }

        var headerSize = MtdLayout.HeaderSize(generation);
        if (!Within(headerSize, 0, bytes.Length, total, DescriptorError.Truncated, 0, out fault))
        {
            return false;
        }

        int emadSize;
        long emadOffset;
        ushort attributes;
        if (generation == LayoutGeneration.V1_0)
        {
            attributes = bytes[MtdLayout.AttributesOffset];
            if (bytes[MtdLayout.ReservedByteV1_0] != 0)
            {
                return DescriptorFault.Fail(DescriptorError.ReservedNotZero, MtdLayout.ReservedByteV1_0, out fault);
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[MtdLayout.ReservedWordV1_0..]) != 0)
            {
                return DescriptorFault.Fail(DescriptorError.ReservedNotZero, MtdLayout.ReservedWordV1_0, out fault);
            }

            emadSize = MtdLayout.EmadSizeV1_0;
            emadOffset = MtdLayout.HeaderSizeV1_0;
        }
        else
        {
            attributes = BinaryPrimitives.ReadUInt16LittleEndian(bytes[MtdLayout.AttributesOffset..]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[MtdLayout.EmadSizeOffset..]);
            if (size != MtdLayout.EmadSizeV1_1 && !(size == MtdLayout.EmadSizeV1_2 && generation >= LayoutGeneration.V1_2))
            {
                return DescriptorFault.Fail(DescriptorError.BadEmadSize, MtdLayout.EmadSizeOffset, out fault);
            }

            var offset = BinaryPrimitives.ReadUInt32LittleEndian(bytes[MtdLayout.EmadOffsetOffset..]);
            if (offset < MtdLayout.HeaderSizeV1_1)
            {
                return DescriptorFault.Fail(DescriptorError.EmadOffsetTooSmall, MtdLayout.EmadOffsetOffset, out fault);
            }

            if (offset % 16 != 0)
            {
                return DescriptorFault.Fail(DescriptorError.EmadOffsetMisaligned, MtdLayout.EmadOffsetOffset, out fault);
            }

            if (!DescriptorLayout.IsZero(bytes.Slice(MtdLayout.ReservedV1_1, MtdLayout.ReservedV1_1Length)))
            {
                return DescriptorFault.Fail(DescriptorError.ReservedNotZero, MtdLayout.ReservedV1_1, out fault);
            }

            emadSize = (int)size;
            emadOffset = offset;
        }

        if ((attributes & MemoryRegionAttributes.MbzMask(layout, shape)) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.MbzBitsSet, MtdLayout.AttributesOffset, out fault);
        }

        if ((BinaryPrimitives.ReadUInt32LittleEndian(bytes[MtdLayout.FlagsOffset..]) & MemoryTransactionFlags.MbzMask(shape, layout)) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.MbzBitsSet, MtdLayout.FlagsOffset, out fault);
        }

        var emadCount = BinaryPrimitives.ReadUInt32LittleEndian(bytes[MtdLayout.EmadCountOffset..]);
        if (shape == MtdShape.HypervisorRetrieve ? emadCount != 0 : emadCount == 0)
        {
            var error = shape == MtdShape.HypervisorRetrieve ? DescriptorError.UnexpectedEmads : DescriptorError.NoEndpoints;
            return DescriptorFault.Fail(error, MtdLayout.EmadCountOffset, out fault);
        }

        var emadEnd = emadOffset + ((long)emadCount * emadSize);
        if (!Within(emadEnd, emadOffset, bytes.Length, total, DescriptorError.EmadArrayOutOfRange, MtdLayout.EmadCountOffset, out fault))
        {
            return false;
        }

        long compositeOffset = -1;
        for (var i = 0; i < (int)emadCount; i++)
        {
            var e = (int)emadOffset + (i * emadSize);
            if (!TryCheckEmad(bytes, e, emadSize, emadEnd, total, shape, out var composite, out fault))
            {
                return false;
            }

            if (i == 0)
            {
                compositeOffset = composite;
            }
        }

        var constituentCount = 0;
        var present = 0;
        long length = emadEnd;
        if (compositeOffset >= 0)
        {
            // Range was checked against the total with EMAD 0; here only a short first fragment can fail.
            if (!Within(compositeOffset + CompositeMemoryRegion.HeaderSize, compositeOffset, bytes.Length, total, DescriptorError.CompositeOffsetOutOfRange, (int)emadOffset + MtdLayout.EmadCompositeOffset, out fault)
                || !Composites.TryCheck(bytes, total, (int)compositeOffset, out constituentCount, out present, out fault))
            {
                return false;
            }

            length = compositeOffset + CompositeMemoryRegion.HeaderSize + ((long)constituentCount * MemoryRegionConstituent.Size);
        }

        view = new MemoryTransactionView(bytes, layout, shape, (int)emadOffset, emadSize, (int)emadCount, (int)compositeOffset, constituentCount, present, length);
        fault = default;
        return true;
    }

    private static bool TryCheckEmad(ReadOnlySpan<byte> bytes, int e, int emadSize, long emadEnd, long total, MtdShape shape, out long compositeOffset, out DescriptorFault fault)
    {
        compositeOffset = -1;
        if ((bytes[e + MtdLayout.EmadPermissions] & MemoryAccessPermissions.MbzMask) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.MbzBitsSet, e + MtdLayout.EmadPermissions, out fault);
        }

        if ((bytes[e + MtdLayout.EmadFlags] & EmadFlags.MbzMask(shape)) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.MbzBitsSet, e + MtdLayout.EmadFlags, out fault);
        }

        var reserved = emadSize == MtdLayout.EmadSizeV1_2 ? MtdLayout.EmadReserved32 : MtdLayout.EmadReserved16;
        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes[(e + reserved)..]) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.ReservedNotZero, e + reserved, out fault);
        }

        var offset = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(e + MtdLayout.EmadCompositeOffset)..]);
        if (!MtdLayout.HasComposite(shape))
        {
            if (offset != 0)
            {
                return DescriptorFault.Fail(DescriptorError.UnexpectedComposite, e + MtdLayout.EmadCompositeOffset, out fault);
            }

            fault = default;
            return true;
        }

        if (offset < emadEnd || (long)offset + CompositeMemoryRegion.HeaderSize > total)
        {
            return DescriptorFault.Fail(DescriptorError.CompositeOffsetOutOfRange, e + MtdLayout.EmadCompositeOffset, out fault);
        }

        if (offset % 8 != 0)
        {
            return DescriptorFault.Fail(DescriptorError.CompositeOffsetMisaligned, e + MtdLayout.EmadCompositeOffset, out fault);
        }

        compositeOffset = offset;
        fault = default;
        return true;
    }

    /// <summary>
    /// A structure from <paramref name="start"/> to <paramref name="end"/> must end inside the descriptor (else
    /// <paramref name="error"/> at <paramref name="errorOffset"/>) and inside the bytes held (else the fragment is
    /// too short).
    /// </summary>
    private static bool Within(long end, long start, int held, long total, DescriptorError error, int errorOffset, out DescriptorFault fault)
    {
        if (end > total)
        {
            return DescriptorFault.Fail(error, errorOffset, out fault);
        }

        if (end > held)
        {
            return DescriptorFault.Fail(DescriptorError.FragmentTooShort, DescriptorFault.At(start), out fault);
        }

        fault = default;
        return true;
    }
}

/// <summary>
/// A validated memory transaction descriptor over the caller's bytes: header fields, EMADs, the composite and its
/// constituents, read on demand. Allocates nothing. Indexers throw for an index out of range (a programmer error,
/// as with a span); the bytes themselves were checked by the reader.
/// </summary>
public readonly ref struct MemoryTransactionView
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly int _compositeOffset;
    private readonly int _presentConstituents;

    internal MemoryTransactionView(
        ReadOnlySpan<byte> bytes,
        FfaVersion layout,
        MtdShape shape,
        int emadOffset,
        int emadSize,
        int emadCount,
        int compositeOffset,
        int constituentCount,
        int presentConstituents,
        long descriptorLength)
    {
        _bytes = bytes;
        Layout = layout;
        Shape = shape;
        EmadOffset = emadOffset;
        EmadSize = emadSize;
        EmadCount = emadCount;
        _compositeOffset = compositeOffset;
        ConstituentCount = constituentCount;
        _presentConstituents = presentConstituents;
        DescriptorLength = descriptorLength;
    }

    public FfaVersion Layout { get; }

    public MtdShape Shape { get; }

    public EndpointId Sender => new(BinaryPrimitives.ReadUInt16LittleEndian(_bytes[MtdLayout.SenderOffset..]));

    public MemoryRegionAttributes Attributes => DescriptorLayout.Of(Layout) == LayoutGeneration.V1_0
        ? new MemoryRegionAttributes(_bytes[MtdLayout.AttributesOffset])
        : new MemoryRegionAttributes(BinaryPrimitives.ReadUInt16LittleEndian(_bytes[MtdLayout.AttributesOffset..]));

    public MemoryTransactionFlags Flags => new(BinaryPrimitives.ReadUInt32LittleEndian(_bytes[MtdLayout.FlagsOffset..]));

    public MemoryHandle Handle => new(BinaryPrimitives.ReadUInt64LittleEndian(_bytes[MtdLayout.HandleOffset..]));

    public ulong Tag => BinaryPrimitives.ReadUInt64LittleEndian(_bytes[MtdLayout.TagOffset..]);

    public MemoryTransactionHeader Header => new(Sender, Attributes, Flags, Handle, Tag);

    /// <summary>16 (v1.0, v1.1) or 32 (v1.2).</summary>
    public int EmadSize { get; }

    public int EmadCount { get; }

    /// <summary>32 in v1.0; the header's EMAD offset field in v1.1+.</summary>
    public int EmadOffset { get; }

    /// <summary>False for a retrieve request and a hypervisor retrieve request.</summary>
    public bool HasComposite => _compositeOffset >= 0;

    /// <summary>The offset of the composite EMAD 0 points at, or −1 without a composite.</summary>
    public int CompositeOffset => _compositeOffset;

    /// <summary>The composite header; default without a composite.</summary>
    public CompositeMemoryRegion Composite => HasComposite ? Composites.ReadHeader(_bytes[_compositeOffset..]) : default;

    /// <summary>The constituent count the composite declares.</summary>
    public int ConstituentCount { get; }

    /// <summary>The constituents present: all of them, unless this is a first fragment.</summary>
    public ConstituentList Constituents => HasComposite
        ? new ConstituentList(
            _bytes.Slice(_compositeOffset + CompositeMemoryRegion.HeaderSize, _presentConstituents * MemoryRegionConstituent.Size),
            _presentConstituents)
        : default;

    /// <summary>All the constituents the composite declares are present (always true for a whole read).</summary>
    public bool IsComplete => _presentConstituents == ConstituentCount;

    /// <summary>Where the descriptor ends: after the last constituent, or after the EMADs without a composite.</summary>
    public long DescriptorLength { get; }

    public EndpointMemoryAccess GetEmad(int index)
    {
        var e = EmadAt(index);
        return new EndpointMemoryAccess(
            new EndpointId(BinaryPrimitives.ReadUInt16LittleEndian(e)),
            new MemoryAccessPermissions(e[MtdLayout.EmadPermissions]),
            new EmadFlags(e[MtdLayout.EmadFlags]),
            EmadSize == MtdLayout.EmadSizeV1_2 ? BinaryPrimitives.ReadUInt128LittleEndian(e[MtdLayout.EmadImpdef..]) : UInt128.Zero);
    }

    /// <summary>The composite offset EMAD <paramref name="index"/> holds (0 in a retrieve request).</summary>
    public uint GetCompositeOffset(int index) =>
        BinaryPrimitives.ReadUInt32LittleEndian(EmadAt(index)[MtdLayout.EmadCompositeOffset..]);

    public MemoryRegionConstituent GetConstituent(int index) => Constituents[index];

    /// <summary>
    /// True if every EMAD points at the same composite (a send must; the partition manager enforces it). Otherwise
    /// <paramref name="firstDiffering"/> is the first EMAD that does not.
    /// </summary>
    public bool EmadsShareComposite(out int firstDiffering)
    {
        firstDiffering = -1;
        if (EmadCount == 0)
        {
            return true;
        }

        var first = GetCompositeOffset(0);
        for (var i = 1; i < EmadCount; i++)
        {
            if (GetCompositeOffset(i) != first)
            {
                firstDiffering = i;
                return false;
            }
        }

        return true;
    }

    private ReadOnlySpan<byte> EmadAt(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, EmadCount);
        return _bytes.Slice(EmadOffset + (index * EmadSize), EmadSize);
    }
}
