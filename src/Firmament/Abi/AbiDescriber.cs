using Firmament.Abi.Ffa;
using Firmament.Abi.Gunyah;

namespace Firmament.Abi;

/// <summary>
/// Reads any register frame in words: routes by the SMCCC owner in w0 — vendor-hypervisor IDs to the Gunyah
/// describer, everything else to the FF-A describer (which names unknown IDs as such). A native Gunyah hypercall
/// carries its number in the HVC immediate, not in the frame, so the caller says so.
/// </summary>
public static class AbiDescriber
{
    /// <param name="frame">The registers.</param>
    /// <param name="caller">Who made the call (some fields read differently for the hypervisor or an SP).</param>
    /// <param name="version">The FF-A version the caller negotiated.</param>
    /// <param name="hvcImmediate">For a native Gunyah hypercall, the HVC immediate that carries its number.</param>
    /// <param name="replyTo">For an FFA_SUCCESS frame, the call it answers (its fields are read as that call's return).</param>
    public static CallDescription Describe(in RegisterFrame frame, CallerKind caller, FfaVersion version, ushort? hvcImmediate, FfaFunction? replyTo = null)
    {
        if (hvcImmediate is { } immediate)
        {
            return GunyahDescriber.DescribeNative(immediate, frame);
        }

        return frame.Function.IsFast && frame.Function.Owner == SmcccOwner.VendorHypervisor
            ? GunyahDescriber.Describe(frame)
            : FfaDescriber.Describe(frame, caller, version, replyTo);
    }
}
