using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Ffa;

// The planted races of the test-only personalities (NotificationRollbackWindow, MemoryReclaimWindow): a handler that
// "drops its lock" half way. The caller is parked and the rest of the handler runs later, on a worker vCPU queued on
// the caller's pCPU, so the scheduler may run other pCPUs in between — the window a real implementation would open
// by releasing a spinlock before finishing. Nothing correct uses this: it exists so exploration has races to find.
public abstract partial class PartitionManager
{
    /// <summary>Parks the caller; <paramref name="finish"/> runs later on a worker and its frame is the caller's answer.</summary>
    protected void FinishLater(in FfaCaller caller, Func<RegisterFrame> finish)
    {
        var vcpu = caller.Vcpu;
        var pcpu = vcpu.Pcpu ?? Scheduler.Pcpus[0];
        var worker = new Vcpu(new VcpuId(OwnId, (ushort)(0x100 + pcpu.Index)), this, new WindowWorker(this, vcpu, pcpu, finish), pcpu.Index);
        Scheduler.Park(vcpu, VcpuState.Blocked);
        Scheduler.Ready(worker, default, pcpu);
    }

    /// <summary>Runs the second half of a windowed handler, then gives the pCPU back to the caller with its answer.</summary>
    private sealed class WindowWorker(PartitionManager manager, Vcpu caller, Pcpu pcpu, Func<RegisterFrame> finish) : IVcpuBackend
    {
        public void Resume(Vcpu vcpu)
        {
            var answer = finish();
            manager.Scheduler.Park(vcpu, VcpuState.Off);
            manager.Scheduler.SwitchTo(pcpu, caller, answer);
        }
    }
}
