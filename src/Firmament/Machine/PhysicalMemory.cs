namespace Firmament.Machine;

/// <summary>
/// Simulated physical memory in 4 KiB pages (the FF-A page, whatever the translation granule). Only declared
/// ranges exist; a page's bytes are allocated, zeroed, the first time anyone touches it. Pages are pinned arrays so
/// an emulated CPU can map the very same bytes.
/// </summary>
public sealed class PhysicalMemory
{
    public const int PageSize = 4096;
    public const int PageShift = 12;
    public const ulong PageMask = PageSize - 1;

    private readonly Dictionary<ulong, byte[]> _pages = [];
    private readonly List<PhysicalRange> _ranges = [];

    /// <summary>The declared ranges, in the order they were added.</summary>
    public IReadOnlyList<PhysicalRange> Ranges => _ranges;

    /// <summary>Pages allocated so far (touched at least once).</summary>
    public int AllocatedPages => _pages.Count;

    /// <summary>Declares a page-aligned range of RAM. Overlaps and misalignment are configuration bugs.</summary>
    public void AddRange(ulong basePa, ulong size, string name)
    {
        if ((basePa & PageMask) != 0 || (size & PageMask) != 0 || size == 0 || basePa + size < basePa)
        {
            throw new ArgumentException($"range {name} [0x{basePa:X}, +0x{size:X}) is not page aligned or wraps", nameof(basePa));
        }

        var range = new PhysicalRange(basePa, size, name);
        foreach (var existing in _ranges)
        {
            if (existing.Overlaps(range))
            {
                throw new ArgumentException($"range {name} overlaps {existing.Name}", nameof(basePa));
            }
        }

        _ranges.Add(range);
    }

    /// <summary>Whether a physical address lies in a declared range.</summary>
    public bool Contains(ulong pa)
    {
        foreach (var range in _ranges)
        {
            if (range.Contains(pa))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The bytes of the page with this number, or false if it is outside every declared range.</summary>
    public bool TryGetPage(ulong pageNumber, out byte[] page)
    {
        if (_pages.TryGetValue(pageNumber, out page!))
        {
            return true;
        }

        if (!Contains(pageNumber << PageShift))
        {
            return false;
        }

        page = GC.AllocateArray<byte>(PageSize, pinned: true);
        _pages.Add(pageNumber, page);
        return true;
    }

    /// <summary>Zeroes whole pages (FF-A's zero-memory flags, RX buffer scrubbing).</summary>
    public void ZeroPages(ulong firstPage, ulong count)
    {
        for (var p = firstPage; p < firstPage + count; p++)
        {
            if (_pages.TryGetValue(p, out var page))
            {
                Array.Clear(page);
            }
        }
    }
}

/// <summary>A declared range of physical memory.</summary>
public readonly record struct PhysicalRange(ulong Base, ulong Size, string Name)
{
    public ulong End => Base + Size;

    public bool Contains(ulong pa) => pa >= Base && pa - Base < Size;

    public bool Overlaps(PhysicalRange other) => Base < other.End && other.Base < End;
}
