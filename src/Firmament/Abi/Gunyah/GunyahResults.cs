namespace Firmament.Abi.Gunyah;

// Return views. x0 = error, x1..x7 = results, identical in both conventions. A result register the call does not
// define is neither read nor written. When the error is not OK, the results are still carried as they are.

/// <summary>The return of every call whose only output is the error.</summary>
public readonly record struct GunyahResult(GunyahError Error) : IGunyahResultView<GunyahResult>
{
    public static GunyahResult Ok => default;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out GunyahResult value, out AbiViolation violation)
    {
        var ok = GunyahFrame.TryError(frame.AsReadOnlySpan()[0], out var error, out violation);
        value = ok ? new GunyahResult(error) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => frame[0] = Error.ToRegister();
}

/// <summary>doorbell_send and doorbell_receive return: the flags before the call.</summary>
public readonly record struct DoorbellFlagsResult(GunyahError Error, ulong OldFlags) : IGunyahResultView<DoorbellFlagsResult>
{
    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out DoorbellFlagsResult value, out AbiViolation violation)
    {
        var x = frame.AsReadOnlySpan();
        var ok = GunyahFrame.TryError(x[0], out var error, out violation);
        value = ok ? new DoorbellFlagsResult(error, x[1]) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        frame[0] = Error.ToRegister();
        frame[1] = OldFlags;
    }
}

/// <summary>msgqueue_send return: whether the queue can take another message.</summary>
public readonly record struct MsgqueueSendResult(GunyahError Error, bool NotFull) : IGunyahResultView<MsgqueueSendResult>
{
    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueSendResult value, out AbiViolation violation)
    {
        value = default;
        var x = frame.AsReadOnlySpan();
        if (!GunyahFrame.TryError(x[0], out var error, out violation) || !GunyahFrame.TryBoolean(x, 1, out var notFull, out violation))
        {
            return false;
        }

        value = new MsgqueueSendResult(error, notFull);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        frame[0] = Error.ToRegister();
        frame[1] = NotFull ? 1UL : 0;
    }
}

/// <summary>msgqueue_receive return: bytes received and whether more messages wait.</summary>
public readonly record struct MsgqueueReceiveResult(GunyahError Error, ulong Size, bool NotEmpty) : IGunyahResultView<MsgqueueReceiveResult>
{
    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out MsgqueueReceiveResult value, out AbiViolation violation)
    {
        value = default;
        var x = frame.AsReadOnlySpan();
        if (!GunyahFrame.TryError(x[0], out var error, out violation) || !GunyahFrame.TryBoolean(x, 2, out var notEmpty, out violation))
        {
            return false;
        }

        value = new MsgqueueReceiveResult(error, x[1], notEmpty);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        frame[0] = Error.ToRegister();
        frame[1] = Size;
        frame[2] = NotEmpty ? 1UL : 0;
    }
}

/// <summary>cspace_copy_cap_from and partition_create_* return: the new capability.</summary>
public readonly record struct NewCapResult(GunyahError Error, CapId NewCap) : IGunyahResultView<NewCapResult>
{
    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out NewCapResult value, out AbiViolation violation)
    {
        var x = frame.AsReadOnlySpan();
        var ok = GunyahFrame.TryError(x[0], out var error, out violation);
        value = ok ? new NewCapResult(error, new CapId(x[1])) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        frame[0] = Error.ToRegister();
        frame[1] = NewCap.Value;
    }
}

/// <summary>vcpu_run and vcpu_run_check return: the state and three words of state data (see <see cref="VcpuRunState"/>).</summary>
public readonly record struct VcpuRunResult(GunyahError Error, VcpuRunState State, ulong StateData0, ulong StateData1, ulong StateData2)
    : IGunyahResultView<VcpuRunResult>
{
    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out VcpuRunResult value, out AbiViolation violation)
    {
        var x = frame.AsReadOnlySpan();
        var ok = GunyahFrame.TryError(x[0], out var error, out violation);
        value = ok ? new VcpuRunResult(error, (VcpuRunState)x[1], x[2], x[3], x[4]) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        frame[0] = Error.ToRegister();
        frame[1] = (ulong)State;
        frame[2] = StateData0;
        frame[3] = StateData1;
        frame[4] = StateData2;
    }
}

/// <summary>hypervisor_identify return: hyp_api_info in x0 (there is no error word) and API flags 0..2 in x1..x3.</summary>
public readonly record struct HypervisorIdentifyResult(HypApiInfo ApiInfo, HypApiFlags0 Flags0, ApiFlags1 Flags1, ulong Flags2)
    : IGunyahResultView<HypervisorIdentifyResult>
{
    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out HypervisorIdentifyResult value, out AbiViolation violation)
    {
        var x = frame.AsReadOnlySpan();
        value = new HypervisorIdentifyResult(new HypApiInfo(x[0]), new HypApiFlags0(x[1]), (ApiFlags1)x[2], x[3]);
        violation = AbiViolation.None;
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        frame[0] = ApiInfo.Value;
        frame[1] = Flags0.Value;
        frame[2] = (ulong)Flags1;
        frame[3] = Flags2;
    }
}

/// <summary>
/// Call UID (0x8600FF01) return: the UUID as four 32-bit words in w0..w3, byte 0 of the UUID being the low byte of
/// w0. An SMC32 call: the upper halves of x0..x3 are not read, and are written as zero.
/// </summary>
public readonly record struct CallUidResult(Uuid Uid) : IGunyahResultView<CallUidResult>
{
    public static CallUidResult Gunyah => new(GunyahUid.Uuid);

    public bool IsGunyah => Uid == GunyahUid.Uuid;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out CallUidResult value, out AbiViolation violation)
    {
        value = new CallUidResult(Uuid.FromWords(frame.W(0), frame.W(1), frame.W(2), frame.W(3)));
        violation = AbiViolation.None;
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var (w0, w1, w2, w3) = Uid.ToWords();
        frame[0] = w0;
        frame[1] = w1;
        frame[2] = w2;
        frame[3] = w3;
    }
}

/// <summary>Revision (0x8600FF03) return: the hyp_api_info word in x0, as hypervisor_identify reports it.</summary>
public readonly record struct RevisionResult(HypApiInfo ApiInfo) : IGunyahResultView<RevisionResult>
{
    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out RevisionResult value, out AbiViolation violation)
    {
        value = new RevisionResult(new HypApiInfo(frame.AsReadOnlySpan()[0]));
        violation = AbiViolation.None;
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => frame[0] = ApiInfo.Value;
}
