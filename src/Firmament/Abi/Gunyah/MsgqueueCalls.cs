namespace Firmament.Abi.Gunyah;

// Message queue hypercalls 0x17–0x21 (0x1E, msgqueue halt, is reserved).
// Frame-level checks (decode fails): the reserved slot (0, or −1 after configure_send/receive's delay), send flags
// 63:1, create_info 63:32, VIRQ info 63:32. Call-level checks (the frame decodes; the hypervisor answers an error):
// send size 0 or above the queue's max_msg_size (ERROR_ARGUMENT_SIZE), a delay other than −1 (ERROR_UNIMPLEMENTED),
// thresholds out of range and create_info depth/size out of 1..255 / 1..1023 (ERROR_ARGUMENT_INVALID).

/// <summary>msgqueue_bind_send_virq (0x17): the not-full (TX) VIRQ. Needs MQ BIND_SEND and VIC BIND_SOURCE.</summary>
public readonly record struct MsgqueueBindSendVirq(CapId Msgqueue, CapId Vic, VirqInfo Virq) : IGunyahCallView<MsgqueueBindSendVirq>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueBindSendVirq;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueBindSendVirq value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryBind(frame, convention, Hypercall, out var queue, out var vic, out var virq, out violation);
        value = ok ? new MsgqueueBindSendVirq(queue, vic, virq) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodeBind(ref frame, convention, Hypercall, Msgqueue, Vic, Virq);
}

/// <summary>msgqueue_bind_receive_virq (0x18): the not-empty (RX) VIRQ. Needs MQ BIND_RECEIVE and VIC BIND_SOURCE.</summary>
public readonly record struct MsgqueueBindReceiveVirq(CapId Msgqueue, CapId Vic, VirqInfo Virq) : IGunyahCallView<MsgqueueBindReceiveVirq>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueBindReceiveVirq;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueBindReceiveVirq value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryBind(frame, convention, Hypercall, out var queue, out var vic, out var virq, out violation);
        value = ok ? new MsgqueueBindReceiveVirq(queue, vic, virq) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) =>
        GunyahFrame.EncodeBind(ref frame, convention, Hypercall, Msgqueue, Vic, Virq);
}

/// <summary>msgqueue_unbind_send_virq (0x19). Needs MQ BIND_SEND.</summary>
public readonly record struct MsgqueueUnbindSendVirq(CapId Msgqueue) : IGunyahCallView<MsgqueueUnbindSendVirq>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueUnbindSendVirq;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueUnbindSendVirq value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryCap(frame, convention, Hypercall, out var queue, out violation);
        value = ok ? new MsgqueueUnbindSendVirq(queue) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => GunyahFrame.EncodeCap(ref frame, convention, Hypercall, Msgqueue);
}

/// <summary>msgqueue_unbind_receive_virq (0x1A). Needs MQ BIND_RECEIVE.</summary>
public readonly record struct MsgqueueUnbindReceiveVirq(CapId Msgqueue) : IGunyahCallView<MsgqueueUnbindReceiveVirq>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueUnbindReceiveVirq;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueUnbindReceiveVirq value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryCap(frame, convention, Hypercall, out var queue, out violation);
        value = ok ? new MsgqueueUnbindReceiveVirq(queue) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => GunyahFrame.EncodeCap(ref frame, convention, Hypercall, Msgqueue);
}

/// <summary>
/// msgqueue_send (0x1B): copy <see cref="Size"/> bytes from the caller's VA <see cref="Buffer"/> to the tail of the
/// queue. Returns not_full (<see cref="MsgqueueSendResult"/>). Needs MQ SEND.
/// </summary>
public readonly record struct MsgqueueSend(CapId Msgqueue, ulong Size, ulong Buffer, MsgqueueSendOptions Flags) : IGunyahCallView<MsgqueueSend>
{
    /// <summary>Bits 63:1 of the flags register.</summary>
    public const ulong FlagsMbzMask = ~(ulong)MsgqueueSendOptions.Push;

    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueSend;

    public bool IsPush => (Flags & MsgqueueSendOptions.Push) != 0;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueSend value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        var flags = x[a + 3];
        if ((flags & FlagsMbzMask) != 0)
        {
            violation = AbiViolation.Mbz(a + 3, flags & FlagsMbzMask);
            return false;
        }

        value = new MsgqueueSend(new CapId(x[a]), x[a + 1], x[a + 2], (MsgqueueSendOptions)flags);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = Msgqueue.Value;
        frame[a + 1] = Size;
        frame[a + 2] = Buffer;
        frame[a + 3] = (ulong)Flags;
    }
}

/// <summary>
/// msgqueue_receive (0x1C): copy the head message into the caller's VA <see cref="Buffer"/> of
/// <see cref="BufferSize"/> bytes. Returns size and not_empty (<see cref="MsgqueueReceiveResult"/>). Needs MQ RECEIVE.
/// </summary>
public readonly record struct MsgqueueReceive(CapId Msgqueue, ulong Buffer, ulong BufferSize) : IGunyahCallView<MsgqueueReceive>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueReceive;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueReceive value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        value = new MsgqueueReceive(new CapId(x[a]), x[a + 1], x[a + 2]);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = Msgqueue.Value;
        frame[a + 1] = Buffer;
        frame[a + 2] = BufferSize;
    }
}

/// <summary>msgqueue_flush (0x1D): discard every message. Needs MQ RECEIVE.</summary>
public readonly record struct MsgqueueFlush(CapId Msgqueue) : IGunyahCallView<MsgqueueFlush>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueFlush;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueFlush value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryCap(frame, convention, Hypercall, out var queue, out violation);
        value = ok ? new MsgqueueFlush(queue) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => GunyahFrame.EncodeCap(ref frame, convention, Hypercall, Msgqueue);
}

/// <summary>Special threshold and delay values of msgqueue_configure_send/receive.</summary>
public static class MsgqueueThreshold
{
    /// <summary>−1: leave the threshold as it is. Also the only delay the hypervisor accepts.</summary>
    public const ulong Unchanged = ulong.MaxValue;

    /// <summary>−2 (configure_receive only): set the not-empty threshold to the queue depth.</summary>
    public const ulong QueueDepth = ulong.MaxValue - 1;
}

/// <summary>
/// msgqueue_configure_send (0x1F): the not-full threshold (must be below the depth, −1 unchanged) and its delay,
/// which must be −1. The slot after the delay must be −1. Needs MQ SEND.
/// </summary>
public readonly record struct MsgqueueConfigureSend(CapId Msgqueue, ulong Threshold, ulong Delay) : IGunyahCallView<MsgqueueConfigureSend>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueConfigureSend;

    /// <summary>The hypervisor implements no delays: any value but −1 is ERROR_UNIMPLEMENTED.</summary>
    public bool IsDelaySupported => Delay == MsgqueueThreshold.Unchanged;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueConfigureSend value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        value = new MsgqueueConfigureSend(new CapId(x[a]), x[a + 1], x[a + 2]);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = Msgqueue.Value;
        frame[a + 1] = Threshold;
        frame[a + 2] = Delay;
    }
}

/// <summary>
/// msgqueue_configure_receive (0x20): the not-empty threshold (1..depth, −1 unchanged, −2 = depth) and its delay,
/// which must be −1. The slot after the delay must be −1. Needs MQ RECEIVE.
/// </summary>
public readonly record struct MsgqueueConfigureReceive(CapId Msgqueue, ulong Threshold, ulong Delay) : IGunyahCallView<MsgqueueConfigureReceive>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueConfigureReceive;

    /// <summary>The hypervisor implements no delays: any value but −1 is ERROR_UNIMPLEMENTED.</summary>
    public bool IsDelaySupported => Delay == MsgqueueThreshold.Unchanged;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueConfigureReceive value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        value = new MsgqueueConfigureReceive(new CapId(x[a]), x[a + 1], x[a + 2]);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = Msgqueue.Value;
        frame[a + 1] = Threshold;
        frame[a + 2] = Delay;
    }
}

/// <summary>
/// msgqueue_configure (0x21): depth and maximum message size of a queue in its INIT state. Needs the generic
/// ACTIVATE right.
/// </summary>
public readonly record struct MsgqueueConfigure(CapId Msgqueue, MsgqueueCreateInfo CreateInfo) : IGunyahCallView<MsgqueueConfigure>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.MsgqueueConfigure;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueConfigure value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        if (!MsgqueueCreateInfo.TryUnpack(x[a + 1], out var info, out var bad))
        {
            violation = AbiViolation.Mbz(a + 1, bad);
            return false;
        }

        value = new MsgqueueConfigure(new CapId(x[a]), info);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = Msgqueue.Value;
        frame[a + 1] = CreateInfo.Pack();
    }
}
