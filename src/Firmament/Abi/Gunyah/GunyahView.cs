namespace Firmament.Abi.Gunyah;

/// <summary>
/// A typed view of one hypercall's arguments. <c>TryDecode</c> reads a frame in either convention and never throws;
/// <c>Encode</c> writes the function ID (SMCCC), the arguments and the reserved slot, and leaves every other register
/// as it was. Encode then decode gives the same value; decode then encode gives the same registers, except for the
/// SMCCC 1.3 SVE hint (bit 16 of w0) and the upper half of x0, which are not part of the call.
/// </summary>
public interface IGunyahCallView<TSelf>
    where TSelf : struct, IGunyahCallView<TSelf>
{
    static abstract GunyahHypercall Hypercall { get; }

    static abstract bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out TSelf value, out AbiViolation violation);

    void Encode(ref RegisterFrame frame, GunyahConvention convention);
}

/// <summary>
/// A typed view of a hypercall's return: x0 = error, x1..x7 = results, the same in both conventions (the
/// <see cref="GunyahConvention"/> parameter is there so that every view has one shape). Booleans must be 0 or 1 and
/// the error a sign-extended 32-bit value, else the frame does not decode.
/// </summary>
public interface IGunyahResultView<TSelf>
    where TSelf : struct, IGunyahResultView<TSelf>
{
    static abstract bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out TSelf value, out AbiViolation violation);

    void Encode(ref RegisterFrame frame, GunyahConvention convention);
}

/// <summary>Register-level helpers shared by the views.</summary>
internal static class GunyahFrame
{
    /// <summary>Register of the first argument: x1 under SMCCC, x0 native.</summary>
    public static int First(GunyahConvention convention) => convention == GunyahConvention.Native ? 0 : 1;

    /// <summary>Checks the function ID (SMCCC) and the reserved slot; returns the first argument register.</summary>
    public static bool TryOpen(in RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, out int first, out AbiViolation violation)
    {
        var x = frame.AsReadOnlySpan();
        first = First(convention);
        if (convention != GunyahConvention.Native && (frame.W(0) & ~GunyahHypercalls.SveHintBit) != GunyahHypercalls.SmcccId(call))
        {
            violation = AbiViolation.WrongFunction(frame.W(0));
            return false;
        }

        var info = GunyahHypercalls.Info(call);
        var slot = first + info.Inputs.Count;
        var ok = info.Reserved switch
        {
            GunyahReservedSlot.Zero => x[slot] == 0,
            GunyahReservedSlot.AllOnes => x[slot] == ulong.MaxValue,
            _ => true,
        };
        violation = ok ? AbiViolation.None
            : info.Reserved == GunyahReservedSlot.Zero ? AbiViolation.Mbz(slot, x[slot])
            : AbiViolation.Reserved(slot, x[slot]);
        return ok;
    }

    /// <summary>Writes the function ID (SMCCC) and the reserved slot; returns the first argument register.</summary>
    public static int Open(ref RegisterFrame frame, GunyahConvention convention, GunyahHypercall call)
    {
        var first = First(convention);
        if (convention != GunyahConvention.Native)
        {
            frame[0] = GunyahHypercalls.SmcccId(call);
        }

        var info = GunyahHypercalls.Info(call);
        var slot = first + info.Inputs.Count;
        switch (info.Reserved)
        {
            case GunyahReservedSlot.Zero:
                frame[slot] = 0;
                break;
            case GunyahReservedSlot.AllOnes:
                frame[slot] = ulong.MaxValue;
                break;
            default:
                break;
        }

        return first;
    }

    public static bool TryVirq(ReadOnlySpan<ulong> x, int register, out VirqInfo virq, out AbiViolation violation)
    {
        var ok = VirqInfo.TryUnpack(x[register], out virq, out var bad);
        violation = ok ? AbiViolation.None : AbiViolation.Mbz(register, bad);
        return ok;
    }

    public static bool TryError(ulong x0, out GunyahError error, out AbiViolation violation)
    {
        var ok = GunyahErrors.TryFromRegister(x0, out error);
        violation = ok ? AbiViolation.None : AbiViolation.Range(0, x0);
        return ok;
    }

    public static bool TryBoolean(ReadOnlySpan<ulong> x, int register, out bool value, out AbiViolation violation)
    {
        var ok = x[register] <= 1;
        value = x[register] == 1;
        violation = ok ? AbiViolation.None : AbiViolation.Range(register, x[register]);
        return ok;
    }

    /// <summary>Decodes the shape cap, vic, virq_info (the bind_virq calls).</summary>
    public static bool TryBind(
        in RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, out CapId target, out CapId vic, out VirqInfo virq, out AbiViolation violation)
    {
        target = default;
        vic = default;
        virq = default;
        var x = frame.AsReadOnlySpan();
        if (!TryOpen(frame, convention, call, out var a, out violation) || !TryVirq(x, a + 2, out virq, out violation))
        {
            return false;
        }

        target = new CapId(x[a]);
        vic = new CapId(x[a + 1]);
        return true;
    }

    public static void EncodeBind(ref RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, CapId target, CapId vic, VirqInfo virq)
    {
        var a = Open(ref frame, convention, call);
        frame[a] = target.Value;
        frame[a + 1] = vic.Value;
        frame[a + 2] = virq.Pack();
    }

    /// <summary>Decodes the shape of calls whose only argument is one capability.</summary>
    public static bool TryCap(in RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, out CapId cap, out AbiViolation violation)
    {
        cap = default;
        if (!TryOpen(frame, convention, call, out var a, out violation))
        {
            return false;
        }

        cap = new CapId(frame.AsReadOnlySpan()[a]);
        return true;
    }

    public static void EncodeCap(ref RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, CapId cap)
    {
        var a = Open(ref frame, convention, call);
        frame[a] = cap.Value;
    }

    /// <summary>Decodes the shape of calls with two plain 64-bit arguments.</summary>
    public static bool TryPair(in RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, out ulong first, out ulong second, out AbiViolation violation)
    {
        first = 0;
        second = 0;
        if (!TryOpen(frame, convention, call, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        first = x[a];
        second = x[a + 1];
        return true;
    }

    public static void EncodePair(ref RegisterFrame frame, GunyahConvention convention, GunyahHypercall call, ulong first, ulong second)
    {
        var a = Open(ref frame, convention, call);
        frame[a] = first;
        frame[a + 1] = second;
    }
}
