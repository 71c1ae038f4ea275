using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>
/// The configuration with no hypervisor: the OS kernel is the physical normal-world endpoint (ID 0) and its calls go
/// straight to the SPMC's normal-world port; the SPMC's answers come straight back to the kernel's vCPU.
/// </summary>
public sealed class KernelPort(Spmc spmc, Scheduler scheduler) : ICallHandler, INormalWorld
{
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
}
