namespace Firmament.Abi.Gunyah;

// CSpace hypercalls the platform implements first: copy, delete, revoke (one cap, and all children of a master).
// rights_mask is a cap_rights_t, a 32-bit type. This layer treats bits 63:32 of its register as MBZ: a choice, since
// the sources do not say whether the hypervisor ignores or rejects them, and no caller has a reason to set them.

/// <summary>
/// cspace_copy_cap_from (0x23): copy <see cref="SourceCap"/> from <see cref="SourceCspace"/> into
/// <see cref="DestinationCspace"/> with rights = source rights AND <see cref="RightsMask"/>. Returns the new cap
/// (<see cref="NewCapResult"/>). Needs CAP_COPY on the source cspace and CAP_CREATE on the destination.
/// </summary>
public readonly record struct CspaceCopyCapFrom(CapId SourceCspace, CapId SourceCap, CapId DestinationCspace, uint RightsMask)
    : IGunyahCallView<CspaceCopyCapFrom>
{
    /// <summary>Bits 63:32 of the rights register.</summary>
    public const ulong RightsMbzMask = 0xFFFF_FFFF_0000_0000;

    public static GunyahHypercall Hypercall => GunyahHypercall.CspaceCopyCapFrom;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out CspaceCopyCapFrom value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        if ((x[a + 3] & RightsMbzMask) != 0)
        {
            violation = AbiViolation.Mbz(a + 3, x[a + 3] & RightsMbzMask);
            return false;
        }

        value = new CspaceCopyCapFrom(new CapId(x[a]), new CapId(x[a + 1]), new CapId(x[a + 2]), (uint)x[a + 3]);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = SourceCspace.Value;
        frame[a + 1] = SourceCap.Value;
        frame[a + 2] = DestinationCspace.Value;
        frame[a + 3] = RightsMask;
    }
}

/// <summary>cspace_delete_cap_from (0x22): delete <see cref="Cap"/> from <see cref="Cspace"/>. Needs CAP_DELETE.</summary>
public readonly record struct CspaceDeleteCapFrom(CapId Cspace, CapId Cap) : IGunyahCallView<CspaceDeleteCapFrom>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.CspaceDeleteCapFrom;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out CspaceDeleteCapFrom value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryPair(frame, convention, Hypercall, out var cspace, out var cap, out violation);
        value = ok ? new CspaceDeleteCapFrom(new CapId(cspace), new CapId(cap)) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodePair(ref frame, convention, Hypercall, Cspace.Value, Cap.Value);
}

/// <summary>cspace_revoke_cap_from (0x24): the hypervisor always answers ERROR_UNIMPLEMENTED.</summary>
public readonly record struct CspaceRevokeCapFrom(CapId SourceCspace, CapId SourceCap) : IGunyahCallView<CspaceRevokeCapFrom>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.CspaceRevokeCapFrom;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out CspaceRevokeCapFrom value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryPair(frame, convention, Hypercall, out var cspace, out var cap, out violation);
        value = ok ? new CspaceRevokeCapFrom(new CapId(cspace), new CapId(cap)) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodePair(ref frame, convention, Hypercall, SourceCspace.Value, SourceCap.Value);
}

/// <summary>
/// cspace_revoke_caps_from (0x59): revoke every child of <see cref="MasterCap"/> (in any cspace). Needs the master
/// cap and CAP_REVOKE on <see cref="SourceCspace"/>.
/// </summary>
public readonly record struct CspaceRevokeCapsFrom(CapId SourceCspace, CapId MasterCap) : IGunyahCallView<CspaceRevokeCapsFrom>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.CspaceRevokeCapsFrom;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out CspaceRevokeCapsFrom value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryPair(frame, convention, Hypercall, out var cspace, out var cap, out violation);
        value = ok ? new CspaceRevokeCapsFrom(new CapId(cspace), new CapId(cap)) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodePair(ref frame, convention, Hypercall, SourceCspace.Value, MasterCap.Value);
}
