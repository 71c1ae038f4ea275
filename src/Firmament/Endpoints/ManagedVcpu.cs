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
public sealed class ManagedVcpu : IVcpuBackend, IConduit, IHvcConduit, IValueTaskSource<RegisterFrame>, IValueTaskSource
{
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

        _continuation = null;
        _registers = vcpu.Result;
        _hasResult = true;
        _scheduler.OnReturn(vcpu, _registers);
        continuation(_continuationState);
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
                return default;
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
