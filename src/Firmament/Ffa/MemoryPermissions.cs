using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Machine;

namespace Firmament.Ffa;

// FFA_MEM_PERM_GET and FFA_MEM_PERM_SET (v1.1; 32 and 64): an S-EL0 SP reads and sets the permissions of its own
// pages. Served to S-EL0 SPs only (FEATURES and the call answer NOT_SUPPORTED to anyone else, as Hafnium). Firmament
// models no stage-1, so the SP's translation is its stage-2 map, changed through the page ledger.
// - GET: x1 = base address, w2 = page count − 1; every page mapped (INVALID_PARAMETERS) and all with the same access
//   (INVALID_PARAMETERS otherwise); the answer is FFA_SUCCESS with w2 = the permissions (RO/RW/none, bit 2 = NX).
// - SET: x1 = base address (4 KiB aligned), w2 = page count (≥ 1), w3 = permissions; writable and executable at once
//   is INVALID_PARAMETERS (W^X, as Hafnium), unmapped pages INVALID_PARAMETERS, pages the SP does not own exclusively
//   (its buffers, memory it shares, lends or borrowed) DENIED, and only during the SP's initialisation, before its
//   first FFA_MSG_WAIT (DENIED after, as Hafnium).
public abstract partial class PartitionManager
{
    /// <summary>MEM_PERM_GET/SET are an S-EL0 partition's calls.</summary>
    protected static bool IsSEl0(in FfaCaller caller) => caller.Endpoint.Partition?.Config.ExceptionLevel == ExceptionLevel.SEl0;

    private void RegisterMemoryPermissions()
    {
        Register(FfaFunction.MemPermGet, HandleMemPermGet);
        Register(FfaFunction.MemPermSet, HandleMemPermSet);
    }

    private CallOutcome HandleMemPermGet(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MemPermGet.TryDecode(frame, out var call, out _) || caller.Endpoint.Partition is not { } partition)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var map = partition.Memory.Stage2;
        Stage2Access? access = null;
        for (uint i = 0; i < call.PageCount; i++)
        {
            if (!map.TryGetEntry(call.BaseAddress + ((ulong)i << PhysicalMemory.PageShift), out var entry) || (access is { } seen && seen != entry.Access))
            {
                return Fail(ref frame, FfaError.InvalidParameters);
            }

            access = entry.Access;
        }

        var value = access!.Value;
        var data = (value & Stage2Access.Write) != 0 ? MemDataAccess.ReadWrite : (value & Stage2Access.Read) != 0 ? MemDataAccess.ReadOnly : MemDataAccess.NoAccess;
        new MemPermGetSuccess(call.Is64, new MemPermissions(data, (value & Stage2Access.Execute) != 0)).Encode(ref frame);
        return CallOutcome.Completed;
    }

    private CallOutcome HandleMemPermSet(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MemPermSet.TryDecode(frame, out var call, out _)
            || caller.Endpoint.Partition is not { } partition
            || call.PageCount == 0
            || (call.BaseAddress & PhysicalMemory.PageMask) != 0
            || (call.Permissions.Access == MemDataAccess.ReadWrite && call.Permissions.Executable))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (caller.Self?.Occupation != Occupation.Boot || Pages is null)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var map = partition.Memory.Stage2;
        for (uint i = 0; i < call.PageCount; i++)
        {
            if (!map.TryGetEntry(call.BaseAddress + ((ulong)i << PhysicalMemory.PageShift), out var entry))
            {
                return Fail(ref frame, FfaError.InvalidParameters);
            }

            if (!Pages.OwnsExclusively(caller.Id, new PageRun(entry.PhysicalPage, 1)))
            {
                return Fail(ref frame, FfaError.Denied);
            }
        }

        var access = call.Permissions.Access switch
        {
            MemDataAccess.ReadWrite => Stage2Access.ReadWrite,
            MemDataAccess.ReadOnly => Stage2Access.Read,
            _ => Stage2Access.None,
        } | (call.Permissions.Executable ? Stage2Access.Execute : Stage2Access.None);
        Pages.SetOwnerAccess(caller.Id, call.BaseAddress, call.PageCount, access);
        return Succeed(ref frame);
    }
}
