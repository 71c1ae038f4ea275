using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Machine;

namespace Firmament.Ffa;

// CPU cycles: FFA_MSG_WAIT, FFA_RUN, FFA_YIELD, FFA_INTERRUPT.
// - MSG_WAIT parks the vCPU until the next message. It first gives the RX buffer back (v1.1+) unless v1.2's
//   retain flag is set. It is DENIED while a direct request is owed a response. It ends a boot (the next partition
//   boots), or gives the CPU back to whoever ran the vCPU with FFA_RUN, who gets FFA_MSG_WAIT (w1 = target).
// - RUN gives cycles to a vCPU: a preempted vCPU resumes where it stopped; a waiting one sees its MSG_WAIT return
//   FFA_RUN (or FFA_INTERRUPT with the ID, when a virtual interrupt is pending for it). A running, ready or blocked
//   target is BUSY; a multi-vCPU partition's vCPU runs only on its own pCPU (INVALID_PARAMETERS elsewhere).
// - YIELD from an SP gives the CPU back to the normal world with FFA_YIELD (w1 = target, w2/w3 = timeout); the SP's
//   YIELD returns FFA_SUCCESS when it is run again. From a VM it is a no-op.
// - FFA_INTERRUPT is only ever returned by a partition manager: an endpoint that invokes it is DENIED.
public abstract partial class PartitionManager
{
    /// <summary>FFA_RUN for an endpoint this manager does not own (the hypervisor forwards SP targets).</summary>
    protected virtual CallOutcome ForwardRun(in FfaCaller caller, ref RegisterFrame frame) => Fail(ref frame, FfaError.InvalidParameters);

    /// <summary>A vCPU of this manager is about to be given the CPU (RUN, a direct request): the SPMC raises a pending NPI here.</summary>
    protected virtual void BeforeEntering(FfaVcpu vcpu)
    {
    }

    /// <summary>A boot vCPU finished its initialisation on <paramref name="pcpu"/>: the role decides what boots next.</summary>
    protected virtual void BootStepDone(Pcpu pcpu)
    {
    }

    private void RegisterCpuCycles()
    {
        Register(FfaFunction.MsgWait, HandleMsgWait);
        Register(FfaFunction.Run, HandleRun);
        Register(FfaFunction.Yield, HandleYield);
        Register(FfaFunction.Interrupt, HandleInterrupt);
    }

    private CallOutcome HandleMsgWait(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MsgWait.TryDecode(frame, out var call, out _)
            || ((call.Flags & MsgWaitFlags.RetainRxBuffer) != 0 && caller.Version < FfaVersion.V1_2))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (caller.Self is not { } self)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        if (self.Occupation == Occupation.DirectRequest)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var mailbox = self.Endpoint.Mailbox;
        if ((call.Flags & MsgWaitFlags.RetainRxBuffer) == 0 && caller.Version >= FfaVersion.V1_1 && mailbox.IsMapped && mailbox.RxOwner == RxOwner.Endpoint)
        {
            ReleaseRx(self.Endpoint);
        }

        var pcpu = caller.Vcpu.Pcpu!;
        var occupation = self.Occupation;
        var returnTo = self.ReturnTo;
        var otherWorld = self.ReturnToOtherWorld;
        self.Settle();
        Scheduler.Park(caller.Vcpu, VcpuState.Waiting);
        if (occupation == Occupation.Boot)
        {
            BootStepDone(pcpu);
        }
        else if (occupation == Occupation.Run && returnTo is not null)
        {
            var answer = default(RegisterFrame);
            answer[0] = FfaFunctions.Id32(FfaFunction.MsgWait);
            answer[1] = new TargetInfo(caller.Id, self.Index).Pack();
            GiveBack(pcpu, returnTo, otherWorld, answer);
        }

        return CallOutcome.Blocked;
    }

    private CallOutcome HandleRun(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!Run.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var target = call.Target;
        if (!Endpoints.TryGetValue(target.Endpoint, out var endpoint) || endpoint.Partition is null)
        {
            return ForwardRun(caller, ref frame);
        }

        var partition = endpoint.Partition;
        if (partition.IsAborted)
        {
            return Fail(ref frame, FfaError.Aborted);
        }

        var pcpu = caller.Vcpu.Pcpu!;
        if (target.Vcpu >= partition.Vcpus.Count
            || (partition.Vcpus.Count > 1 && target.Vcpu != pcpu.Index)
            || ReferenceEquals(partition.Vcpus[target.Vcpu], caller.Vcpu))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var runnee = (FfaVcpu)partition.Vcpus[target.Vcpu].Owner!;
        if (runnee.Vcpu.State is VcpuState.Preempted or VcpuState.Waiting)
        {
            BeforeEntering(runnee);
        }

        RegisterFrame entry;
        switch (runnee.Vcpu.State)
        {
            case VcpuState.Preempted:
                entry = runnee.ResumeFrame;
                break;
            case VcpuState.Waiting when runnee.Occupation == Occupation.None:
                entry = WakeFrame(runnee, frame);
                break;
            default:
                return Fail(ref frame, FfaError.Busy);
        }

        if (runnee.Occupation == Occupation.DirectRequest)
        {
            // A preempted vCPU still owes its response: it now goes to whoever runs the chain.
            RootOf(runnee).Owe(Occupation.DirectRequest, caller.Vcpu, caller.FromOtherWorld);
        }
        else
        {
            runnee.Owe(Occupation.Run, caller.Vcpu, caller.FromOtherWorld);
        }

        Scheduler.Park(caller.Vcpu, VcpuState.Blocked);
        Scheduler.SwitchTo(pcpu, runnee.Vcpu, entry);
        return CallOutcome.Blocked;
    }

    private CallOutcome HandleYield(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!Yield.TryDecode(frame, out var call, out _) || call.Target != default)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (caller.Self is not { } self || !caller.Id.IsSecure)
        {
            return Succeed(ref frame);
        }

        if (self.Occupation is not (Occupation.DirectRequest or Occupation.Run) || self.ReturnTo is null)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var pcpu = caller.Vcpu.Pcpu!;
        var root = RootOf(self);
        var returnTo = root.ReturnTo!;
        var otherWorld = root.ReturnToOtherWorld;
        if (self.Occupation == Occupation.Run)
        {
            self.Settle();
        }

        self.ResumeFrame = default;
        new SuccessReturn(false, default, 0, 0, 0, 0, 0, 0).Encode(ref self.ResumeFrame);
        Scheduler.Park(caller.Vcpu, VcpuState.Preempted);
        var answer = default(RegisterFrame);
        new Yield(new TargetInfo(caller.Id, self.Index), call.Timeout).Encode(ref answer);
        GiveBack(pcpu, returnTo, otherWorld, answer);
        return CallOutcome.Blocked;
    }

    private CallOutcome HandleInterrupt(in FfaCaller caller, ref RegisterFrame frame) => Fail(ref frame, FfaError.Denied);

    /// <summary>
    /// What a waiting vCPU's MSG_WAIT returns when it is given cycles: FFA_INTERRUPT with the interrupt ID when a
    /// virtual interrupt is pending for it, else the FFA_RUN frame itself.
    /// </summary>
    protected static RegisterFrame WakeFrame(FfaVcpu vcpu, in RegisterFrame run)
    {
        var interrupts = vcpu.Vcpu.Interrupts;
        if (interrupts.HasDeliverable)
        {
            var entry = default(RegisterFrame);
            new Interrupt(default, (uint)interrupts.Acknowledge()).Encode(ref entry);
            return entry;
        }

        var wake = run;
        ClearAbove(ref wake, 2);
        return wake;
    }

    /// <summary>
    /// Preempts the running <paramref name="vcpu"/> after a call that completed with <paramref name="result"/>: it keeps
    /// what it owes, will resume with the result, and the root of its request chain gets FFA_INTERRUPT naming it.
    /// </summary>
    protected CallOutcome Preempt(FfaVcpu vcpu, in RegisterFrame result)
    {
        var pcpu = vcpu.Vcpu.Pcpu!;
        var root = RootOf(vcpu);
        var returnTo = root.ReturnTo!;
        var otherWorld = root.ReturnToOtherWorld;
        if (vcpu.Occupation == Occupation.Run)
        {
            vcpu.Settle();
        }

        vcpu.ResumeFrame = result;
        Scheduler.Park(vcpu.Vcpu, VcpuState.Preempted);
        var answer = default(RegisterFrame);
        new Interrupt(new TargetInfo(vcpu.Endpoint.Id, vcpu.Index), 0).Encode(ref answer);
        GiveBack(pcpu, returnTo, otherWorld, answer);
        return CallOutcome.Blocked;
    }

    /// <summary>The vCPU at the root of a chain of direct requests: the one whose answer leaves this manager's world (or reaches a vCPU that owes nothing).</summary>
    protected static FfaVcpu RootOf(FfaVcpu vcpu)
    {
        var link = vcpu;
        while (!link.ReturnToOtherWorld && link.ReturnTo?.Owner is FfaVcpu next && next.Occupation == Occupation.DirectRequest && next.Vcpu.State == VcpuState.Blocked)
        {
            link = next;
        }

        return link;
    }
}
