using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Endpoints;

/// <summary>
/// A vCPU driven call by call from outside (a scenario): it makes the call it is given, and between calls it is held
/// (<see cref="VcpuState.Held"/>) instead of running code. A call that completes at once is answered at once; a call
/// that blocks is answered when the scheduler resumes the vCPU, and the answer waits to be collected.
/// </summary>
public sealed class ScriptedVcpu(Scheduler scheduler) : IVcpuBackend
{
    private readonly Queue<(RegisterFrame Frame, ushort Immediate)> _calls = new();
    private bool _started;

    /// <summary>The vCPU is parked inside a call that has not returned yet.</summary>
    public bool InCall { get; private set; }

    /// <summary>Answers not yet collected, oldest first.</summary>
    public Queue<RegisterFrame> Answers { get; } = new();

    /// <summary>Calls made so far.</summary>
    public int CallsMade { get; private set; }

    /// <summary>Queues a call; the vCPU makes it the next time it runs (make it ready with <see cref="Scheduler.Ready"/>).</summary>
    public void Enqueue(in RegisterFrame frame) => _calls.Enqueue((frame, 0));

    /// <summary>Queues a call made through <c>HVC #<paramref name="hvcImmediate"/></c> (a native Gunyah hypercall).</summary>
    public void Enqueue(in RegisterFrame frame, ushort hvcImmediate) => _calls.Enqueue((frame, hvcImmediate));

    public void Resume(Vcpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        if (InCall)
        {
            InCall = false;
            scheduler.OnReturn(vcpu, vcpu.Result);
            Answers.Enqueue(vcpu.Result);
        }
        else if (_started && _calls.Count == 0)
        {
            // Resumed with nothing to do: an answer to a call it never made (a hand-over into a held vCPU).
            Answers.Enqueue(vcpu.Result);
        }

        _started = true;
        while (_calls.TryDequeue(out var next))
        {
            var frame = next.Frame;
            CallsMade++;
            scheduler.OnCall(vcpu, frame);
            vcpu.Immediate = next.Immediate;
            var outcome = vcpu.Handler.Call(vcpu, ref frame);
            vcpu.Immediate = 0;
            if (outcome == CallOutcome.Blocked)
            {
                InCall = true;
                scheduler.AfterBlockedCall(vcpu);
                return;
            }

            scheduler.OnReturn(vcpu, frame);
            Answers.Enqueue(frame);
        }

        scheduler.Hold(vcpu);
    }
}
