using System.Buffers.Binary;
using Firmament.Abi.Ffa;
using Firmament.Abi.Gunyah.Rm;
using Firmament.Machine;

namespace Firmament.Gunyah;

/// <summary>One ACL entry of a memory parcel: a VM and its rights (X = 1, W = 2, R = 4).</summary>
public readonly record struct ParcelAccess(ushort Vmid, byte Rights);

/// <summary>
/// A memory parcel: pages of one owner VM offered to the VMs of its ACL under a 32-bit handle. The pages themselves
/// (who owns them, who has them mapped) live in the machine's page ledger as the grant <see cref="Key"/>; the parcel
/// keeps what only the RM knows — the ACL, label, attributes, the transaction type and the mem-info tag.
/// </summary>
public sealed class MemParcel
{
    internal MemParcel(uint handle, ushort owner, byte transType, byte memType, uint label, bool sanitized, ParcelAccess[] acl, uint[] attributes, PageRun[] runs)
    {
        Handle = handle;
        Owner = owner;
        TransType = transType;
        MemType = memType;
        Label = label;
        Sanitized = sanitized;
        _acl = acl;
        Attributes = attributes;
        Runs = runs;
    }

    private readonly ParcelAccess[] _acl;

    public uint Handle { get; }

    /// <summary>The grant's key in the page ledger (bit 62 set: FF-A handles never use it).</summary>
    public ulong Key => ResourceManager.ParcelKeyBit | Handle;

    public ushort Owner { get; }

    /// <summary>0 donate, 1 lend, 2 share (the RM's transaction types).</summary>
    public byte TransType { get; }

    public byte MemType { get; }

    public uint Label { get; }

    /// <summary>Zeroed when created (the SANITIZE flag).</summary>
    public bool Sanitized { get; }

    public IReadOnlyList<ParcelAccess> Acl => _acl;

    /// <summary>Attribute entries as sent: attr in the low 16 bits, VMID in the high 16.</summary>
    public IReadOnlyList<uint> Attributes { get; }

    /// <summary>The physically contiguous regions, in order (what MEM_SHARED and an accept's SGL count).</summary>
    public IReadOnlyList<PageRun> Runs { get; }

    public uint MemInfoTag { get; internal set; }

    public bool MemInfoTagSet { get; internal set; }

    public ParcelAccess? AccessOf(ushort vmid) => Array.Find(_acl, a => a.Vmid == vmid) is { Rights: not 0 } entry ? entry : null;
}

// Memory parcels (reference §9; the RM's memparcel.c for what §9 leaves open): MEM_LEND, MEM_SHARE, MEM_DONATE create a
// parcel over the caller's own pages and answer its handle; MEM_ACCEPT maps it into an ACL VM's stage 2 with that
// VM's rights at IPA = PA (the ledger's borrower mapping); MEM_RELEASE unmaps it; MEM_RECLAIM by the owner closes it;
// MEM_NOTIFY tells the ACL's VMs (MEM_SHARED) or the owner (MEM_ACCEPTED / MEM_RELEASED). Every check comes before any
// change, so an error leaves the ledger and the parcels as they were. The pages are the ledger's: a page in a parcel
// is in a grant, so FF-A cannot share it, and a page in an FF-A transaction cannot be put in a parcel (DENIED).
// Not built: MEM_APPEND and the APPEND flag (UNIMPLEMENTED), IO parcels (mem_type 1: ARGUMENT_INVALID), MAP_OTHER
// (DENIED, as in the RM), mapping at an IPA other than the region's PA (NORESOURCE: no other range is offered).
public sealed partial class ResourceManager
{
    /// <summary>Set in every parcel's ledger key.</summary>
    public const ulong ParcelKeyBit = 1UL << 62;

    /// <summary>Most entries in one list of a request.</summary>
    public const int MaxListEntries = 512;

    /// <summary>Most parcels one VM may own at once.</summary>
    public const int MaxParcelsPerVm = 64;

    public const byte TransDonate = (byte)RmTransType.Donate;
    public const byte TransLend = (byte)RmTransType.Lend;
    public const byte TransShare = (byte)RmTransType.Share;

    private const byte CreateFlagSanitize = 1;
    private const byte CreateFlagAppend = 2;
    private const byte AcceptValidateSanitized = (byte)RmAcceptFlags.ValidateSanitized;
    private const byte AcceptValidateAclAttr = (byte)RmAcceptFlags.ValidateAclAttributes;
    private const byte AcceptValidateLabel = (byte)RmAcceptFlags.ValidateLabel;
    private const byte AcceptMapOther = (byte)RmAcceptFlags.MapOther;
    private const byte AcceptMapContiguous = (byte)RmAcceptFlags.MapContiguous;
    private const byte AcceptSanitize = (byte)RmAcceptFlags.Sanitize;
    private const byte AcceptDone = (byte)RmAcceptFlags.Done;
    private const byte RightsX = (byte)RmMemRights.Execute;
    private const byte RightsW = (byte)RmMemRights.Write;
    private const byte RightsR = (byte)RmMemRights.Read;

    private readonly Dictionary<uint, MemParcel> _parcels = [];
    private uint _lastParcel;

    /// <summary>The machine's page ledger; without one the memory services answer UNIMPLEMENTED.</summary>
    public PageOwnership? Pages { get; set; }

    /// <summary>Open parcels, by handle.</summary>
    public IReadOnlyDictionary<uint, MemParcel> Parcels => _parcels;

    private RmError ServeMemory(ushort caller, RmMessageId id, ReadOnlySpan<byte> request, Span<byte> reply, out int length)
    {
        length = 0;
        if (Pages is null)
        {
            return RmError.Unimplemented;
        }

        return id switch
        {
            RmMessageId.MemLend => CreateParcel(caller, TransLend, request, reply, out length),
            RmMessageId.MemShare => CreateParcel(caller, TransShare, request, reply, out length),
            RmMessageId.MemDonate => CreateParcel(caller, TransDonate, request, reply, out length),
            RmMessageId.MemAccept => AcceptParcel(caller, request, reply, out length),
            RmMessageId.MemRelease => ReleaseParcel(caller, request),
            RmMessageId.MemReclaim => ReclaimParcel(caller, request),
            RmMessageId.MemNotify => NotifyParcel(caller, request),
            _ => RmError.Unimplemented,
        };
    }

    /// <summary>
    /// The three lists after a request's fixed part: ACL (u32 count, 4-byte entries), SGL (u16 count, u16 reserved —
    /// MEM_ACCEPT's map VMID —, 16-byte entries), attributes (u16 count, u16 reserved, 4-byte entries). The request must
    /// end with the attribute list (MSG_INVALID otherwise).
    /// </summary>
    private static RmError ReadLists(ReadOnlySpan<byte> lists, out ReadOnlySpan<byte> acl, out ReadOnlySpan<byte> sgl, out ushort sglReserved, out ReadOnlySpan<byte> attributes)
    {
        acl = sgl = attributes = default;
        sglReserved = 0;
        if (lists.Length < 4)
        {
            return RmError.MsgInvalid;
        }

        var aclCount = U32(lists, 0);
        if (aclCount > MaxListEntries)
        {
            return RmError.ArgumentInvalid;
        }

        var at = 4 + ((int)aclCount * 4);
        if (lists.Length < at + 4)
        {
            return RmError.MsgInvalid;
        }

        acl = lists[4..at];
        var sglCount = U16(lists, at);
        sglReserved = U16(lists, at + 2);
        if (sglCount > MaxListEntries)
        {
            return RmError.ArgumentInvalid;
        }

        var sglEnd = at + 4 + (sglCount * 16);
        if (lists.Length < sglEnd + 4)
        {
            return RmError.MsgInvalid;
        }

        sgl = lists[(at + 4)..sglEnd];
        var attrCount = U16(lists, sglEnd);
        if (attrCount > MaxListEntries)
        {
            return RmError.ArgumentInvalid;
        }

        if (lists.Length != sglEnd + 4 + (attrCount * 4))
        {
            return RmError.MsgInvalid;
        }

        attributes = lists[(sglEnd + 4)..];
        return RmError.Ok;
    }

    private static bool ValidRights(byte rights) => rights is RightsR or (RightsR | RightsX) or (RightsR | RightsW) or (RightsR | RightsW | RightsX);

    private static Stage2Access AccessFor(byte rights) =>
        ((rights & RightsR) != 0 ? Stage2Access.Read : 0) | ((rights & RightsW) != 0 ? Stage2Access.Write : 0) | ((rights & RightsX) != 0 ? Stage2Access.Execute : 0);

    /// <summary>A VM whose pages the ledger knows (one with memory), by VMID.</summary>
    private GunyahVm? MemoryVm(ushort vmid) => vmid != Vmid && _gunyah.Vm(vmid) is { Memory: not null } vm ? vm : null;

    private RmError CreateParcel(ushort caller, byte transType, ReadOnlySpan<byte> request, Span<byte> reply, out int length)
    {
        length = 0;
        if (request.Length < 8)
        {
            return RmError.MsgInvalid;
        }

        var memType = request[0];
        var flags = request[2];
        var label = U32(request, 4);
        var error = ReadLists(request[8..], out var aclBytes, out var sglBytes, out _, out var attrBytes);
        if (error != RmError.Ok)
        {
            return error;
        }

        if ((flags & CreateFlagAppend) != 0)
        {
            return RmError.Unimplemented; // MEM_APPEND (more SGL entries in later messages) is not built
        }

        if (memType != 0 || (flags & ~CreateFlagSanitize) != 0 || aclBytes.Length == 0 || sglBytes.Length == 0)
        {
            return RmError.ArgumentInvalid;
        }

        if (MemoryVm(caller) is not { Memory: { } memory })
        {
            return RmError.Denied;
        }

        // The ACL: valid rights, known VMs with memory, no VMID twice, the owner in it iff SHARE, DONATE to one VM with RWX.
        var acl = new ParcelAccess[aclBytes.Length / 4];
        var ownerListed = false;
        for (var i = 0; i < acl.Length; i++)
        {
            var entry = new ParcelAccess(U16(aclBytes, i * 4), aclBytes[(i * 4) + 2]);
            if (!ValidRights(entry.Rights) || Array.Exists(acl, a => a.Rights != 0 && a.Vmid == entry.Vmid))
            {
                return RmError.ArgumentInvalid;
            }

            if (MemoryVm(entry.Vmid) is null)
            {
                return RmError.VmidInvalid;
            }

            ownerListed |= entry.Vmid == caller;
            acl[i] = entry;
        }

        if (ownerListed != (transType == TransShare) || (transType == TransShare && acl.Length < 2)
            || (transType == TransDonate && (acl.Length != 1 || acl[0].Rights != (RightsR | RightsW | RightsX))))
        {
            return RmError.ArgumentInvalid;
        }

        var attributes = new uint[attrBytes.Length / 4];
        for (var i = 0; i < attributes.Length; i++)
        {
            var attribute = U16(attrBytes, i * 4);
            var vmid = U16(attrBytes, (i * 4) + 2);
            if (attribute > 3 || !Array.Exists(acl, a => a.Vmid == vmid))
            {
                return RmError.ArgumentInvalid;
            }

            attributes[i] = U32(attrBytes, i * 4);
        }

        error = ReadRegions(caller, memory.Stage2, sglBytes, out var runs);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (_parcels.Values.Count(p => p.Owner == caller) >= MaxParcelsPerVm)
        {
            return RmError.Denied;
        }

        // All checked: the ledger takes the pages (lend and donate take the owner's access away).
        var handle = ++_lastParcel;
        var parcel = new MemParcel(handle, caller, transType, memType, label, (flags & CreateFlagSanitize) != 0, acl, attributes, runs);
        var borrowers = acl.Where(a => a.Vmid != caller).Select(a => new EndpointId(a.Vmid)).ToArray();
        var kind = transType switch
        {
            TransShare => GrantKind.Share,
            TransLend => GrantKind.Lend,
            _ => GrantKind.Donate,
        };
        Pages!.Open(parcel.Key, new EndpointId(caller), kind, runs, borrowers, parcel.Sanitized);
        _parcels.Add(handle, parcel);
        BinaryPrimitives.WriteUInt32LittleEndian(reply, handle);
        length = 4;
        return RmError.Ok;
    }

    /// <summary>
    /// The SGL's IPA ranges in the owner's stage 2 as physical runs: page-aligned, non-empty, not overlapping each other
    /// (ARGUMENT_INVALID); mapped (MEM_INVALID); the caller's own pages, held exclusively and in no other grant (DENIED).
    /// </summary>
    private RmError ReadRegions(ushort owner, Stage2Map map, ReadOnlySpan<byte> sgl, out PageRun[] runs)
    {
        runs = [];
        var count = sgl.Length / 16;
        var ranges = new (ulong Ipa, ulong Size)[count];
        for (var i = 0; i < count; i++)
        {
            var ipa = BinaryPrimitives.ReadUInt64LittleEndian(sgl[(i * 16)..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(sgl[((i * 16) + 8)..]);
            if (size == 0 || ((ipa | size) & (PhysicalMemory.PageSize - 1)) != 0 || ipa + size < ipa)
            {
                return RmError.ArgumentInvalid;
            }

            for (var j = 0; j < i; j++)
            {
                if (ipa < ranges[j].Ipa + ranges[j].Size && ranges[j].Ipa < ipa + size)
                {
                    return RmError.ArgumentInvalid;
                }
            }

            ranges[i] = (ipa, size);
        }

        var list = new List<PageRun>();
        var ledger = Pages!;
        foreach (var (ipa, size) in ranges)
        {
            for (ulong offset = 0; offset < size; offset += PhysicalMemory.PageSize)
            {
                if (!map.TryGetEntry(ipa + offset, out var entry))
                {
                    return RmError.MemInvalid;
                }

                if (!ledger.TryGetPage(entry.PhysicalPage, out var page) || page.OwnerIpaPage != (ipa + offset) >> PhysicalMemory.PageShift
                    || !ledger.OwnsExclusively(new EndpointId(owner), new PageRun(entry.PhysicalPage, 1)))
                {
                    return RmError.Denied;
                }

                // A new region where the physical pages stop being contiguous (or a new SGL entry starts).
                if (offset != 0 && list[^1].PhysicalPage + list[^1].Pages == entry.PhysicalPage)
                {
                    list[^1] = list[^1] with { Pages = list[^1].Pages + 1 };
                }
                else
                {
                    list.Add(new PageRun(entry.PhysicalPage, 1));
                }
            }
        }

        runs = [.. list];
        return RmError.Ok;
    }

    private RmError AcceptParcel(ushort caller, ReadOnlySpan<byte> request, Span<byte> reply, out int length)
    {
        length = 0;
        if (request.Length < 12)
        {
            return RmError.MsgInvalid;
        }

        var handle = U32(request, 0);
        var memType = request[4];
        var transType = request[5];
        var flags = request[6];
        var label = U32(request, 8);
        var error = ReadLists(request[12..], out var aclBytes, out var sglBytes, out var mapVmid, out var attrBytes);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (!_parcels.TryGetValue(handle, out var parcel))
        {
            return RmError.HandleInvalid;
        }

        if (memType != parcel.MemType || transType != parcel.TransType || (flags & 64) != 0)
        {
            return RmError.ArgumentInvalid;
        }

        if ((flags & AcceptDone) == 0)
        {
            return RmError.Denied;
        }

        error = ValidateAccept(parcel, flags, label, aclBytes, attrBytes);
        if (error != RmError.Ok)
        {
            return error;
        }

        if ((flags & AcceptMapOther) != 0)
        {
            return RmError.Denied; // mapping into another VM: not supported by the RM either
        }

        if (mapVmid != 0)
        {
            return RmError.ArgumentInvalid;
        }

        if (parcel.AccessOf(caller) is not { } access)
        {
            return RmError.VmidInvalid;
        }

        var sanitize = (flags & AcceptSanitize) != 0;
        if (sanitize && (access.Rights & RightsW) == 0)
        {
            return RmError.ArgumentInvalid;
        }

        if (caller == parcel.Owner)
        {
            return RmError.Denied;
        }

        var grant = Pages!.GrantOf(parcel.Key)!;
        if (grant.Borrower(new EndpointId(caller)) is { Mapped: true })
        {
            return RmError.MemInUse;
        }

        error = CheckPlacement(parcel, (flags & AcceptMapContiguous) != 0, sglBytes);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (!Pages.CanMap(parcel.Key, new EndpointId(caller)))
        {
            return RmError.MapFailed;
        }

        // All checked: map at IPA = PA with the ACL's rights; a donation ends here, the acceptor owning the pages.
        Pages.MapBorrower(parcel.Key, new EndpointId(caller), AccessFor(access.Rights), sanitize && parcel.TransType != TransShare);
        if (sanitize && parcel.TransType == TransShare)
        {
            foreach (var run in parcel.Runs)
            {
                Pages.Memory.ZeroPages(run.PhysicalPage, run.Pages);
            }
        }

        if (parcel.TransType == TransDonate)
        {
            Pages.Transfer(parcel.Key, new EndpointId(caller));
            _parcels.Remove(handle);
        }

        if (sglBytes.Length == 0)
        {
            length = WriteAcceptedRegions(parcel, (flags & AcceptMapContiguous) != 0, reply);
        }

        return RmError.Ok;
    }

    private static RmError ValidateAccept(MemParcel parcel, byte flags, uint label, ReadOnlySpan<byte> aclBytes, ReadOnlySpan<byte> attrBytes)
    {
        if ((flags & AcceptValidateSanitized) != 0 && !parcel.Sanitized)
        {
            return RmError.ValidateFailed;
        }

        if ((flags & AcceptValidateLabel) != 0 && label != parcel.Label)
        {
            return RmError.ValidateFailed;
        }

        if ((flags & AcceptValidateAclAttr) == 0)
        {
            return RmError.Ok;
        }

        if (aclBytes.Length / 4 != parcel.Acl.Count || attrBytes.Length / 4 != parcel.Attributes.Count)
        {
            return RmError.ValidateFailed;
        }

        for (var i = 0; i < parcel.Acl.Count; i++)
        {
            if (U16(aclBytes, i * 4) != parcel.Acl[i].Vmid || aclBytes[(i * 4) + 2] != parcel.Acl[i].Rights)
            {
                return RmError.ValidateFailed;
            }
        }

        for (var i = 0; i < parcel.Attributes.Count; i++)
        {
            if (U32(attrBytes, i * 4) != parcel.Attributes[i])
            {
                return RmError.ValidateFailed;
            }
        }

        return RmError.Ok;
    }

    /// <summary>
    /// Where the acceptor asked for the pages. The ledger maps a borrower at IPA = PA, so an SGL (one entry per region,
    /// or one for all with MAP_CONTIGUOUS) must name exactly that; sizes that differ are ARGUMENT_INVALID, another IPA
    /// NORESOURCE (no other range is offered). MAP_CONTIGUOUS needs physically contiguous regions (NORESOURCE).
    /// </summary>
    private static RmError CheckPlacement(MemParcel parcel, bool contiguous, ReadOnlySpan<byte> sgl)
    {
        var count = sgl.Length / 16;
        if (contiguous)
        {
            ulong total = 0;
            for (var i = 0; i < parcel.Runs.Count; i++)
            {
                if (i > 0 && parcel.Runs[i - 1].PhysicalPage + parcel.Runs[i - 1].Pages != parcel.Runs[i].PhysicalPage)
                {
                    return RmError.NoResource;
                }

                total += parcel.Runs[i].Pages << PhysicalMemory.PageShift;
            }

            return count switch
            {
                0 => RmError.Ok,
                1 when BinaryPrimitives.ReadUInt64LittleEndian(sgl[8..]) != total => RmError.ArgumentInvalid,
                1 => BinaryPrimitives.ReadUInt64LittleEndian(sgl) == parcel.Runs[0].PhysicalPage << PhysicalMemory.PageShift ? RmError.Ok : RmError.NoResource,
                _ => RmError.ArgumentInvalid,
            };
        }

        if (count == 0)
        {
            return RmError.Ok;
        }

        if (count != parcel.Runs.Count)
        {
            return RmError.ArgumentInvalid;
        }

        for (var i = 0; i < count; i++)
        {
            var run = parcel.Runs[i];
            if (BinaryPrimitives.ReadUInt64LittleEndian(sgl[((i * 16) + 8)..]) != run.Pages << PhysicalMemory.PageShift)
            {
                return RmError.ArgumentInvalid;
            }

            if (BinaryPrimitives.ReadUInt64LittleEndian(sgl[(i * 16)..]) != run.PhysicalPage << PhysicalMemory.PageShift)
            {
                return RmError.NoResource;
            }
        }

        return RmError.Ok;
    }

    /// <summary>An accept without an SGL is answered with where the regions went: u16 count, u8 flags, u8 0, {u64 IPA, u64 size}.</summary>
    private static int WriteAcceptedRegions(MemParcel parcel, bool contiguous, Span<byte> reply)
    {
        var regions = contiguous ? 1 : parcel.Runs.Count;
        BinaryPrimitives.WriteUInt32LittleEndian(reply, (uint)regions);
        if (contiguous)
        {
            ulong total = 0;
            foreach (var run in parcel.Runs)
            {
                total += run.Pages << PhysicalMemory.PageShift;
            }

            BinaryPrimitives.WriteUInt64LittleEndian(reply[4..], parcel.Runs[0].PhysicalPage << PhysicalMemory.PageShift);
            BinaryPrimitives.WriteUInt64LittleEndian(reply[12..], total);
            return 20;
        }

        for (var i = 0; i < regions; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(reply[(4 + (i * 16))..], parcel.Runs[i].PhysicalPage << PhysicalMemory.PageShift);
            BinaryPrimitives.WriteUInt64LittleEndian(reply[(12 + (i * 16))..], parcel.Runs[i].Pages << PhysicalMemory.PageShift);
        }

        return 4 + (regions * 16);
    }

    /// <summary>MEM_RELEASE and MEM_RECLAIM share a layout: u32 handle, u8 flags (bit 0 SANITIZE), 3 × 0.</summary>
    private RmError ReleaseOrReclaimRequest(ReadOnlySpan<byte> request, out MemParcel parcel, out bool sanitize)
    {
        parcel = null!;
        sanitize = false;
        if (request.Length != 8)
        {
            return RmError.MsgInvalid;
        }

        if (!_parcels.TryGetValue(U32(request, 0), out parcel!))
        {
            return RmError.HandleInvalid;
        }

        if ((request[4] & ~1) != 0)
        {
            return RmError.ArgumentInvalid;
        }

        sanitize = (request[4] & 1) != 0;
        return RmError.Ok;
    }

    private RmError ReleaseParcel(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = ReleaseOrReclaimRequest(request, out var parcel, out var sanitize);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (parcel.AccessOf(caller) is not { } access)
        {
            return RmError.HandleInvalid;
        }

        if (caller == parcel.Owner)
        {
            return RmError.Denied;
        }

        if (Pages!.GrantOf(parcel.Key)!.Borrower(new EndpointId(caller)) is not { Mapped: true })
        {
            return RmError.MemReleased;
        }

        if (sanitize && (access.Rights & RightsW) == 0)
        {
            return RmError.ArgumentInvalid;
        }

        Pages.UnmapBorrower(parcel.Key, new EndpointId(caller), sanitize);
        return RmError.Ok;
    }

    private RmError ReclaimParcel(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = ReleaseOrReclaimRequest(request, out var parcel, out var sanitize);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (caller != parcel.Owner)
        {
            return RmError.Denied;
        }

        if (Pages!.GrantOf(parcel.Key)!.AnyMapped)
        {
            return RmError.MemInUse;
        }

        Pages.Close(parcel.Key, sanitize);
        _parcels.Remove(parcel.Handle);
        return RmError.Ok;
    }

    /// <summary>
    /// MEM_NOTIFY: u32 handle, u8 flags, 3 × 0, u32 mem_info_tag, then for SHARED a VMID list (u16 count, u16 0,
    /// {u16 vmid, u16 0}). SHARED (owner only) sends MEM_SHARED to the listed ACL VMs; ACCEPTED / RELEASED (an ACL VM,
    /// whose state must agree) send MEM_ACCEPTED / MEM_RELEASED to the owner. The first tag given sticks.
    /// </summary>
    private RmError NotifyParcel(ushort caller, ReadOnlySpan<byte> request)
    {
        if (request.Length < 12)
        {
            return RmError.MsgInvalid;
        }

        if (!_parcels.TryGetValue(U32(request, 0), out var parcel))
        {
            return RmError.HandleInvalid;
        }

        var flags = request[4];
        var tag = U32(request, 8);
        if (parcel.MemInfoTagSet && parcel.MemInfoTag != tag)
        {
            return RmError.ArgumentInvalid;
        }

        return flags switch
        {
            1 => NotifyShared(caller, parcel, tag, request[12..]),
            2 or 4 => NotifyOwner(caller, parcel, accepted: flags == 4, request.Length),
            _ => RmError.ArgumentInvalid,
        };
    }

    private RmError NotifyShared(ushort caller, MemParcel parcel, uint tag, ReadOnlySpan<byte> list)
    {
        if (caller != parcel.Owner)
        {
            return RmError.Denied;
        }

        if (list.Length < 4)
        {
            return RmError.MsgInvalid;
        }

        var count = U16(list, 0);
        if (count == 0)
        {
            return RmError.ArgumentInvalid;
        }

        if (list.Length != 4 + (count * 4))
        {
            return RmError.MsgInvalid;
        }

        if (count > parcel.Acl.Count)
        {
            return RmError.ArgumentInvalid;
        }

        for (var i = 0; i < count; i++)
        {
            var vmid = U16(list, 4 + (i * 4));
            if (MemoryVm(vmid) is null)
            {
                return RmError.VmidInvalid;
            }

            if (parcel.AccessOf(vmid) is null)
            {
                return RmError.ArgumentInvalid;
            }
        }

        if (!parcel.MemInfoTagSet)
        {
            parcel.MemInfoTag = tag;
            parcel.MemInfoTagSet = true;
        }

        var shared = SharedNotification(parcel);
        for (var i = 0; i < count; i++)
        {
            Notify(U16(list, 4 + (i * 4)), RmMessageId.MemSharedNotification, shared);
        }

        return RmError.Ok;
    }

    /// <summary>
    /// MEM_SHARED: u32 handle, u8 mem_type, u8 trans_type, u8 flags (bit 0 sanitized), u8 0, u16 owner, u16 0, u32
    /// label, u32 mem_info_tag, the ACL (u32 count), the regions' sizes only (u16 count, u16 0, u64 each), the attributes
    /// (u16 count, u16 0, 4 bytes each).
    /// </summary>
    private static byte[] SharedNotification(MemParcel parcel)
    {
        var bytes = new byte[20 + 4 + (parcel.Acl.Count * 4) + 4 + (parcel.Runs.Count * 8) + 4 + (parcel.Attributes.Count * 4)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, parcel.Handle);
        span[4] = parcel.MemType;
        span[5] = parcel.TransType;
        span[6] = parcel.Sanitized ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], parcel.Owner);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], parcel.Label);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], parcel.MemInfoTag);
        var at = 20;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], (uint)parcel.Acl.Count);
        at += 4;
        foreach (var entry in parcel.Acl)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[at..], entry.Vmid);
            span[at + 2] = entry.Rights;
            at += 4;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)parcel.Runs.Count);
        at += 4;
        foreach (var run in parcel.Runs)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[at..], run.Pages << PhysicalMemory.PageShift);
            at += 8;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)parcel.Attributes.Count);
        at += 4;
        foreach (var attribute in parcel.Attributes)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[at..], attribute);
            at += 4;
        }

        return bytes;
    }

    /// <summary>MEM_ACCEPTED / MEM_RELEASED to the owner: u32 handle, u16 vmid, u16 0, u32 mem_info_tag.</summary>
    private RmError NotifyOwner(ushort caller, MemParcel parcel, bool accepted, int requestLength)
    {
        if (requestLength != 12)
        {
            return RmError.MsgInvalid;
        }

        if (parcel.AccessOf(caller) is null || caller == parcel.Owner)
        {
            return RmError.HandleInvalid;
        }

        var mapped = Pages!.GrantOf(parcel.Key)!.Borrower(new EndpointId(caller)) is { Mapped: true };
        if (mapped != accepted)
        {
            return mapped ? RmError.MemInUse : RmError.MemReleased;
        }

        Span<byte> note = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(note, parcel.Handle);
        BinaryPrimitives.WriteUInt16LittleEndian(note[4..], caller);
        BinaryPrimitives.WriteUInt32LittleEndian(note[8..], parcel.MemInfoTag);
        Notify(parcel.Owner, accepted ? RmMessageId.MemAcceptedNotification : RmMessageId.MemReleasedNotification, note);
        return RmError.Ok;
    }

    /// <summary>
    /// A VM being reset lets go of its parcels, as the RM's staged cleanup does: what it accepted is released, and the
    /// parcels it owns are released by everyone and reclaimed (its pages are its own again, to go with its partition).
    /// </summary>
    private void ReleaseParcelsOf(ushort vmid)
    {
        var id = new EndpointId(vmid);
        foreach (var parcel in _parcels.Values.ToList())
        {
            var grant = Pages!.GrantOf(parcel.Key)!;
            foreach (var borrower in grant.Borrowers)
            {
                if (borrower.Mapped && (borrower.Id == id || parcel.Owner == vmid))
                {
                    Pages.UnmapBorrower(parcel.Key, borrower.Id, zero: false);
                }
            }

            if (parcel.Owner == vmid)
            {
                Pages.Close(parcel.Key, zero: false);
                _parcels.Remove(parcel.Handle);
            }
        }
    }
}
