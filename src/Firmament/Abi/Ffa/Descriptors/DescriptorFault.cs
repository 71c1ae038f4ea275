namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>
/// Why a descriptor read from an RX/TX buffer is not well formed. Each reason names one rule of the layout; the
/// readers stop at the first rule broken and report it with the byte offset of the field that broke it.
/// </summary>
public enum DescriptorError : byte
{
    None = 0,

    /// <summary>The bytes end inside a fixed-size structure (a header, a descriptor of the array).</summary>
    Truncated,

    /// <summary>The FF-A version given has no layout for this descriptor (v1.0 indirect messages, major ≠ 1).</summary>
    UnsupportedLayout,

    /// <summary>Partition info: the descriptor size is neither the v1.0 size (8) nor at least the v1.1 size (24).</summary>
    BadDescriptorSize,

    /// <summary>A reserved field is not zero.</summary>
    ReservedNotZero,

    /// <summary>Bits that must be zero in a defined field (flags, attributes, permissions) are set.</summary>
    MbzBitsSet,

    /// <summary>Memory transaction: the EMAD size is not 16 (v1.1) or 32 (v1.2) or not allowed for the layout.</summary>
    BadEmadSize,

    /// <summary>Memory transaction: the EMAD array starts inside the 48-byte header.</summary>
    EmadOffsetTooSmall,

    /// <summary>Memory transaction: the EMAD offset is not a multiple of 16.</summary>
    EmadOffsetMisaligned,

    /// <summary>Memory transaction: the EMAD count names more EMADs than the descriptor holds.</summary>
    EmadArrayOutOfRange,

    /// <summary>A send, retrieve request or retrieve response names no receiver; a relinquish names no endpoint.</summary>
    NoEndpoints,

    /// <summary>A hypervisor retrieve request carries EMADs (it must have none).</summary>
    UnexpectedEmads,

    /// <summary>A composite offset points outside the descriptor, or into its header or EMAD array.</summary>
    CompositeOffsetOutOfRange,

    /// <summary>A composite offset is not a multiple of 8.</summary>
    CompositeOffsetMisaligned,

    /// <summary>A retrieve request's EMAD names a composite (its composite offset must be 0).</summary>
    UnexpectedComposite,

    /// <summary>A composite's constituent count names more constituents than the descriptor holds.</summary>
    ConstituentCountMismatch,

    /// <summary>A composite's total page count is not the sum of its constituents' page counts.</summary>
    PageCountMismatch,

    /// <summary>A constituent's base address is not 4 KiB aligned.</summary>
    AddressMisaligned,

    /// <summary>A first fragment ends before the header, the EMADs and the composite header it must hold.</summary>
    FragmentTooShort,

    /// <summary>A fragment is longer than the total length of the descriptor.</summary>
    FragmentLongerThanTotal,

    /// <summary>A fragment ends inside a 16-byte constituent; later fragments carry whole constituents only.</summary>
    FragmentSplitsConstituent,

    /// <summary>Relinquish: the endpoint count names more IDs than the descriptor holds.</summary>
    EndpointArrayOutOfRange,

    /// <summary>Indirect message: the payload offset points into the header.</summary>
    PayloadOffsetTooSmall,

    /// <summary>Indirect message: offset + size runs past the end of the buffer.</summary>
    PayloadOutOfRange,
}

/// <summary>
/// The precise reason a descriptor failed to decode and where: <see cref="Offset"/> is the byte offset, from the start
/// of the descriptor, of the field (or structure) at fault. A value, never an exception: descriptors come from
/// endpoints and are untrusted.
/// </summary>
public readonly record struct DescriptorFault(DescriptorError Error, int Offset)
{
    public static DescriptorFault None => default;

    public bool IsNone => Error == DescriptorError.None;

    /// <summary>The rule that was broken, in words.</summary>
    public string Reason => Explain(Error);

    public override string ToString() => IsNone ? "ok" : $"{Error} at byte {Offset} (0x{Offset:X}): {Reason}";

    public static string Explain(DescriptorError error) => error switch
    {
        DescriptorError.None => "ok",
        DescriptorError.Truncated => "the bytes end inside a fixed-size structure",
        DescriptorError.UnsupportedLayout => "no layout of this descriptor exists for the version given",
        DescriptorError.BadDescriptorSize => "descriptor size is neither 8 (v1.0) nor at least 24 (v1.1+)",
        DescriptorError.ReservedNotZero => "reserved field is not zero",
        DescriptorError.MbzBitsSet => "bits that must be zero are set",
        DescriptorError.BadEmadSize => "EMAD size is not 16 (v1.1) or 32 (v1.2), or not allowed in this layout",
        DescriptorError.EmadOffsetTooSmall => "EMAD array starts inside the 48-byte header",
        DescriptorError.EmadOffsetMisaligned => "EMAD offset is not a multiple of 16",
        DescriptorError.EmadArrayOutOfRange => "EMAD count names more EMADs than the descriptor holds",
        DescriptorError.NoEndpoints => "no receiver (or endpoint) is named",
        DescriptorError.UnexpectedEmads => "a hypervisor retrieve request must carry no EMAD",
        DescriptorError.CompositeOffsetOutOfRange => "composite offset points outside the descriptor or into another of its structures",
        DescriptorError.CompositeOffsetMisaligned => "composite offset is not a multiple of 8",
        DescriptorError.UnexpectedComposite => "a retrieve request EMAD must have composite offset 0",
        DescriptorError.ConstituentCountMismatch => "constituent count names more constituents than the descriptor holds",
        DescriptorError.PageCountMismatch => "total page count is not the sum of the constituents' page counts",
        DescriptorError.AddressMisaligned => "constituent address is not 4 KiB aligned",
        DescriptorError.FragmentTooShort => "first fragment does not hold the header, all EMADs and the composite header",
        DescriptorError.FragmentLongerThanTotal => "fragment is longer than the total length",
        DescriptorError.FragmentSplitsConstituent => "fragment ends inside a constituent",
        DescriptorError.EndpointArrayOutOfRange => "endpoint count names more IDs than the descriptor holds",
        DescriptorError.PayloadOffsetTooSmall => "payload offset points into the header",
        DescriptorError.PayloadOutOfRange => "offset + size runs past the end of the buffer",
        _ => "unknown",
    };

    /// <summary>Sets <paramref name="fault"/> and returns false: the shape of every failing <c>TryRead</c>.</summary>
    internal static bool Fail(DescriptorError error, int offset, out DescriptorFault fault)
    {
        fault = new DescriptorFault(error, offset);
        return false;
    }

    /// <summary>Clamps a 64-bit position (computed overflow-free) to an int offset for reporting.</summary>
    internal static int At(long offset) => offset > int.MaxValue ? int.MaxValue : (int)offset;
}
