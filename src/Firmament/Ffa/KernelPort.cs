using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>
/// The configuration with no hypervisor: the OS kernel is the physical normal-world endpoint (ID 0) and its calls go
/// straight to the SPMC's normal-world port; the SPMC's answers come straight back to the kernel's vCPU, and the
/// Schedule Receiver Interrupt is made pending on the kernel's vCPU for the pCPU it fired on.
/// </summary>
public sealed class KernelPort(Spmc spmc, Scheduler scheduler) : ICallHandler, INormalWorld
{
    private readonly List<Vcpu> _vcpus = [];

    /// <summary>The kernel's vCPUs (one per pCPU it runs on).</summary>
    public IReadOnlyList<Vcpu> Vcpus => _vcpus;

    /// <summary>Makes <paramref name="vcpu"/> one of the kernel's: its calls come here.</summary>
    public void Attach(Vcpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        vcpu.Handler = this;
        _vcpus.Add(vcpu);
    }

    public CallOutcome Call(Vcpu caller, ref RegisterFrame frame) => spmc.CallFromNormalWorld(caller, ref frame);

    public void OnStopped(Vcpu vcpu, string? fault)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        scheduler.Stop(vcpu, fault is null ? VcpuState.Off : VcpuState.Aborted);
        if (fault is not null && scheduler.Trace.Enabled)
        {
            scheduler.Trace.Record(scheduler.Now, vcpu.Pcpu?.Index ?? -1, vcpu.Id, TraceKind.Fault, text: $"kernel: {fault}");
        }
    }

    public void ReturnFromSecure(Vcpu vcpu, Pcpu pcpu, in RegisterFrame frame) => scheduler.SwitchTo(pcpu, vcpu, frame);

    public void ScheduleReceiverInterrupt(Pcpu pcpu)
    {
        ArgumentNullException.ThrowIfNull(pcpu);
        if (_vcpus.Count == 0)
        {
            return;
        }

        // An SGI targets the pCPU it was sent to: the kernel vCPU that runs there (or the kernel's first, if none does).
        var target = _vcpus.Find(v => v.HomePcpu == pcpu.Index) ?? _vcpus[0];
        scheduler.RaiseInterrupt(target, (int)spmc.Personality.ScheduleReceiverInterrupt);
    }
}
