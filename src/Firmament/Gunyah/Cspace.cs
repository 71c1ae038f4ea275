using Firmament.Abi.Gunyah;
using Firmament.Machine;

namespace Firmament.Gunyah;

/// <summary>Kinds of hypervisor object a capability can point at.</summary>
public enum GunyahObjectType : byte
{
    Any = 0,
    Partition,
    Cspace,
    Thread,
    Vic,
    Doorbell,
    Msgqueue,
}

/// <summary>An object's life: configurable in INIT, usable once activated.</summary>
public enum GunyahObjectState : byte
{
    Init = 0,
    Active = 1,
}

/// <summary>A hypervisor object: reached only through capabilities, each of which it knows (for revocation).</summary>
public abstract class GunyahObject
{
    private readonly List<Capability> _caps = [];

    public abstract GunyahObjectType Type { get; }

    public GunyahObjectState State { get; internal set; }

    /// <summary>Every capability to this object, in any cspace, master first.</summary>
    public IReadOnlyList<Capability> Caps => _caps;

    internal void Track(Capability cap) => _caps.Add(cap);

    internal void Forget(Capability cap) => _caps.Remove(cap);

    /// <summary>Whether the object has what activation needs (a message queue needs its depth and size).</summary>
    internal virtual bool IsConfigured => true;

    /// <summary>Called once, on INIT → ACTIVE.</summary>
    internal virtual void OnActivate()
    {
    }
}

/// <summary>The partition object: only its OBJECT_CREATE right matters here (partition_create_*).</summary>
public sealed class PartitionObject : GunyahObject
{
    public override GunyahObjectType Type => GunyahObjectType.Partition;
}

/// <summary>Capability states.</summary>
public enum CapState : byte
{
    Null = 0,
    Valid = 1,
    Revoked = 2,
}

/// <summary>One slot of a cspace: the object, its rights, state, and whether it is the master cap.</summary>
public sealed class Capability(Cspace owner, int index, GunyahObject target, uint rights, bool master)
{
    public Cspace Owner { get; } = owner;

    public int Index { get; } = index;

    public GunyahObject Object { get; } = target;

    public uint Rights { get; } = rights;

    public bool IsMaster { get; } = master;

    public CapState State { get; internal set; } = CapState.Valid;

    /// <summary>The ID that names this slot in its cspace.</summary>
    public CapId Id => Owner.Encode(Index);
}

/// <summary>
/// A capability space: slots addressed by a 16-bit index (8-bit table, 8-bit slot), named outside by randomized
/// 64-bit IDs: id = (index × mult) XOR base, with mult an odd 16-bit value and base a 64-bit value whose top half
/// is below 0xFFFFFF00, both drawn from the platform seed and the owner's VMID (deterministic, yet unrelated IDs for the
/// same object in two VMs). Lookup checks, in order: the ID decodes (else ARGUMENT_INVALID), the slot holds a cap
/// (CAP_NULL), not revoked (CAP_REVOKED), the object type (WRONG_OBJECT_TYPE), the rights (INSUFFICIENT_RIGHTS).
/// </summary>
public sealed class Cspace : GunyahObject
{
    /// <summary>Indices are 16 bits: 256 tables of 256 slots.</summary>
    public const int MaxIndex = 0xFFFF;

    private readonly Capability?[]?[] _tables = new Capability?[]?[256];
    private readonly ulong _base;
    private readonly uint _mult;
    private readonly uint _inverse;
    private int _count;

    public Cspace(string name, ulong seed, int maxCaps = 1024)
    {
        Name = name;
        var random = new DeterministicRandom(seed);
        // An odd multiplier has an inverse modulo 2^32, so decoding is one multiplication instead of two divisions.
        _mult = (uint)((random.Next(0x8000) * 2) + 1);
        _inverse = _mult;
        for (var i = 0; i < 5; i++)
        {
            _inverse *= 2 - (_mult * _inverse);
        }

        var high = (ulong)(uint)random.Next(0x7FFF_FF00);
        _base = (high << 32) | (uint)random.NextUInt64();
        MaxCaps = maxCaps;
    }

    public override GunyahObjectType Type => GunyahObjectType.Cspace;

    /// <summary>Whose cspace it is (for traces and tests).</summary>
    public string Name { get; }

    /// <summary>Most caps it may hold (cspace_configure); CSPACE_FULL beyond.</summary>
    public int MaxCaps { get; internal set; }

    public int Count => _count;

    public CapId Encode(int index) => new(((ulong)index * _mult) ^ _base);

    /// <summary>Decodes an ID to an index; false when it cannot name a slot of any cspace of this encoding.</summary>
    public bool TryDecode(CapId id, out int index)
    {
        index = -1;
        var product = id.Value ^ _base;
        if (product > uint.MaxValue)
        {
            return false;
        }

        // index × mult = product exactly when the inverse gives an index of 16 bits (the product of two 16-bit values
        // cannot wrap 32 bits, so the congruence is an equality).
        var candidate = (uint)product * _inverse;
        if (candidate > MaxIndex)
        {
            return false;
        }

        index = (int)candidate;
        return true;
    }

    /// <summary>The slot an ID names, or the error lookup gives: ARGUMENT_INVALID, CAP_NULL or CAP_REVOKED.</summary>
    public GunyahError TryGet(CapId id, out Capability cap)
    {
        cap = null!;
        if (!TryDecode(id, out var index))
        {
            return GunyahError.ArgumentInvalid;
        }

        var table = _tables[index >> 8];
        var slot = table?[index & 0xFF];
        if (slot is null || slot.State == CapState.Null)
        {
            return GunyahError.CspaceCapNull;
        }

        cap = slot;
        return slot.State == CapState.Revoked ? GunyahError.CspaceCapRevoked : GunyahError.Ok;
    }

    /// <summary>Looks a capability up for a call: state, then type, then rights (every bit of <paramref name="rights"/>).</summary>
    public GunyahError Lookup<T>(CapId id, GunyahObjectType type, uint rights, out T target)
        where T : GunyahObject
    {
        target = null!;
        var error = TryGet(id, out var cap);
        if (error != GunyahError.Ok)
        {
            return error;
        }

        if (type != GunyahObjectType.Any && cap.Object.Type != type)
        {
            return GunyahError.CspaceWrongObjectType;
        }

        if ((cap.Rights & rights) != rights)
        {
            return GunyahError.CspaceInsufficientRights;
        }

        target = (T)cap.Object;
        return GunyahError.Ok;
    }

    /// <summary>Puts a new capability in the first free slot: CSPACE_FULL when the cspace holds <see cref="MaxCaps"/>.</summary>
    public GunyahError Add(GunyahObject target, uint rights, bool master, out Capability cap)
    {
        ArgumentNullException.ThrowIfNull(target);
        cap = null!;
        if (_count >= MaxCaps)
        {
            return GunyahError.CspaceFull;
        }

        for (var index = 0; index <= MaxIndex; index++)
        {
            var table = _tables[index >> 8] ??= new Capability?[256];
            if (table[index & 0xFF] is null)
            {
                cap = new Capability(this, index, target, rights, master);
                table[index & 0xFF] = cap;
                target.Track(cap);
                _count++;
                return GunyahError.Ok;
            }
        }

        return GunyahError.CspaceFull;
    }

    /// <summary>Empties a slot.</summary>
    internal void Remove(Capability cap)
    {
        _tables[cap.Index >> 8]![cap.Index & 0xFF] = null;
        cap.State = CapState.Null;
        cap.Object.Forget(cap);
        _count--;
    }
}
