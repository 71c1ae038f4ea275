using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Gunyah;

/// <summary>
/// A VM as the Gunyah objects see it: its VMID (the FF-A endpoint ID the hypervisor gave it), its cspace (every vCPU
/// of the VM uses it), its VIC, its vCPUs and their thread objects, its memory.
/// </summary>
public sealed class GunyahVm
{
    private readonly List<GunyahThread> _threads = [];

    internal GunyahVm(ushort vmid, string name, Cspace cspace, AddressSpace? memory, IReadOnlyList<Vcpu> vcpus)
    {
        Vmid = vmid;
        Name = name;
        Cspace = cspace;
        Memory = memory;
        Vcpus = vcpus;
        Vic = new Vic(this) { State = GunyahObjectState.Active };
    }

    public ushort Vmid { get; }

    public string Name { get; }

    public Cspace Cspace { get; }

    public Vic Vic { get; }

    /// <summary>Its memory (null for the Resource Manager, which lives in the hypervisor's model).</summary>
    public AddressSpace? Memory { get; }

    public IReadOnlyList<Vcpu> Vcpus { get; }

    /// <summary>Thread objects of its vCPUs (one per vCPU), in index order.</summary>
    public IReadOnlyList<GunyahThread> Threads => _threads;

    /// <summary>Translation caches for message buffers: read (send) and write (receive).</summary>
    internal BufferWindow ReadWindow { get; } = new(Stage2Access.Read);

    internal BufferWindow WriteWindow { get; } = new(Stage2Access.Write);

    /// <summary>Set while the VM's vCPUs are proxy-scheduled by their owner (vcpu_run).</summary>
    public bool IsProxyScheduled { get; internal set; }

    internal void AddThread(GunyahThread thread) => _threads.Add(thread);

    /// <summary>A VIRQ became pending on one of its vCPUs: a proxy-scheduled vCPU waiting for one wakes its owner.</summary>
    internal void OnInterrupt(Vcpu vcpu)
    {
        foreach (var thread in _threads)
        {
            if (ReferenceEquals(thread.Vcpu, vcpu))
            {
                thread.OnInterrupt();
            }
        }
    }

    public override string ToString() => $"VM {Name} (VMID 0x{Vmid:X})";
}

/// <summary>Where a proxy-scheduled vCPU is, between vcpu_run calls.</summary>
public enum ThreadRunState : byte
{
    /// <summary>Not powered on yet (its VM is not started): vcpu_run says POWERED_OFF, recoverable.</summary>
    Off = 0,

    /// <summary>Can run: the next vcpu_run resumes it.</summary>
    Runnable,

    /// <summary>Running on its owner's pCPU inside a vcpu_run.</summary>
    Running,

    /// <summary>Suspended (PSCI CPU_SUSPEND): waits for a VIRQ; vcpu_run says EXPECTS_WAKEUP.</summary>
    ExpectsWakeup,

    /// <summary>Powered off for good (its code ended, CPU_OFF, SYSTEM_OFF, or the VM exited): POWERED_OFF, exited.</summary>
    Exited,

    /// <summary>Faulted: vcpu_run says FAULT.</summary>
    Faulted,

    /// <summary>Asked for a system reset (PSCI SYSTEM_RESET): vcpu_run says PSCI_SYSTEM_RESET.</summary>
    SystemReset,
}

/// <summary>
/// The thread (vCPU) object of a vCPU: the capability target for vcpu_run, and the proxy-scheduling state — whether
/// it is run by its owner, who runs it now, the frame it resumes with, and its wakeup VIRQ in the owner's VIC.
/// </summary>
public sealed class GunyahThread : GunyahObject
{
    internal GunyahThread(GunyahVm vm, Vcpu vcpu)
    {
        Vm = vm;
        Vcpu = vcpu;
        WakeupSource = new VirqSource($"{vm.Name}.vcpu{vcpu.Id.Index}.wakeup");
        State = GunyahObjectState.Active;
    }

    public override GunyahObjectType Type => GunyahObjectType.Thread;

    public GunyahVm Vm { get; }

    public Vcpu Vcpu { get; }

    /// <summary>Runs only when its owner calls vcpu_run (otherwise the platform's scheduler runs it).</summary>
    public bool IsProxyScheduled { get; internal set; }

    public ThreadRunState RunState { get; internal set; }

    /// <summary>The vCPU inside vcpu_run for this one, while <see cref="ThreadRunState.Running"/>.</summary>
    public Vcpu? Runner { get; internal set; }

    /// <summary>The frame it resumes with on the next vcpu_run.</summary>
    internal RegisterFrame ResumeFrame;

    /// <summary>Whether it was ever entered (the first run starts its code).</summary>
    internal bool Started { get; set; }

    /// <summary>Its VM was stopped while it was executing a call: it stops when that call returns.</summary>
    internal bool ExitPending { get; set; }

    /// <summary>State data of the last stop (PSCI power state, reset type, cookie).</summary>
    internal ulong StopData0 { get; set; }

    internal ulong StopData1 { get; set; }

    /// <summary>VCPU_RUN_WAKEUP: asserted (edge) in the owner's VIC when a waiting vCPU can run again.</summary>
    public VirqSource WakeupSource { get; }

    internal void OnInterrupt()
    {
        if (RunState == ThreadRunState.ExpectsWakeup)
        {
            RunState = ThreadRunState.Runnable;
            WakeupSource.Assert();
        }
    }

    public override string ToString() => $"thread {Vm.Name}.{Vcpu.Id.Index} ({RunState})";
}
