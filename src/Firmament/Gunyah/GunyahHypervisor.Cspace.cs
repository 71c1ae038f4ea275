using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Machine;

namespace Firmament.Gunyah;

// Capability management: cspace_copy_cap_from, cspace_delete_cap_from, cspace_revoke_caps_from, cspace_configure,
// partition_create_doorbell / _msgqueue, object_activate(_from). Choices where the sources are silent: revoking from
// a cap that is not a master is ARGUMENT_INVALID; deleting a revoked cap is allowed (that is how its slot is freed).
public sealed partial class GunyahHypervisor
{
    /// <summary>The rights a master cap carries: every bit.</summary>
    public const uint AllRights = uint.MaxValue;

    private static CallOutcome CspaceCopyCapFrom(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.CspaceCopyCapFrom.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = vm.Cspace.Lookup<Cspace>(call.SourceCspace, GunyahObjectType.Cspace, (uint)CspaceRights.CapCopy, out var source);
        Cspace destination = null!;
        error = error != GunyahError.Ok ? error : vm.Cspace.Lookup(call.DestinationCspace, GunyahObjectType.Cspace, (uint)CspaceRights.CapCreate, out destination);
        Capability original = null!;
        error = error != GunyahError.Ok ? error : source.TryGet(call.SourceCap, out original);
        var rights = error == GunyahError.Ok ? original.Rights & call.RightsMask : 0;
        error = error != GunyahError.Ok ? error : rights == 0 ? GunyahError.CspaceInsufficientRights : GunyahError.Ok;
        Capability copy = null!;
        error = error != GunyahError.Ok ? error : destination.Add(original.Object, rights, master: false, out copy);
        Result(ref frame, error);
        frame[1] = error == GunyahError.Ok ? copy.Id.Value : CapId.Invalid.Value;
        return CallOutcome.Completed;
    }

    private static CallOutcome CspaceDeleteCapFrom(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.CspaceDeleteCapFrom.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = vm.Cspace.Lookup<Cspace>(call.Cspace, GunyahObjectType.Cspace, (uint)CspaceRights.CapDelete, out var cspace);
        Capability cap = null!;
        error = error != GunyahError.Ok ? error : cspace.TryGet(call.Cap, out cap);
        if (error == GunyahError.CspaceCapRevoked || error == GunyahError.Ok)
        {
            cspace.Remove(cap);
            error = GunyahError.Ok;
        }

        return Result(ref frame, error);
    }

    private static CallOutcome CspaceRevokeCapsFrom(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.CspaceRevokeCapsFrom.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = vm.Cspace.Lookup<Cspace>(call.SourceCspace, GunyahObjectType.Cspace, (uint)CspaceRights.CapRevoke, out var cspace);
        Capability master = null!;
        error = error != GunyahError.Ok ? error : cspace.TryGet(call.MasterCap, out master);
        error = error != GunyahError.Ok ? error : master.IsMaster ? GunyahError.Ok : GunyahError.ArgumentInvalid;
        if (error == GunyahError.Ok)
        {
            foreach (var cap in master.Object.Caps)
            {
                if (!ReferenceEquals(cap, master))
                {
                    cap.State = CapState.Revoked;
                }
            }
        }

        return Result(ref frame, error);
    }

    private static CallOutcome CspaceConfigure(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!GunyahFrameReader.TryPair(frame, convention, GunyahHypercall.CspaceConfigure, out var cspaceCap, out var maxCaps))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = vm.Cspace.Lookup<Cspace>(new CapId(cspaceCap), GunyahObjectType.Cspace, (uint)GenericRights.Activate, out var cspace);
        error = error != GunyahError.Ok ? error
            : cspace.State != GunyahObjectState.Init ? GunyahError.ObjectState
            : maxCaps is 0 or > Cspace.MaxIndex + 1 ? GunyahError.ArgumentInvalid
            : GunyahError.Ok;
        if (error == GunyahError.Ok)
        {
            cspace.MaxCaps = (int)maxCaps;
        }

        return Result(ref frame, error);
    }

    private static CallOutcome PartitionCreate(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention, bool doorbell)
    {
        var call = doorbell ? GunyahHypercall.PartitionCreateDoorbell : GunyahHypercall.PartitionCreateMsgqueue;
        if (!GunyahFrameReader.TryPair(frame, convention, call, out var partitionCap, out var cspaceCap))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = vm.Cspace.Lookup<PartitionObject>(new CapId(partitionCap), GunyahObjectType.Partition, (uint)PartitionRights.ObjectCreate, out _);
        Cspace cspace = null!;
        error = error != GunyahError.Ok ? error : vm.Cspace.Lookup(new CapId(cspaceCap), GunyahObjectType.Cspace, (uint)CspaceRights.CapCreate, out cspace);
        Capability cap = null!;
        if (error == GunyahError.Ok)
        {
            GunyahObject created = doorbell ? new Doorbell($"{vm.Name}.db{cspace.Count}") : new Msgqueue($"{vm.Name}.mq{cspace.Count}");
            error = cspace.Add(created, AllRights, master: true, out cap);
        }

        Result(ref frame, error);
        frame[1] = error == GunyahError.Ok ? cap.Id.Value : CapId.Invalid.Value;
        return CallOutcome.Completed;
    }

    private static CallOutcome ObjectActivate(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention, bool from)
    {
        GunyahError error;
        GunyahObject target = null!;
        if (from)
        {
            if (!GunyahFrameReader.TryPair(frame, convention, GunyahHypercall.ObjectActivateFrom, out var cspaceCap, out var cap))
            {
                return Result(ref frame, GunyahError.ArgumentInvalid);
            }

            error = vm.Cspace.Lookup<Cspace>(new CapId(cspaceCap), GunyahObjectType.Cspace, 0, out var cspace);
            error = error != GunyahError.Ok ? error : cspace.Lookup(new CapId(cap), GunyahObjectType.Any, (uint)GenericRights.Activate, out target);
        }
        else
        {
            if (!GunyahFrameReader.TryCap(frame, convention, GunyahHypercall.ObjectActivate, out var cap))
            {
                return Result(ref frame, GunyahError.ArgumentInvalid);
            }

            error = vm.Cspace.Lookup(new CapId(cap), GunyahObjectType.Any, (uint)GenericRights.Activate, out target);
        }

        error = error != GunyahError.Ok ? error
            : target.State != GunyahObjectState.Init ? GunyahError.ObjectState
            : !target.IsConfigured ? GunyahError.ObjectConfig
            : GunyahError.Ok;
        if (error == GunyahError.Ok)
        {
            target.OnActivate();
            target.State = GunyahObjectState.Active;
        }

        return Result(ref frame, error);
    }
}

/// <summary>Reads calls that have no typed view in the ABI layer: one cap, or two words, then the res0 slot.</summary>
internal static class GunyahFrameReader
{
    public static bool TryCap(in RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, out ulong cap)
    {
        var ok = GunyahFrame.TryCap(frame, convention, call, out var id, out _);
        cap = id.Value;
        return ok;
    }

    public static bool TryPair(in RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, out ulong first, out ulong second) =>
        GunyahFrame.TryPair(frame, convention, call, out first, out second, out _);
}
