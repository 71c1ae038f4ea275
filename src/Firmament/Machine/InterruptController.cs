using System.Numerics;

namespace Firmament.Machine;

/// <summary>GIC interrupt ID ranges.</summary>
public static class InterruptIds
{
    /// <summary>Software-generated interrupts 0..15 (per CPU).</summary>
    public const int FirstSgi = 0;

    /// <summary>Private peripheral interrupts 16..31 (per CPU).</summary>
    public const int FirstPpi = 16;

    /// <summary>Shared peripheral interrupts 32..1019.</summary>
    public const int FirstSpi = 32;

    public const int LastSpi = 1019;

    /// <summary>What acknowledge returns when nothing is pending.</summary>
    public const int Spurious = 1023;

    public static bool IsValid(int intid) => intid is >= 0 and <= LastSpi;

    public static bool IsPrivate(int intid) => intid is >= 0 and < FirstSpi;
}

/// <summary>
/// The virtual CPU interface of one vCPU: enable, pending and active state for every INTID it can see (its own
/// SGIs and PPIs, and the SPIs routed to it). Priority is by INTID (lowest first) — the model has no priority
/// registers; what matters for FF-A is whether an interrupt is pending, not which wins a tie.
/// </summary>
public sealed class VirtualCpuInterface
{
    private const int Words = 1024 / 64;
    private readonly ulong[] _enabled = new ulong[Words];
    private readonly ulong[] _pending = new ulong[Words];
    private readonly ulong[] _active = new ulong[Words];
    private int _pendingCount;

    /// <summary>Raised when an enabled interrupt becomes pending (so a waiting vCPU can be woken).</summary>
    public Action<int>? Signalled { get; set; }

    public void Enable(int intid)
    {
        Set(_enabled, intid);
        if (Has(_pending, intid))
        {
            Signalled?.Invoke(intid);
        }
    }

    public void Disable(int intid) => Clear(_enabled, intid);

    public bool IsEnabled(int intid) => Has(_enabled, intid);

    public bool IsPending(int intid) => Has(_pending, intid);

    public bool IsActive(int intid) => Has(_active, intid);

    /// <summary>Makes an interrupt pending; true if it was not pending before.</summary>
    public bool SetPending(int intid)
    {
        if (!InterruptIds.IsValid(intid) || Has(_pending, intid))
        {
            return false;
        }

        Set(_pending, intid);
        _pendingCount++;
        if (Has(_enabled, intid))
        {
            Signalled?.Invoke(intid);
        }

        return true;
    }

    public void ClearPending(int intid)
    {
        if (Has(_pending, intid))
        {
            Clear(_pending, intid);
            _pendingCount--;
        }
    }

    /// <summary>Whether any interrupt is pending (enabled or not): the one-load check on every call return.</summary>
    public bool AnyPending => _pendingCount != 0;

    /// <summary>Whether an enabled, pending, not active interrupt is waiting to be taken.</summary>
    public bool HasDeliverable => _pendingCount != 0 && FindDeliverable() != InterruptIds.Spurious;

    /// <summary>Takes the highest-priority deliverable interrupt: pending → active. <see cref="InterruptIds.Spurious"/> if none.</summary>
    public int Acknowledge()
    {
        var intid = FindDeliverable();
        if (intid != InterruptIds.Spurious)
        {
            Clear(_pending, intid);
            _pendingCount--;
            Set(_active, intid);
        }

        return intid;
    }

    /// <summary>Whether this interrupt is enabled, pending and not active: it would be taken.</summary>
    public bool IsDeliverable(int intid) => Has(_pending, intid) && Has(_enabled, intid) && !Has(_active, intid);

    /// <summary>Takes one particular deliverable interrupt: pending → active. False if it is not deliverable.</summary>
    public bool Acknowledge(int intid)
    {
        if (!IsDeliverable(intid))
        {
            return false;
        }

        Clear(_pending, intid);
        _pendingCount--;
        Set(_active, intid);
        return true;
    }

    /// <summary>End of interrupt: active → inactive. False if it was not active.</summary>
    public bool EndOfInterrupt(int intid)
    {
        if (!Has(_active, intid))
        {
            return false;
        }

        Clear(_active, intid);
        return true;
    }

    private int FindDeliverable()
    {
        for (var w = 0; w < Words; w++)
        {
            var ready = _pending[w] & _enabled[w] & ~_active[w];
            if (ready != 0)
            {
                return (w * 64) + BitOperations.TrailingZeroCount(ready);
            }
        }

        return InterruptIds.Spurious;
    }

    private static bool Has(ulong[] bits, int intid) =>
        InterruptIds.IsValid(intid) && (bits[intid >> 6] & (1UL << (intid & 63))) != 0;

    private static void Set(ulong[] bits, int intid)
    {
        if (InterruptIds.IsValid(intid))
        {
            bits[intid >> 6] |= 1UL << (intid & 63);
        }
    }

    private static void Clear(ulong[] bits, int intid)
    {
        if (InterruptIds.IsValid(intid))
        {
            bits[intid >> 6] &= ~(1UL << (intid & 63));
        }
    }
}
