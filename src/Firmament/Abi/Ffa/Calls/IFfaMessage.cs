namespace Firmament.Abi.Ffa.Calls;

/// <summary>
/// A typed view of one FF-A call or return, with its register-frame codec. Every implementation is a small
/// <c>readonly record struct</c>; decoding and encoding allocate nothing.
/// </summary>
/// <typeparam name="TSelf">The implementing type.</typeparam>
public interface IFfaMessage<TSelf>
    where TSelf : struct, IFfaMessage<TSelf>
{
    /// <summary>
    /// The function whose ID this message carries in w0 (<see cref="FfaFunction.Success"/> for the
    /// function-specific success views; <see cref="FfaFunction.Version"/> for VERSION's bare return).
    /// </summary>
    static abstract FfaFunction Abi { get; }

    /// <summary>The conventions this view accepts in w0.</summary>
    static abstract CallConventions Conventions { get; }

    /// <summary>
    /// Reads the fields the ABI defines. False, with the precise reason, when w0 is not this function in a
    /// convention the spec defines, when MBZ bits are set, or when a field holds a reserved or out-of-range value.
    /// For SMC32 the upper halves of the registers (and x8..x17) are ignored. Never throws.
    /// </summary>
    static abstract bool TryDecode(in RegisterFrame frame, out TSelf value, out AbiViolation violation);

    /// <summary>
    /// Writes the whole frame: w0, every field, and zero in every register and bit the ABI does not use
    /// (for SMC32 the upper halves stay zero). Throws only for a value the wire cannot carry (a programmer error).
    /// </summary>
    void Encode(ref RegisterFrame frame);
}
