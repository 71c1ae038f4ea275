namespace Firmament.Machine;

/// <summary>Stage-2 access permissions of one page.</summary>
[Flags]
public enum Stage2Access : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
    ReadWrite = Read | Write,
    ReadExecute = Read | Execute,
    All = Read | Write | Execute,
}

/// <summary>One stage-2 page mapping: which physical page, with which permissions.</summary>
public readonly record struct Stage2Entry(ulong PhysicalPage, Stage2Access Access);

/// <summary>Why an access through a stage-2 map failed.</summary>
public enum MemoryFaultKind : byte
{
    None = 0,

    /// <summary>No mapping for the intermediate physical address.</summary>
    Unmapped,

    /// <summary>Mapped, without the permission the access needs.</summary>
    Permission,

    /// <summary>Mapped to a physical address outside every declared RAM range.</summary>
    NoMemory,
}

/// <summary>A contained memory fault: the kind, the faulting address, and the access that was attempted.</summary>
public readonly record struct MemoryFault(MemoryFaultKind Kind, ulong Address, Stage2Access Access)
{
    public bool IsNone => Kind == MemoryFaultKind.None;

    public override string ToString() => Kind switch
    {
        MemoryFaultKind.None => "no fault",
        MemoryFaultKind.Unmapped => $"stage-2 translation fault at IPA 0x{Address:X} ({Access})",
        MemoryFaultKind.Permission => $"stage-2 permission fault at IPA 0x{Address:X} ({Access})",
        _ => $"no physical memory behind IPA 0x{Address:X}",
    };
}

/// <summary>
/// A partition's stage-2 translation: intermediate physical page → physical page and permissions. Every access an
/// endpoint makes, and every access a partition manager makes on its behalf, goes through one of these.
/// </summary>
public sealed class Stage2Map
{
    private readonly Dictionary<ulong, Stage2Entry> _entries = [];
    private readonly List<(ulong FirstPage, ulong EndPage, Stage2Access Access)> _identity = [];

    /// <summary>Bumped on every change, so a cached translation (an emulated CPU's TLB) knows to refresh.</summary>
    public ulong Generation { get; private set; }

    /// <summary>Raised after every change with the first IPA page and the page count.</summary>
    public Action<ulong, ulong>? Changed { get; set; }

    public int MappedPages => _entries.Count;

    /// <summary>
    /// Maps a whole physical range to itself (IPA = PA) without an entry per page: how a partition manager sees
    /// normal-world physical memory. Page mappings, where present, take precedence.
    /// </summary>
    public void AddIdentityRange(ulong basePa, ulong size, Stage2Access access)
    {
        _identity.Add((basePa >> PhysicalMemory.PageShift, (basePa + size) >> PhysicalMemory.PageShift, access));
        Touch(basePa >> PhysicalMemory.PageShift, size >> PhysicalMemory.PageShift);
    }

    /// <summary>Maps <paramref name="pageCount"/> pages; false (and no change) if any of them is already mapped.</summary>
    public bool TryMap(ulong ipa, ulong pa, ulong pageCount, Stage2Access access)
    {
        var first = ipa >> PhysicalMemory.PageShift;
        for (ulong i = 0; i < pageCount; i++)
        {
            if (_entries.ContainsKey(first + i))
            {
                return false;
            }
        }

        var physical = pa >> PhysicalMemory.PageShift;
        _entries.EnsureCapacity(_entries.Count + (int)Math.Min(pageCount, int.MaxValue / 2));
        for (ulong i = 0; i < pageCount; i++)
        {
            _entries.Add(first + i, new Stage2Entry(physical + i, access));
        }

        Touch(first, pageCount);
        return true;
    }

    /// <summary>Removes the mappings of these pages (absent pages are ignored).</summary>
    public void Unmap(ulong ipa, ulong pageCount)
    {
        var first = ipa >> PhysicalMemory.PageShift;
        for (ulong i = 0; i < pageCount; i++)
        {
            _entries.Remove(first + i);
        }

        Touch(first, pageCount);
    }

    /// <summary>Changes the permissions of mapped pages; false (and no change) if one of them is not mapped.</summary>
    public bool TrySetAccess(ulong ipa, ulong pageCount, Stage2Access access)
    {
        var first = ipa >> PhysicalMemory.PageShift;
        for (ulong i = 0; i < pageCount; i++)
        {
            if (!_entries.ContainsKey(first + i))
            {
                return false;
            }
        }

        for (ulong i = 0; i < pageCount; i++)
        {
            _entries[first + i] = _entries[first + i] with { Access = access };
        }

        Touch(first, pageCount);
        return true;
    }

    /// <summary>The mapping of the page holding <paramref name="ipa"/>, if any.</summary>
    public bool TryGetEntry(ulong ipa, out Stage2Entry entry)
    {
        var page = ipa >> PhysicalMemory.PageShift;
        if (_entries.TryGetValue(page, out entry))
        {
            return true;
        }

        foreach (var (first, end, access) in _identity)
        {
            if (page >= first && page < end)
            {
                entry = new Stage2Entry(page, access);
                return true;
            }
        }

        return false;
    }

    /// <summary>Translates an address for an access needing <paramref name="need"/>.</summary>
    public bool TryTranslate(ulong ipa, Stage2Access need, out ulong pa, out MemoryFault fault)
    {
        if (!TryGetEntry(ipa, out var entry))
        {
            pa = 0;
            fault = new MemoryFault(MemoryFaultKind.Unmapped, ipa, need);
            return false;
        }

        if ((entry.Access & need) != need)
        {
            pa = 0;
            fault = new MemoryFault(MemoryFaultKind.Permission, ipa, need);
            return false;
        }

        pa = (entry.PhysicalPage << PhysicalMemory.PageShift) | (ipa & PhysicalMemory.PageMask);
        fault = default;
        return true;
    }

    /// <summary>Every mapping, ordered by IPA page (for invariants, dumps and emulator setup).</summary>
    public IEnumerable<KeyValuePair<ulong, Stage2Entry>> Entries() => _entries.OrderBy(static e => e.Key);

    private void Touch(ulong firstPage, ulong count)
    {
        Generation++;
        Changed?.Invoke(firstPage, count);
    }
}
