namespace Firmament.Abi.Ffa.Calls;

/// <summary>Frame-wide rules that depend on more than the ABI itself.</summary>
public static class FfaFrames
{
    /// <summary>
    /// The v1.2 rule for SMC64 calls (SMCCC v1.2): registers x8..x17 that an ABI does not use are MBZ on input,
    /// and a callee zeroes them on output. Whether it applies depends on the caller's negotiated version (v1.0 and
    /// v1.1 SMC64 calls use only x0..x7), so it is not part of any TryDecode: a dispatcher checks it for v1.2 callers.
    /// </summary>
    /// <param name="frame">The frame.</param>
    /// <param name="firstUnused">
    /// The first register the ABI does not use, 8..18: 8 for most calls, 18 for those that use all of x0..x17.
    /// </param>
    public static bool UnusedUpperRegistersAreZero(in RegisterFrame frame, int firstUnused) =>
        UnusedUpperRegistersAreZero(frame, firstUnused, out _);

    /// <inheritdoc cref="UnusedUpperRegistersAreZero(in RegisterFrame, int)"/>
    /// <param name="frame">The frame.</param>
    /// <param name="firstUnused">The first register the ABI does not use, 8..18.</param>
    /// <param name="violation">The first non-zero register and its bits.</param>
    public static bool UnusedUpperRegistersAreZero(in RegisterFrame frame, int firstUnused, out AbiViolation violation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstUnused, Wire.LastClassicRegister + 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstUnused, RegisterFrame.Count);
        var registers = frame.AsReadOnlySpan();
        for (var i = firstUnused; i < RegisterFrame.Count; i++)
        {
            if (registers[i] != 0)
            {
                violation = AbiViolation.Mbz(i, registers[i]);
                return false;
            }
        }

        violation = default;
        return true;
    }
}
