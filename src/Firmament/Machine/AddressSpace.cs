using System.Buffers.Binary;

namespace Firmament.Machine;

/// <summary>
/// One partition's view of memory: its stage-2 map over the physical memory. Reads and writes that cross pages are
/// translated page by page; any failure is a <see cref="MemoryFault"/> value, and a failed write changes nothing.
/// </summary>
public sealed class AddressSpace(PhysicalMemory memory, Stage2Map stage2)
{
    public PhysicalMemory Memory { get; } = memory;

    public Stage2Map Stage2 { get; } = stage2;

    public bool TryRead(ulong ipa, Span<byte> destination, out MemoryFault fault)
    {
        var done = 0;
        while (done < destination.Length)
        {
            if (!TryPage(ipa + (ulong)done, Stage2Access.Read, out var page, out var offset, out fault))
            {
                return false;
            }

            var n = Math.Min(destination.Length - done, PhysicalMemory.PageSize - offset);
            page.AsSpan(offset, n).CopyTo(destination[done..]);
            done += n;
        }

        fault = default;
        return true;
    }

    public bool TryWrite(ulong ipa, ReadOnlySpan<byte> source, out MemoryFault fault) => TryWrite(ipa, source, Stage2Access.Write, out fault);

    /// <summary>
    /// Writes with the permission <paramref name="need"/> checked instead of Write: a partition manager filling an
    /// endpoint's read-only RX buffer needs the page to be mapped, not writable by the endpoint.
    /// </summary>
    public bool TryWrite(ulong ipa, ReadOnlySpan<byte> source, Stage2Access need, out MemoryFault fault)
    {
        // Check every page first so a write that faults halfway leaves nothing behind.
        if (!CanAccess(ipa, (ulong)source.Length, need, out fault))
        {
            return false;
        }

        var done = 0;
        while (done < source.Length)
        {
            TryPage(ipa + (ulong)done, need, out var page, out var offset, out _);
            var n = Math.Min(source.Length - done, PhysicalMemory.PageSize - offset);
            source.Slice(done, n).CopyTo(page.AsSpan(offset, n));
            done += n;
        }

        return true;
    }

    /// <summary>Whether every byte of [ipa, ipa+length) allows <paramref name="need"/>.</summary>
    public bool CanAccess(ulong ipa, ulong length, Stage2Access need, out MemoryFault fault)
    {
        if (length == 0)
        {
            fault = default;
            return true;
        }

        var last = ipa + length - 1;
        if (last < ipa)
        {
            fault = new MemoryFault(MemoryFaultKind.Unmapped, ipa, need);
            return false;
        }

        for (var page = ipa & ~PhysicalMemory.PageMask; ; page += PhysicalMemory.PageSize)
        {
            var at = Math.Max(page, ipa);
            if (!TryPage(at, need, out _, out _, out fault))
            {
                return false;
            }

            if (page >= (last & ~PhysicalMemory.PageMask))
            {
                return true;
            }
        }
    }

    public bool TryReadUInt64(ulong ipa, out ulong value, out MemoryFault fault)
    {
        Span<byte> b = stackalloc byte[8];
        var ok = TryRead(ipa, b, out fault);
        value = ok ? BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;
        return ok;
    }

    public bool TryWriteUInt64(ulong ipa, ulong value, out MemoryFault fault)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return TryWrite(ipa, b, out fault);
    }

    /// <summary>The page behind one address, for an access needing <paramref name="need"/>.</summary>
    public bool TryPage(ulong ipa, Stage2Access need, out byte[] page, out int offset, out MemoryFault fault)
    {
        offset = (int)(ipa & PhysicalMemory.PageMask);
        if (!Stage2.TryTranslate(ipa, need, out var pa, out fault))
        {
            page = [];
            return false;
        }

        if (!Memory.TryGetPage(pa >> PhysicalMemory.PageShift, out page))
        {
            fault = new MemoryFault(MemoryFaultKind.NoMemory, ipa, need);
            return false;
        }

        return true;
    }
}
