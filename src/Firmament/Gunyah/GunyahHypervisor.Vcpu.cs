using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Machine;

namespace Firmament.Gunyah;

/// <summary>How a VM stopped (VM_EXITED's exit_type).</summary>
public enum VmExitType : ushort
{
    VmExit = 0,
    PlatformOff = 1,
    PlatformReset = 2,
    PsciSystemReset2 = 3,
    WatchdogBite = 4,
    SoftwareError = 5,
    AsyncHwError = 6,
    VmStopForced = 7,
}

/// <summary>The PSCI calls a proxy-scheduled vCPU makes that end a vcpu_run: what a VM's WFI-like and power calls are here.</summary>
public static class Psci
{
    public const uint Version = 0x8400_0000;
    public const uint CpuSuspend32 = 0x8400_0001;
    public const uint CpuSuspend64 = 0xC400_0001;
    public const uint CpuOff = 0x8400_0002;
    public const uint SystemOff = 0x8400_0008;
    public const uint SystemReset = 0x8400_0009;

    /// <summary>PSCI's NOT_SUPPORTED.</summary>
    public const ulong NotSupported = ulong.MaxValue;

    /// <summary>Whether w0 is in PSCI's function range (standard secure service, 0x00–0x1F).</summary>
    public static bool IsPsci(uint w0) => (w0 & 0xBFFF_FFE0) == 0x8400_0000;
}

// vCPU objects and proxy scheduling. vcpu_run(cap) needs THREAD AFFINITY|YIELD_TO; the vCPU must be proxy-scheduled
// and not already being run (BUSY); the caller cannot run itself (ARGUMENT_INVALID). A runnable vCPU is switched onto
// the caller's pCPU and the caller blocks until the vCPU cannot go on: it yields (READY), suspends with PSCI
// CPU_SUSPEND (EXPECTS_WAKEUP, data: power state, wakeup-from 2), powers off, ends its code or the VM exits
// (POWERED_OFF, data0 bit 0 = exited), faults (FAULT), or asks for SYSTEM_RESET (PSCI_SYSTEM_RESET). A vCPU that is
// not runnable is answered at once with its state. scheduler_yield from any other vCPU lets the next vCPU queued on
// its pCPU run.
public sealed partial class GunyahHypervisor
{
    /// <summary>Raised when every vCPU of a VM has stopped, or a vCPU asked for the VM to stop (the RM reports it).</summary>
    public Action<GunyahVm, VmExitType, uint>? VmExited { get; set; }

    /// <summary>Makes a VM's vCPUs proxy-scheduled: they run only inside their owner's vcpu_run.</summary>
    public void MakeProxyScheduled(GunyahVm vm, ICallHandler inner)
    {
        ArgumentNullException.ThrowIfNull(vm);
        vm.IsProxyScheduled = true;
        foreach (var thread in vm.Threads)
        {
            thread.IsProxyScheduled = true;
            thread.Vcpu.Handler = new ProxyVcpuHandler(this, inner);
        }
    }

    /// <summary>Powers a vCPU on (VM_START): the next vcpu_run enters its code.</summary>
    public static void PowerOn(GunyahThread thread)
    {
        ArgumentNullException.ThrowIfNull(thread);
        if (thread.RunState == ThreadRunState.Off)
        {
            thread.RunState = ThreadRunState.Runnable;
            thread.WakeupSource.Assert();
        }
    }

    /// <summary>
    /// Stops every vCPU of a VM (VM_STOP force, VM_EXIT, SYSTEM_OFF): each becomes exited; one being run returns
    /// POWERED_OFF to its runner, unless it is the caller (its own stop path answers).
    /// </summary>
    public void StopVm(GunyahVm vm, Vcpu? except = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        foreach (var thread in vm.Threads)
        {
            if (ReferenceEquals(thread.Vcpu, except) || thread.RunState is ThreadRunState.Exited or ThreadRunState.Faulted)
            {
                continue;
            }

            if (ReferenceEquals(Scheduler.Running, thread.Vcpu))
            {
                // It is executing this very call (a VM_EXIT through the RM): it stops when the call returns.
                thread.ExitPending = true;
                continue;
            }

            var wasRunning = thread.RunState == ThreadRunState.Running;
            thread.RunState = ThreadRunState.Exited;
            if (wasRunning && thread.Runner is { } runner && thread.Vcpu.Pcpu is { } pcpu)
            {
                // Another vCPU of the VM, running on another pCPU: it stops at once and its runner is answered.
                Scheduler.Stop(thread.Vcpu, VcpuState.Off);
                thread.Runner = null;
                Scheduler.SwitchTo(pcpu, runner, RunAnswer(VcpuRunState.PoweredOff, 1, 0, 0));
            }
            else
            {
                Scheduler.Stop(thread.Vcpu, VcpuState.Off);
            }

            thread.WakeupSource.Assert();
        }
    }

    private CallOutcome VcpuRun(GunyahVm vm, Vcpu caller, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.VcpuRun.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = vm.Cspace.Lookup<GunyahObject>(call.Vcpu, GunyahObjectType.Any, (uint)(ThreadRights.Affinity | ThreadRights.YieldTo), out var target);
        error = error != GunyahError.Ok ? error : target is GunyahThread ? GunyahError.Ok : GunyahError.ArgumentInvalid;
        if (error != GunyahError.Ok)
        {
            return Result(ref frame, error);
        }

        var thread = (GunyahThread)target;
        if (ReferenceEquals(thread.Vcpu, caller))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        if (!thread.IsProxyScheduled || thread.RunState == ThreadRunState.Running)
        {
            return Result(ref frame, GunyahError.Busy);
        }

        if (thread.RunState == ThreadRunState.ExpectsWakeup && thread.Vcpu.Interrupts.HasDeliverable)
        {
            thread.RunState = ThreadRunState.Runnable;
        }

        if (thread.RunState != ThreadRunState.Runnable)
        {
            frame = StateAnswer(thread);
            return CallOutcome.Completed;
        }

        thread.RunState = ThreadRunState.Running;
        thread.Runner = caller;
        var entry = thread.ResumeFrame;
        thread.Started = true;
        Scheduler.Park(caller, VcpuState.Blocked);
        Scheduler.SwitchTo(caller.Pcpu!, thread.Vcpu, entry);
        return CallOutcome.Blocked;
    }

    private static CallOutcome VcpuRunCheck(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!GunyahFrameReader.TryCap(frame, convention, GunyahHypercall.VcpuRunCheck, out var cap))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = vm.Cspace.Lookup<GunyahObject>(new CapId(cap), GunyahObjectType.Thread, (uint)ThreadRights.State, out var target);
        if (error != GunyahError.Ok)
        {
            return Result(ref frame, error);
        }

        var thread = (GunyahThread)target;
        if (thread.RunState is ThreadRunState.Running or ThreadRunState.Runnable)
        {
            return Result(ref frame, GunyahError.Busy);
        }

        frame = StateAnswer(thread);
        return CallOutcome.Completed;
    }

    private static RegisterFrame StateAnswer(GunyahThread thread) => thread.RunState switch
    {
        ThreadRunState.Off => RunAnswer(VcpuRunState.PoweredOff, 0, 0, 0),
        ThreadRunState.Exited => RunAnswer(VcpuRunState.PoweredOff, 1, 0, 0),
        ThreadRunState.Faulted => RunAnswer(VcpuRunState.Fault, 0, 0, 0),
        ThreadRunState.SystemReset => RunAnswer(VcpuRunState.PsciSystemReset, thread.StopData0, thread.StopData1, 0),
        ThreadRunState.ExpectsWakeup => RunAnswer(VcpuRunState.ExpectsWakeup, thread.StopData0, 2, 0),
        _ => RunAnswer(VcpuRunState.Ready, 0, 0, 0),
    };

    private static RegisterFrame RunAnswer(VcpuRunState state, ulong data0, ulong data1, ulong data2)
    {
        var answer = default(RegisterFrame);
        new VcpuRunResult(GunyahError.Ok, state, data0, data1, data2).Encode(ref answer, GunyahConvention.Smccc);
        return answer;
    }

    private CallOutcome SchedulerYield(Vcpu caller, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!GunyahFrameReader.TryPair(frame, convention, GunyahHypercall.SchedulerYield, out var control, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        // Hints: 0 generic yield, 1 yield to a cap (treated as generic), 2 lower priority (no priorities here).
        if ((control & 0xFFFF) > 2)
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        Result(ref frame, GunyahError.Ok);
        if (ThreadOf(caller) is { RunState: ThreadRunState.Running } thread)
        {
            thread.ResumeFrame = frame;
            thread.RunState = ThreadRunState.Runnable;
            Scheduler.Park(caller, VcpuState.Preempted);
            ReturnToRunner(thread, RunAnswer(VcpuRunState.Ready, 0, 0, 0));
            return CallOutcome.Blocked;
        }

        var pcpu = caller.Pcpu!;
        if (pcpu.QueueLength == 0 || !pcpu.TryDequeue(out var next))
        {
            return CallOutcome.Completed;
        }

        Scheduler.Ready(caller, frame, pcpu);
        Scheduler.SwitchTo(pcpu, next, next.Result);
        return CallOutcome.Blocked;
    }

    private CallOutcome PsciCall(Vcpu caller, ref RegisterFrame frame)
    {
        if (ThreadOf(caller) is not { RunState: ThreadRunState.Running } thread)
        {
            frame.AsSpan()[..4].Clear();
            frame[0] = Psci.NotSupported;
            return CallOutcome.Completed;
        }

        var w0 = frame.W(0);
        var powerState = frame[1];
        frame.AsSpan()[..4].Clear();
        switch (w0)
        {
            case Psci.Version:
                frame[0] = 0x0001_0001; // PSCI 1.1
                return CallOutcome.Completed;
            case Psci.CpuSuspend32 or Psci.CpuSuspend64:
                thread.ResumeFrame = frame; // SUCCESS when it resumes
                if (caller.Interrupts.HasDeliverable)
                {
                    return CallOutcome.Completed;
                }

                thread.RunState = ThreadRunState.ExpectsWakeup;
                thread.StopData0 = powerState;
                Scheduler.Park(caller, VcpuState.Waiting);
                ReturnToRunner(thread, StateAnswer(thread));
                return CallOutcome.Blocked;
            case Psci.CpuOff:
                return StopCaller(thread, ThreadRunState.Exited, VmExitType.PlatformOff);
            case Psci.SystemOff:
                StopVm(thread.Vm, caller);
                return StopCaller(thread, ThreadRunState.Exited, VmExitType.PlatformOff, force: true);
            case Psci.SystemReset:
                thread.StopData0 = PsciResetType.SystemReset.Value;
                thread.StopData1 = 0;
                StopVm(thread.Vm, caller);
                return StopCaller(thread, ThreadRunState.SystemReset, VmExitType.PlatformReset, force: true);
            default:
                frame[0] = Psci.NotSupported;
                return CallOutcome.Completed;
        }
    }

    /// <summary>The running proxy vCPU stops for good; its runner is answered; the VM exits when it was the last one.</summary>
    private CallOutcome StopCaller(GunyahThread thread, ThreadRunState state, VmExitType exit, bool force = false, bool report = true)
    {
        thread.RunState = state;
        Scheduler.Park(thread.Vcpu, VcpuState.Off);
        if (thread.Runner is not null)
        {
            ReturnToRunner(thread, StateAnswer(thread));
        }

        if (report && (force || thread.Vm.Threads.All(static t => t.RunState is ThreadRunState.Exited or ThreadRunState.Faulted or ThreadRunState.SystemReset)))
        {
            VmExited?.Invoke(thread.Vm, exit, 0);
        }

        return CallOutcome.Blocked;
    }

    /// <summary>The proxy vCPU's code ended or faulted.</summary>
    internal void OnProxyStopped(Vcpu vcpu, string? fault, ICallHandler inner)
    {
        if (ThreadOf(vcpu) is not { } thread)
        {
            inner.OnStopped(vcpu, fault);
            return;
        }

        var running = thread.RunState == ThreadRunState.Running;
        var pcpu = vcpu.Pcpu;
        thread.RunState = fault is null ? ThreadRunState.Exited : ThreadRunState.Faulted;
        inner.OnStopped(vcpu, fault);
        if (running && thread.Runner is { } runner && pcpu is not null)
        {
            thread.Runner = null;
            Scheduler.SwitchTo(pcpu, runner, StateAnswer(thread));
        }

        if (fault is not null || thread.Vm.Threads.All(static t => t.RunState is ThreadRunState.Exited or ThreadRunState.Faulted))
        {
            VmExited?.Invoke(thread.Vm, fault is null ? VmExitType.PlatformOff : VmExitType.SoftwareError, fault is null ? 0u : 1u << 16);
        }
    }

    private void ReturnToRunner(GunyahThread thread, in RegisterFrame answer)
    {
        var runner = thread.Runner!;
        thread.Runner = null;
        Scheduler.SwitchTo(thread.Vcpu.Pcpu!, runner, answer);
    }

    /// <summary>
    /// The call handler of a proxy-scheduled vCPU: its calls go to the hypervisor as any VM's do; when its code ends or
    /// faults, the vCPU's runner is answered (POWERED_OFF or FAULT) and the VM's exit is reported.
    /// </summary>
    private sealed class ProxyVcpuHandler(GunyahHypervisor gunyah, ICallHandler inner) : ICallHandler
    {
        public CallOutcome Call(Vcpu caller, ref RegisterFrame frame)
        {
            var outcome = inner.Call(caller, ref frame);
            if (outcome == CallOutcome.Completed && gunyah.ThreadOf(caller) is { ExitPending: true } thread)
            {
                thread.ExitPending = false;
                return gunyah.StopCaller(thread, ThreadRunState.Exited, VmExitType.VmExit, report: false);
            }

            return outcome;
        }

        public void OnStopped(Vcpu vcpu, string? fault) => gunyah.OnProxyStopped(vcpu, fault, inner);
    }
}
