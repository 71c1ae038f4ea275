using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Firmament.Abi.Ffa.Calls;

/// <summary>
/// The shared steps of every codec: match w0, read a register in the call's convention, check MBZ bits and unused
/// registers, and start a frame. Kept small and inlinable: these run on every call.
/// </summary>
internal static class Wire
{
    /// <summary>The upper half of an x-register: MBZ under a 32-bit field of an SMC64 call.</summary>
    public const ulong UpperHalf = 0xFFFF_FFFF_0000_0000;

    /// <summary>Registers x1..x7: the arguments of every SMC32 call and of SMC64 calls up to v1.1.</summary>
    public const int LastClassicRegister = 7;

    private const uint Smc32Base = 0x8400_0000;
    private const uint Smc64Base = 0xC400_0000;

    /// <summary>The raw w0 of a function in one convention.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Id(FfaFunction function, bool is64) => (is64 ? Smc64Base : Smc32Base) | (uint)function;

    /// <summary>Register xN, read without copying the frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong X(in RegisterFrame frame, int index) => frame.AsReadOnlySpan()[index];

    /// <summary>Register N in the call's convention: xN for SMC64, wN for SMC32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong R(in RegisterFrame frame, int index, bool is64) => is64 ? X(frame, index) : frame.W(index);

    /// <summary>w0 is the SMC32 ID of <paramref name="function"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is32(in RegisterFrame frame, FfaFunction function, out AbiViolation violation)
    {
        var w0 = frame.W(0);
        violation = w0 == Id(function, false) ? default : AbiViolation.WrongFunction(w0);
        return violation.IsNone;
    }

    /// <summary>w0 is the SMC64 ID of <paramref name="function"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is64(in RegisterFrame frame, FfaFunction function, out AbiViolation violation)
    {
        var w0 = frame.W(0);
        violation = w0 == Id(function, true) ? default : AbiViolation.WrongFunction(w0);
        return violation.IsNone;
    }

    /// <summary>w0 is the SMC32 or the SMC64 ID of <paramref name="function"/>; <paramref name="is64"/> says which.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsEither(in RegisterFrame frame, FfaFunction function, out bool is64, out AbiViolation violation)
    {
        var w0 = frame.W(0);
        is64 = (w0 & FunctionId.Smc64Bit) != 0;
        violation = (w0 | FunctionId.Smc64Bit) == Id(function, true) ? default : AbiViolation.WrongFunction(w0);
        return violation.IsNone;
    }

    /// <summary>
    /// A register that holds 32-bit fields: the bits in <paramref name="mbz"/> are zero, and for SMC64 so is the
    /// upper half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Word(in RegisterFrame frame, int index, uint mbz, bool is64, out AbiViolation violation)
    {
        var bad = is64 ? X(frame, index) & (UpperHalf | mbz) : frame.W(index) & mbz;
        violation = bad == 0 ? default : AbiViolation.Mbz(index, bad);
        return bad == 0;
    }

    /// <summary>A full 64-bit register: the bits in <paramref name="mbz"/> are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Full(in RegisterFrame frame, int index, ulong mbz, out AbiViolation violation)
    {
        var bad = X(frame, index) & mbz;
        violation = bad == 0 ? default : AbiViolation.Mbz(index, bad);
        return bad == 0;
    }

    /// <summary>
    /// Registers <paramref name="first"/>..7 are unused by the ABI and so MBZ (their low halves for SMC32).
    /// x8..x17 are left to <see cref="FfaFrames.UnusedUpperRegistersAreZero(in RegisterFrame, int, out AbiViolation)"/>.
    /// </summary>
    public static bool Unused(in RegisterFrame frame, int first, bool is64, out AbiViolation violation)
    {
        for (var i = first; i <= LastClassicRegister; i++)
        {
            var value = R(frame, i, is64);
            if (value != 0)
            {
                violation = AbiViolation.Mbz(i, value);
                return false;
            }
        }

        violation = default;
        return true;
    }

    /// <summary>Starts an encoding: clears the frame and writes w0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Begin(ref RegisterFrame frame, FfaFunction function, bool is64)
    {
        frame.Clear();
        frame[0] = Id(function, is64);
    }

    /// <summary>A value for a register that is only 32 bits wide in SMC32: refuses what SMC32 cannot carry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Fit(ulong value, bool is64, string field)
    {
        if (!is64 && value > uint.MaxValue)
        {
            ThrowTooWide(field, value);
        }

        return value;
    }

    /// <summary>A value that must not exceed <paramref name="max"/> on the wire.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong AtMost(ulong value, ulong max, string field)
    {
        if (value > max)
        {
            ThrowOutOfRange(field, value, max);
        }

        return value;
    }

    /// <summary>A flags value that may hold only the bits in <paramref name="allowed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Only(uint value, uint allowed, string field)
    {
        if ((value & ~allowed) != 0)
        {
            ThrowUndefinedBits(field, value);
        }

        return value;
    }

    /// <summary>Refuses a value the wire cannot carry: a programmer error, never an endpoint's.</summary>
    [DoesNotReturn]
    public static void Refuse(string field, ulong value, string why) => throw new ArgumentOutOfRangeException(field, value, why);

    [DoesNotReturn]
    private static void ThrowUndefinedBits(string field, uint value) =>
        throw new ArgumentOutOfRangeException(field, value, "The value sets bits the ABI does not define.");

    [DoesNotReturn]
    private static void ThrowTooWide(string field, ulong value) =>
        throw new ArgumentOutOfRangeException(field, value, "An SMC32 call carries only 32 bits in this field.");

    [DoesNotReturn]
    private static void ThrowOutOfRange(string field, ulong value, ulong max) =>
        throw new ArgumentOutOfRangeException(field, value, $"The field holds at most 0x{max:X}.");
}
