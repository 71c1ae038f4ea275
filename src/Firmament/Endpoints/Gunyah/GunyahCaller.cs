using Firmament.Abi;
using Firmament.Abi.Gunyah;

namespace Firmament.Endpoints.Gunyah;

/// <summary>
/// A guest's hypercall layer: each method encodes one hypercall with the ABI layer's typed view into the conduit's
/// register file, traps (SMCCC <c>HVC #0</c>, or the native <c>HVC #0x6000+N</c> when the conduit can carry an
/// immediate), and decodes the answer. Non-async pass-throughs where possible; a call that completes at once
/// allocates nothing.
/// </summary>
public sealed class GunyahCaller
{
    private readonly IConduit _conduit;

    public GunyahCaller(IConduit conduit, GunyahConvention convention = GunyahConvention.Smccc)
    {
        ArgumentNullException.ThrowIfNull(conduit);
        if (convention == GunyahConvention.Native && conduit is not IHvcConduit)
        {
            throw new ArgumentException("this conduit cannot trap with an HVC immediate: use the SMCCC convention", nameof(convention));
        }

        _conduit = conduit;
        Convention = convention;
    }

    public GunyahConvention Convention { get; }

    private ref RegisterFrame Registers => ref _conduit.Registers;

    public async ValueTask<HypervisorIdentifyResult> IdentifyAsync()
    {
        Prepare(default(HypervisorIdentify));
        await Trap(GunyahHypercall.HypervisorIdentify).ConfigureAwait(false);
        HypervisorIdentifyResult.TryDecode(Registers, Convention, out var result, out _);
        return result;
    }

    /// <summary>The Call UID service call (always SMCCC: it has no native form).</summary>
    public async ValueTask<CallUidResult> CallUidAsync()
    {
        Registers.Clear();
        Registers[0] = GunyahServiceCalls.CallUidId;
        await _conduit.CallAsync().ConfigureAwait(false);
        CallUidResult.TryDecode(Registers, Convention, out var result, out _);
        return result;
    }

    public async ValueTask<DoorbellFlagsResult> DoorbellSendAsync(CapId doorbell, ulong flags)
    {
        Prepare(new DoorbellSend(doorbell, flags));
        await Trap(GunyahHypercall.DoorbellSend).ConfigureAwait(false);
        return FlagsResult();
    }

    public async ValueTask<DoorbellFlagsResult> DoorbellReceiveAsync(CapId doorbell, ulong clearFlags)
    {
        Prepare(new DoorbellReceive(doorbell, clearFlags));
        await Trap(GunyahHypercall.DoorbellReceive).ConfigureAwait(false);
        return FlagsResult();
    }

    public async ValueTask<GunyahError> DoorbellMaskAsync(CapId doorbell, ulong enableMask, ulong ackMask)
    {
        Prepare(new DoorbellMask(doorbell, enableMask, ackMask));
        await Trap(GunyahHypercall.DoorbellMask).ConfigureAwait(false);
        return Error();
    }

    public async ValueTask<GunyahError> DoorbellResetAsync(CapId doorbell)
    {
        Prepare(new DoorbellReset(doorbell));
        await Trap(GunyahHypercall.DoorbellReset).ConfigureAwait(false);
        return Error();
    }

    public async ValueTask<MsgqueueSendResult> MsgqueueSendAsync(CapId queue, ulong size, ulong buffer, bool push)
    {
        Prepare(new MsgqueueSend(queue, size, buffer, push ? MsgqueueSendOptions.Push : MsgqueueSendOptions.None));
        await Trap(GunyahHypercall.MsgqueueSend).ConfigureAwait(false);
        MsgqueueSendResult.TryDecode(Registers, Convention, out var result, out _);
        return result;
    }

    public async ValueTask<MsgqueueReceiveResult> MsgqueueReceiveAsync(CapId queue, ulong buffer, ulong bufferSize)
    {
        Prepare(new MsgqueueReceive(queue, buffer, bufferSize));
        await Trap(GunyahHypercall.MsgqueueReceive).ConfigureAwait(false);
        MsgqueueReceiveResult.TryDecode(Registers, Convention, out var result, out _);
        return result;
    }

    public async ValueTask<GunyahError> MsgqueueFlushAsync(CapId queue)
    {
        Prepare(new MsgqueueFlush(queue));
        await Trap(GunyahHypercall.MsgqueueFlush).ConfigureAwait(false);
        return Error();
    }

    public async ValueTask<GunyahError> MsgqueueConfigureReceiveAsync(CapId queue, ulong threshold)
    {
        Prepare(new MsgqueueConfigureReceive(queue, threshold, MsgqueueThreshold.Unchanged));
        await Trap(GunyahHypercall.MsgqueueConfigureReceive).ConfigureAwait(false);
        return Error();
    }

    public async ValueTask<VcpuRunResult> VcpuRunAsync(CapId vcpu, ulong resume0 = 0, ulong resume1 = 0, ulong resume2 = 0)
    {
        Prepare(new VcpuRun(vcpu, resume0, resume1, resume2));
        await Trap(GunyahHypercall.VcpuRun).ConfigureAwait(false);
        VcpuRunResult.TryDecode(Registers, Convention, out var result, out _);
        return result;
    }

    /// <summary>scheduler_yield (generic): lets other vCPUs run; inside a vcpu_run it hands the CPU back to the runner.</summary>
    public async ValueTask<GunyahError> YieldAsync()
    {
        Registers.Clear();
        var a = Convention == GunyahConvention.Native ? 0 : 1;
        if (Convention == GunyahConvention.Smccc)
        {
            Registers[0] = GunyahHypercalls.SmcccId(GunyahHypercall.SchedulerYield);
        }

        Registers[a] = 0;
        await Trap(GunyahHypercall.SchedulerYield).ConfigureAwait(false);
        return Error();
    }

    /// <summary>A raw call: <paramref name="frame"/> as given, through the conduit (for tests and tools).</summary>
    public ValueTask<RegisterFrame> CallAsync(in RegisterFrame frame) => _conduit.CallAsync(frame);

    private void Prepare<T>(T call)
        where T : struct, IGunyahCallView<T>
    {
        Registers.Clear();
        call.Encode(ref Registers, Convention);
    }

    private ValueTask Trap(GunyahHypercall call) => Convention == GunyahConvention.Native
        ? ((IHvcConduit)_conduit).CallAsync(GunyahHypercalls.NativeImmediate(call))
        : _conduit.CallAsync();

    private GunyahError Error()
    {
        GunyahErrors.TryFromRegister(Registers[0], out var error);
        return error;
    }

    private DoorbellFlagsResult FlagsResult()
    {
        DoorbellFlagsResult.TryDecode(Registers, Convention, out var result, out _);
        return result;
    }
}
