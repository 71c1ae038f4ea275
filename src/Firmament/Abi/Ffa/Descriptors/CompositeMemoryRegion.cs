using System.Buffers.Binary;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>
/// A composite memory region descriptor's header (16 bytes: u32 total page count, u32 constituent count, 8 reserved),
/// which the constituents follow. Used by memory transactions and by the endpoint RX/TX descriptor.
/// </summary>
public readonly record struct CompositeMemoryRegion(uint TotalPageCount, uint ConstituentCount)
{
    /// <summary>Size of the header, without its constituents.</summary>
    public const int HeaderSize = 16;
}

/// <summary>
/// A constituent memory region descriptor (16 bytes): u64 base address (4 KiB aligned; an IPA from a VM, a PA at
/// the physical instance), u32 page count in 4 KiB FF-A pages, u32 reserved.
/// </summary>
public readonly record struct MemoryRegionConstituent(ulong Address, uint PageCount)
{
    public const int Size = 16;

    /// <summary>An FF-A page is always 4 KiB, whatever the translation granule.</summary>
    public const int PageSize = 4096;

    /// <summary>The first byte after the region (wraps for a region that ends at 2^64).</summary>
    public ulong End => Address + ((ulong)PageCount * PageSize);

    public override string ToString() => $"0x{Address:X} + {PageCount} pages";
}

/// <summary>A validated array of constituents over the caller's bytes. Allocates nothing.</summary>
public readonly ref struct ConstituentList
{
    private readonly ReadOnlySpan<byte> _bytes;

    internal ConstituentList(ReadOnlySpan<byte> bytes, int count)
    {
        _bytes = bytes;
        Count = count;
    }

    public int Count { get; }

    public MemoryRegionConstituent this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return Composites.ReadConstituent(_bytes[(index * MemoryRegionConstituent.Size)..]);
        }
    }

    /// <summary>The sum of the page counts (cannot overflow: at most 2^27 constituents fit in a span).</summary>
    public ulong SumPageCounts()
    {
        ulong sum = 0;
        for (var i = 0; i < Count; i++)
        {
            sum += BinaryPrimitives.ReadUInt32LittleEndian(_bytes[((i * MemoryRegionConstituent.Size) + 8)..]);
        }

        return sum;
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>Copies the constituents out (allocates; for tools and tests).</summary>
    public MemoryRegionConstituent[] ToArray()
    {
        var result = new MemoryRegionConstituent[Count];
        for (var i = 0; i < Count; i++)
        {
            result[i] = this[i];
        }

        return result;
    }

    public ref struct Enumerator
    {
        private readonly ConstituentList _list;
        private int _index;

        internal Enumerator(ConstituentList list)
        {
            _list = list;
            _index = -1;
        }

        public readonly MemoryRegionConstituent Current => _list[_index];

        public bool MoveNext() => ++_index < _list.Count;
    }
}

/// <summary>
/// Reads the constituents of a memory transaction's later fragments (FFA_MEM_FRAG_TX): whole 16-byte
/// constituents and nothing else.
/// </summary>
public static class ConstituentFragment
{
    /// <summary>
    /// Faults: <see cref="DescriptorError.FragmentSplitsConstituent"/> if the length is not a multiple of 16;
    /// <see cref="DescriptorError.AddressMisaligned"/> and <see cref="DescriptorError.ReservedNotZero"/> per
    /// constituent.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> fragment, out ConstituentList constituents, out DescriptorFault fault)
    {
        constituents = default;
        if (fragment.Length % MemoryRegionConstituent.Size != 0)
        {
            return DescriptorFault.Fail(
                DescriptorError.FragmentSplitsConstituent,
                fragment.Length - (fragment.Length % MemoryRegionConstituent.Size),
                out fault);
        }

        var count = fragment.Length / MemoryRegionConstituent.Size;
        if (!Composites.TryCheckConstituents(fragment, 0, count, out _, out fault))
        {
            return false;
        }

        constituents = new ConstituentList(fragment, count);
        return true;
    }
}

/// <summary>Composite reading and writing shared by memory transactions and the endpoint RX/TX descriptor.</summary>
internal static class Composites
{
    public static MemoryRegionConstituent ReadConstituent(ReadOnlySpan<byte> at) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(at), BinaryPrimitives.ReadUInt32LittleEndian(at[8..]));

    public static CompositeMemoryRegion ReadHeader(ReadOnlySpan<byte> at) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(at), BinaryPrimitives.ReadUInt32LittleEndian(at[4..]));

    /// <summary>
    /// Checks the composite at <paramref name="offset"/>, whose 16-byte header the caller has placed inside
    /// <paramref name="available"/>. The descriptor is <paramref name="total"/> bytes long; with a first fragment,
    /// <paramref name="available"/> may be shorter, and then only the constituents present are checked (and the page
    /// count sum is left for the memory-sharing code that gathers the fragments).
    /// </summary>
    public static bool TryCheck(
        ReadOnlySpan<byte> available,
        long total,
        int offset,
        out int constituentCount,
        out int presentCount,
        out DescriptorFault fault)
    {
        constituentCount = 0;
        presentCount = 0;
        var count = BinaryPrimitives.ReadUInt32LittleEndian(available[(offset + 4)..]);
        var first = (long)offset + CompositeMemoryRegion.HeaderSize;
        var end = first + ((long)count * MemoryRegionConstituent.Size);
        if (end > total)
        {
            return DescriptorFault.Fail(DescriptorError.ConstituentCountMismatch, offset + 4, out fault);
        }

        if (!DescriptorLayout.IsZero(available.Slice(offset + 8, 8)))
        {
            return DescriptorFault.Fail(DescriptorError.ReservedNotZero, offset + 8, out fault);
        }

        var present = end <= available.Length ? (int)count : (int)((available.Length - first) / MemoryRegionConstituent.Size);
        if (end > available.Length && (available.Length - first) % MemoryRegionConstituent.Size != 0)
        {
            return DescriptorFault.Fail(DescriptorError.FragmentSplitsConstituent, available.Length, out fault);
        }

        if (!TryCheckConstituents(available, (int)first, present, out var sum, out fault))
        {
            return false;
        }

        if (present == count && sum != BinaryPrimitives.ReadUInt32LittleEndian(available[offset..]))
        {
            return DescriptorFault.Fail(DescriptorError.PageCountMismatch, offset, out fault);
        }

        constituentCount = (int)count;
        presentCount = present;
        fault = default;
        return true;
    }

    /// <summary>Checks <paramref name="count"/> constituents from <paramref name="first"/>: alignment and reserved.</summary>
    public static bool TryCheckConstituents(ReadOnlySpan<byte> bytes, int first, int count, out ulong pageSum, out DescriptorFault fault)
    {
        pageSum = 0;
        for (var i = 0; i < count; i++)
        {
            var at = first + (i * MemoryRegionConstituent.Size);
            var c = bytes.Slice(at, MemoryRegionConstituent.Size);
            if ((BinaryPrimitives.ReadUInt64LittleEndian(c) & (MemoryRegionConstituent.PageSize - 1)) != 0)
            {
                return DescriptorFault.Fail(DescriptorError.AddressMisaligned, at, out fault);
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(c[12..]) != 0)
            {
                return DescriptorFault.Fail(DescriptorError.ReservedNotZero, at + 12, out fault);
            }

            pageSum += BinaryPrimitives.ReadUInt32LittleEndian(c[8..]);
        }

        fault = default;
        return true;
    }

    public static int Length(int constituentCount) =>
        checked(CompositeMemoryRegion.HeaderSize + (constituentCount * MemoryRegionConstituent.Size));

    /// <summary>
    /// The total page count of <paramref name="constituents"/>, after checking that a composite can carry them:
    /// 4 KiB aligned addresses and a sum that fits in 32 bits. Throws otherwise (programmer errors); writers call it
    /// before writing anything.
    /// </summary>
    public static uint CheckWritable(ReadOnlySpan<MemoryRegionConstituent> constituents, string paramName)
    {
        ulong sum = 0;
        for (var i = 0; i < constituents.Length; i++)
        {
            var c = constituents[i];
            if ((c.Address & (MemoryRegionConstituent.PageSize - 1)) != 0)
            {
                throw new ArgumentException($"Constituent {i} address 0x{c.Address:X} is not 4 KiB aligned.", paramName);
            }

            sum += c.PageCount;
        }

        return sum <= uint.MaxValue ? (uint)sum : throw new ArgumentException("The total page count does not fit in 32 bits.", paramName);
    }

    /// <summary>
    /// Writes a composite (header + constituents) at the start of <paramref name="destination"/>, which the caller
    /// has cleared and sized, with the total from <see cref="CheckWritable"/>.
    /// </summary>
    public static void Write(Span<byte> destination, ReadOnlySpan<MemoryRegionConstituent> constituents, uint totalPageCount)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, totalPageCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)constituents.Length);
        for (var i = 0; i < constituents.Length; i++)
        {
            var at = destination[(CompositeMemoryRegion.HeaderSize + (i * MemoryRegionConstituent.Size))..];
            BinaryPrimitives.WriteUInt64LittleEndian(at, constituents[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(at[8..], constituents[i].PageCount);
        }
    }
}
