namespace Firmament.Endpoints;

/// <summary>What an interrupt handler does when an interrupt is taken: it may make calls; its end is the EOI.</summary>
public delegate ValueTask InterruptHandler(int intid);

/// <summary>
/// An endpoint's view of its vCPU's interrupt controller, as a kernel sees its GIC CPU interface: enable an interrupt
/// with a handler, wait for one (WFI), signal the end of one it took itself. A handled interrupt is taken at the next
/// call boundary (when a call returns to the code, or in WFI): the handler runs, then the code goes on with the
/// call's answer. Interrupts the code asked to be woken with instead (FFA_INTERRUPT from MSG_WAIT) it ends itself with
/// <see cref="EndOfInterrupt"/>.
/// </summary>
public interface ICpuInterrupts
{
    /// <summary>Enables <paramref name="intid"/> and runs <paramref name="handler"/> whenever it is taken.</summary>
    void Handle(int intid, InterruptHandler handler);

    /// <summary>Disables <paramref name="intid"/> and forgets its handler.</summary>
    void Release(int intid);

    /// <summary>The handler registered for an interrupt, if any.</summary>
    InterruptHandler? HandlerOf(int intid);

    /// <summary>Whether <paramref name="intid"/> is pending (not yet taken).</summary>
    bool IsPending(int intid);

    /// <summary>Sleeps until an enabled interrupt is pending, takes it (and any others pending) with the handlers, and returns.</summary>
    ValueTask WaitForInterruptAsync();

    /// <summary>Ends an interrupt the code took itself (delivered as FFA_INTERRUPT): active → inactive.</summary>
    bool EndOfInterrupt(int intid);
}
