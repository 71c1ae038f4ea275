namespace Firmament.Abi.Gunyah;

// Doorbell hypercalls 0x10–0x15 (0x16, doorbell halt, is reserved). Every call ends with a res0 slot.
// What the views do not check, because the hypervisor answers it as a call error rather than a malformed frame:
// a zero clear_flags in doorbell_receive (ERROR_ARGUMENT_INVALID), and the VIRQ number's range (platform-specific).

/// <summary>doorbell_bind_virq (0x10): bind the doorbell's receive VIRQ in a VIC. Needs DB BIND and VIC BIND_SOURCE.</summary>
public readonly record struct DoorbellBindVirq(CapId Doorbell, CapId Vic, VirqInfo Virq) : IGunyahCallView<DoorbellBindVirq>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.DoorbellBindVirq;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out DoorbellBindVirq value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryBind(frame, convention, Hypercall, out var doorbell, out var vic, out var virq, out violation);
        value = ok ? new DoorbellBindVirq(doorbell, vic, virq) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodeBind(ref frame, convention, Hypercall, Doorbell, Vic, Virq);
}

/// <summary>doorbell_unbind_virq (0x11). Needs DB BIND.</summary>
public readonly record struct DoorbellUnbindVirq(CapId Doorbell) : IGunyahCallView<DoorbellUnbindVirq>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.DoorbellUnbindVirq;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out DoorbellUnbindVirq value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryCap(frame, convention, Hypercall, out var doorbell, out violation);
        value = ok ? new DoorbellUnbindVirq(doorbell) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => GunyahFrame.EncodeCap(ref frame, convention, Hypercall, Doorbell);
}

/// <summary>doorbell_send (0x12): OR <see cref="NewFlags"/> into the flags; returns the old flags. Needs DB SEND.</summary>
public readonly record struct DoorbellSend(CapId Doorbell, ulong NewFlags) : IGunyahCallView<DoorbellSend>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.DoorbellSend;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out DoorbellSend value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryPair(frame, convention, Hypercall, out var doorbell, out var flags, out violation);
        value = ok ? new DoorbellSend(new CapId(doorbell), flags) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodePair(ref frame, convention, Hypercall, Doorbell.Value, NewFlags);
}

/// <summary>
/// doorbell_receive (0x13): clear <see cref="ClearFlags"/> and return the old flags. Needs DB RECEIVE. A zero mask
/// decodes (it is a well-formed frame) and the hypervisor answers ERROR_ARGUMENT_INVALID.
/// </summary>
public readonly record struct DoorbellReceive(CapId Doorbell, ulong ClearFlags) : IGunyahCallView<DoorbellReceive>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.DoorbellReceive;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out DoorbellReceive value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryPair(frame, convention, Hypercall, out var doorbell, out var flags, out violation);
        value = ok ? new DoorbellReceive(new CapId(doorbell), flags) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodePair(ref frame, convention, Hypercall, Doorbell.Value, ClearFlags);
}

/// <summary>doorbell_reset (0x14): clear flags and the VIRQ, enable mask all ones, ack mask 0. Needs DB RECEIVE.</summary>
public readonly record struct DoorbellReset(CapId Doorbell) : IGunyahCallView<DoorbellReset>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.DoorbellReset;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out DoorbellReset value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryCap(frame, convention, Hypercall, out var doorbell, out violation);
        value = ok ? new DoorbellReset(doorbell) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => GunyahFrame.EncodeCap(ref frame, convention, Hypercall, Doorbell);
}

/// <summary>doorbell_mask (0x15): set the enable and auto-acknowledge masks. Needs DB RECEIVE.</summary>
public readonly record struct DoorbellMask(CapId Doorbell, ulong EnableMask, ulong AckMask) : IGunyahCallView<DoorbellMask>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.DoorbellMask;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out DoorbellMask value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        value = new DoorbellMask(new CapId(x[a]), x[a + 1], x[a + 2]);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = Doorbell.Value;
        frame[a + 1] = EnableMask;
        frame[a + 2] = AckMask;
    }
}
