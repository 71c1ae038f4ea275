using Firmament.Abi.Ffa;

namespace Firmament.Ffa;

// The SPMC's part in memory sharing: its own SPs send to SPs; the normal world (the hypervisor for a VM, or the OS
// kernel) sends to SPs through its port with physical addresses, naming the VM that owns the memory as the sender.
// An SP cannot lend or share to the normal world (DENIED, as Hafnium refuses it), so every borrower here is an SP.
public sealed partial class Spmc
{
    /// <summary>At the normal-world port the sender is a normal-world endpoint (the hypervisor vouches for which one).</summary>
    protected override bool MaySendAs(in FfaCaller caller, EndpointId sender) =>
        caller.FromOtherWorld ? !sender.IsSecure : base.MaySendAs(caller, sender);

    /// <summary>SPs are served here; a normal-world receiver is the other world's (and refused).</summary>
    protected override Reach MemoryReceiver(EndpointId id) => id.IsSecure ? base.MemoryReceiver(id) : Reach.Remote;
}
