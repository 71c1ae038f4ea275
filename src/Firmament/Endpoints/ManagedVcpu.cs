using System.Threading.Tasks.Sources;
using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Endpoints;

/// <summary>
/// Runs a managed (C#) endpoint program on a vCPU. The program awaits <see cref="CallAsync"/>; a call that
/// completes at once returns a completed ValueTask (no allocation, no switch); a call that blocks returns a
/// ValueTask backed by this object, whose continuation the scheduler invokes from its loop when it resumes the vCPU.
/// One reusable source per vCPU, scheduling flags ignored: no Task, no thread pool, no captured context.
/// </summary>
public sealed class ManagedVcpu : IVcpuBackend, IConduit, IHvcConduit, ICpuInterrupts, IValueTaskSource<RegisterFrame>, IValueTaskSource
{
    private readonly Dictionary<int, InterruptHandler> _handlers = [];
    private readonly Scheduler _scheduler;
    private readonly EndpointProgram _code;
    private Func<Vcpu, EndpointContext>? _contextFactory;
    private Vcpu? _vcpu;
    private Action<object?>? _continuation;
    private object? _continuationState;
    private RegisterFrame _registers;
    private short _token;
    private bool _hasResult;
    private bool _started;
    private Task? _program;

    // Taking an interrupt at a call boundary: the code's own continuation, token and answer wait here while the
    // handlers run (their calls use the same source), and are restored when the last handler returns.
    private bool _interruptOwed;
    private bool _inHandler;
    private bool _inWfi;
    private Action<object?>? _codeContinuation;
    private object? _codeContinuationState;
    private short _codeToken;
    private RegisterFrame _codeResult;

    public ManagedVcpu(Scheduler scheduler, EndpointProgram program)
    {
        _scheduler = scheduler;
        _code = program;
    }

    /// <summary>Ties this backend to its vCPU and says how to build the program's context on first run.</summary>
    public void Bind(Vcpu vcpu, Func<Vcpu, EndpointContext> contextFactory)
    {
        _vcpu = vcpu;
        _contextFactory = contextFactory;
    }

    public void Resume(Vcpu vcpu)
    {
        if (!_started)
        {
            _started = true;
            _program = RunProgramAsync(_contextFactory!(vcpu));
            return;
        }

        var continuation = _continuation;
        if (continuation is null)
        {
            Stop(vcpu, "resumed while not parked in a call (the program awaited something other than its conduit)");
            return;
        }

        var state = _continuationState;
        _continuation = null;
        _inWfi = false; // made ready by the scheduler's owner rather than by an interrupt: the wait is over either way
        if (_interruptOwed)
        {
            _interruptOwed = false;
            TakeInterrupts(continuation, state, _codeResult);
            return;
        }

        _registers = vcpu.Result;
        _scheduler.OnReturn(vcpu, _registers);
        if (TakesInterrupt(vcpu))
        {
            TakeInterrupts(continuation, state, _registers);
            return;
        }

        _hasResult = true;
        continuation(state);
    }

    public ref RegisterFrame Registers => ref _registers;

    public ValueTask CallAsync()
    {
        var vcpu = _vcpu!;
        if (!ReferenceEquals(_scheduler.Running, vcpu))
        {
            throw new InvalidOperationException($"{vcpu.Id} made a call while not running (a second call before the first returned?)");
        }

        _scheduler.OnCall(vcpu, _registers);
        if (vcpu.Handler.Call(vcpu, ref _registers) == CallOutcome.Completed)
        {
            if (!_scheduler.YieldAfterCompletedCall(vcpu, _registers))
            {
                _scheduler.OnReturn(vcpu, _registers);
                if (!TakesInterrupt(vcpu))
                {
                    return default;
                }

                // An interrupt is taken at this boundary: from the scheduler's loop, with the answer kept for after.
                _codeResult = _registers;
                _interruptOwed = true;
                _scheduler.ContinueLater(vcpu, _registers);
            }
        }
        else
        {
            _scheduler.AfterBlockedCall(vcpu);
        }

        _hasResult = false;
        return new ValueTask(this, ++_token);
    }

    /// <summary>
    /// Traps with <see cref="Registers"/> through <c>HVC #<paramref name="hvcImmediate"/></c> (a native Gunyah
    /// hypercall, where the call number is the immediate); otherwise as <see cref="CallAsync()"/>.
    /// </summary>
    public ValueTask CallAsync(ushort hvcImmediate)
    {
        var vcpu = _vcpu!;
        vcpu.Immediate = hvcImmediate;
        try
        {
            return CallAsync();
        }
        finally
        {
            vcpu.Immediate = 0;
        }
    }

    public ValueTask<RegisterFrame> CallAsync(in RegisterFrame frame)
    {
        _registers = frame;
        var pending = CallAsync();
        return pending.IsCompleted ? new ValueTask<RegisterFrame>(_registers) : new ValueTask<RegisterFrame>(this, _token);
    }

    public ValueTaskSourceStatus GetStatus(short token) => _hasResult ? ValueTaskSourceStatus.Succeeded : ValueTaskSourceStatus.Pending;

    public RegisterFrame GetResult(short token)
    {
        ((IValueTaskSource)this).GetResult(token);
        return _registers;
    }

    void IValueTaskSource.GetResult(short token)
    {
        if (token != _token || !_hasResult)
        {
            throw new InvalidOperationException("a conduit result was read twice or before it was ready");
        }

        _hasResult = false;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        // Flags ignored on purpose: the scheduler's loop is the only place continuations run.
        _continuation = continuation;
        _continuationState = state;
    }

    public void Handle(int intid, InterruptHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handlers[intid] = handler;
        _vcpu!.Interrupts.Enable(intid);
    }

    public void Release(int intid)
    {
        _handlers.Remove(intid);
        _vcpu!.Interrupts.Disable(intid);
    }

    public InterruptHandler? HandlerOf(int intid) => _handlers.GetValueOrDefault(intid);

    public bool IsPending(int intid) => _vcpu!.Interrupts.IsPending(intid);

    public bool EndOfInterrupt(int intid) => _vcpu!.Interrupts.EndOfInterrupt(intid);

    public ValueTask WaitForInterruptAsync()
    {
        var vcpu = _vcpu!;
        _hasResult = false;
        _codeResult = _registers;
        if (NextHandled(vcpu) >= 0)
        {
            _interruptOwed = true;
            _scheduler.ContinueLater(vcpu, _registers);
        }
        else
        {
            // WFI: off the pCPU until an enabled interrupt is signalled.
            _inWfi = true;
            vcpu.Interrupts.Signalled ??= _ => Wake();
            _scheduler.Hold(vcpu);
        }

        return new ValueTask(this, ++_token);
    }

    private void Wake()
    {
        var vcpu = _vcpu!;
        if (!_inWfi || vcpu.State != VcpuState.Held)
        {
            return;
        }

        _inWfi = false;
        _interruptOwed = true;
        _scheduler.Ready(vcpu, _codeResult, vcpu.Pcpu ?? _scheduler.HomeOf(vcpu));
    }

    /// <summary>Whether an interrupt with a handler is to be taken now (not while a handler runs: handlers do not nest).</summary>
    private bool TakesInterrupt(Vcpu vcpu) => !_inHandler && _handlers.Count != 0 && NextHandled(vcpu) >= 0;

    /// <summary>The lowest-numbered deliverable interrupt that has a handler, or −1 (others wait for the code to take them).</summary>
    private int NextHandled(Vcpu vcpu)
    {
        var next = -1;
        if (!vcpu.Interrupts.AnyPending)
        {
            return next;
        }

        foreach (var intid in _handlers.Keys)
        {
            if ((next < 0 || intid < next) && vcpu.Interrupts.IsDeliverable(intid))
            {
                next = intid;
            }
        }

        return next;
    }

    /// <summary>Runs the handlers for every deliverable interrupt, then gives the code <paramref name="result"/> through its continuation.</summary>
    private void TakeInterrupts(Action<object?> continuation, object? state, in RegisterFrame result)
    {
        _codeContinuation = continuation;
        _codeContinuationState = state;
        _codeToken = _token;
        _codeResult = result;
        _inHandler = true;
        _ = RunHandlersAsync();
    }

    private async Task RunHandlersAsync()
    {
        var vcpu = _vcpu!;
        try
        {
            for (var intid = NextHandled(vcpu); intid >= 0; intid = NextHandled(vcpu))
            {
                vcpu.Interrupts.Acknowledge(intid);
                await _handlers[intid](intid).ConfigureAwait(false);
                vcpu.Interrupts.EndOfInterrupt(intid);
            }
        }
#pragma warning disable CA1031 // A faulting handler is a faulting endpoint: contained like any other fault.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Stop(vcpu, $"managed exception in interrupt handler {e.GetType().Name}: {e.Message}");
            return;
        }

        _inHandler = false;
        var continuation = _codeContinuation!;
        _codeContinuation = null;
        _token = _codeToken;
        _registers = _codeResult;
        _hasResult = true;
        continuation(_codeContinuationState);
    }

    /// <summary>Whether the program has ended (returned or faulted).</summary>
    public bool HasEnded => _program?.IsCompleted ?? false;

    private async Task RunProgramAsync(EndpointContext context)
    {
        string? fault = null;
        try
        {
            await _code(context).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A faulting endpoint is contained: whatever it throws, the platform runs on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            fault = $"managed exception {e.GetType().Name}: {e.Message}";
        }

        Stop(_vcpu!, fault);
    }

    private void Stop(Vcpu vcpu, string? fault)
    {
        _continuation = null;
        vcpu.Handler.OnStopped(vcpu, fault);
        _scheduler.AfterBlockedCall(vcpu);
    }
}
