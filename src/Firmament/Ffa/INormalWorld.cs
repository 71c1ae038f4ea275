using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>
/// The normal world as the SPMC returns to it: the hypervisor, or the OS kernel when there is none. When secure
/// code on pCPU <c>pcpu</c> finishes what a normal-world call started (a response, MSG_WAIT after RUN, YIELD, a
/// preemption), the SPMC hands the normal-world vCPU that made the call back, with the frame it gets.
/// </summary>
public interface INormalWorld
{
    void ReturnFromSecure(Vcpu vcpu, Pcpu pcpu, in RegisterFrame frame);

    /// <summary>
    /// The Schedule Receiver Interrupt, a physical non-secure SGI, fired on <paramref name="pcpu"/>: some endpoint has
    /// notifications pending and needs cycles. The normal world's scheduler (the hypervisor, or the kernel) handles it.
    /// </summary>
    void ScheduleReceiverInterrupt(Pcpu pcpu);
}
