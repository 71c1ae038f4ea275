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
    public static CallDescription Describe(in RegisterFrame frame, CallerKind caller, FfaVersion version, ushort? hvcImmediate)
    {
        if (hvcImmediate is { } immediate)
        {
            return GunyahDescriber.DescribeNative(immediate, frame);
        }

        return frame.Function.IsFast && frame.Function.Owner == SmcccOwner.VendorHypervisor
            ? GunyahDescriber.Describe(frame)
            : FfaDescriber.Describe(frame, caller, version);
    }
}
