namespace Firmament.Abi;

/// <summary>Why a register frame is not a well-formed instance of the call it names.</summary>
public enum ViolationKind : byte
{
    None = 0,

    /// <summary>w0 is not the function this decoder reads (or not in a convention the spec defines for it).</summary>
    WrongFunction,

    /// <summary>Bits that must be zero are not.</summary>
    MbzNotZero,

    /// <summary>A field holds a value the spec reserves.</summary>
    ReservedValue,

    /// <summary>A field is outside its allowed range (a count of zero, a length past a limit).</summary>
    OutOfRange,
}

/// <summary>
/// The precise reason a frame failed to decode: what is wrong, in which register, and which bits. A value, never an
/// exception: frames come from endpoints and are untrusted.
/// </summary>
public readonly record struct AbiViolation(ViolationKind Kind, byte Register, ulong Bits)
{
    public static AbiViolation None => default;

    public bool IsNone => Kind == ViolationKind.None;

    public static AbiViolation WrongFunction(uint w0) => new(ViolationKind.WrongFunction, 0, w0);

    public static AbiViolation Mbz(int register, ulong bits) => new(ViolationKind.MbzNotZero, (byte)register, bits);

    public static AbiViolation Reserved(int register, ulong bits) => new(ViolationKind.ReservedValue, (byte)register, bits);

    public static AbiViolation Range(int register, ulong bits) => new(ViolationKind.OutOfRange, (byte)register, bits);

    public override string ToString() => Kind switch
    {
        ViolationKind.None => "ok",
        ViolationKind.WrongFunction => $"w0 0x{Bits:X8} is not this function",
        ViolationKind.MbzNotZero => $"x{Register}: MBZ bits 0x{Bits:X} are set",
        ViolationKind.ReservedValue => $"x{Register}: reserved value 0x{Bits:X}",
        _ => $"x{Register}: value 0x{Bits:X} out of range",
    };
}
