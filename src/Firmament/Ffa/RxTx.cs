using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Machine;

namespace Firmament.Ffa;

// RX/TX buffers: FFA_RXTX_MAP (32/64), FFA_RXTX_UNMAP, FFA_RX_RELEASE, FFA_RX_ACQUIRE.
// - MAP: TX in w1/x1, RX in w2/x2, page count in w3. Both buffers 4 KiB aligned, 1..MaxRxTxPages pages, apart from
//   each other (INVALID_PARAMETERS), TX writable and RX readable memory of the caller (DENIED); a second MAP without
//   UNMAP is DENIED. At the SPMC's normal-world port, MAP with x1 = x2 = x3 = 0 maps a VM's buffers described by the
//   endpoint RX/TX descriptor in the hypervisor's TX buffer (the hypervisor's forwarding, as Hafnium and Xen do).
// - UNMAP: w1[31:16] names a VM only from the hypervisor (INVALID_PARAMETERS otherwise); nothing mapped is
//   INVALID_PARAMETERS.
// - RX_RELEASE: w1[15:0] names a VM only from the hypervisor; a buffer the endpoint does not own is DENIED.
//   (Refusing it while an RX-full notification is pending, as Hafnium does, comes with notifications.)
// - RX_ACQUIRE: the hypervisor takes a VM's RX buffer from the SPMC before writing into it; DENIED while the VM owns it,
//   INVALID_PARAMETERS when nothing is mapped. Offered to the hypervisor only.
public abstract partial class PartitionManager
{
    /// <summary>
    /// The largest RX/TX buffer this manager maps, in 4 KiB pages (the personality's: Xen and pKVM map one page). Both
    /// ways of mapping check it, and FEATURES reports it.
    /// </summary>
    protected uint MaxRxTxPages => Personality.MaxRxTxPages;

    /// <summary>The address space a caller's buffer addresses are in (its own memory; at the SPMC's port, normal-world physical memory).</summary>
    protected virtual AddressSpace? SpaceOf(in FfaCaller caller) => caller.Endpoint.Partition?.Memory;

    /// <summary>MAP with all-zero arguments at the SPMC's port: the forwarded map of a VM's buffers.</summary>
    protected virtual CallOutcome ForwardedRxTxMap(in FfaCaller caller, ref RegisterFrame frame) => Fail(ref frame, FfaError.InvalidParameters);

    /// <summary>Tells the other world about a map before it is committed here (the hypervisor forwards VMs' buffers); an error cancels it.</summary>
    protected virtual FfaError? ForwardRxTxMap(FfaEndpoint endpoint, ulong tx, ulong rx, uint pages) => null;

    /// <summary>Tells the other world about an unmap before it is committed here; an error cancels it.</summary>
    protected virtual FfaError? ForwardRxTxUnmap(FfaEndpoint endpoint) => null;

    /// <summary>An endpoint releases an RX buffer that is free here: true if the other world had filled it and took it back.</summary>
    protected virtual bool ReleaseElsewhere(FfaEndpoint endpoint) => false;

    /// <summary>
    /// Before this manager writes into an endpoint's free RX buffer: makes sure the other world is not using it
    /// (the hypervisor acquires a VM's forwarded buffer from the SPMC). False: the buffer is busy.
    /// </summary>
    protected virtual bool AcquireForWrite(FfaEndpoint endpoint) => true;

    /// <summary>Tells the other world an endpoint gave its RX buffer back.</summary>
    protected virtual void ForwardRxRelease(FfaEndpoint endpoint)
    {
    }

    private void RegisterRxTx()
    {
        Register(FfaFunction.RxTxMap, HandleRxTxMap);
        Register(FfaFunction.RxTxUnmap, HandleRxTxUnmap);
        Register(FfaFunction.RxRelease, HandleRxRelease);
        Register(FfaFunction.RxAcquire, HandleRxAcquire);
    }

    private CallOutcome HandleRxTxMap(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!RxTxMap.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (caller.FromOtherWorld && call is { TxAddress: 0, RxAddress: 0, PageCount: 0 })
        {
            return ForwardedRxTxMap(caller, ref frame);
        }

        var mailbox = caller.Endpoint.Mailbox;
        if (mailbox.IsMapped)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var size = (ulong)call.PageCount * PhysicalMemory.PageSize;
        if (call.PageCount == 0
            || call.PageCount > MaxRxTxPages
            || (call.TxAddress & PhysicalMemory.PageMask) != 0
            || (call.RxAddress & PhysicalMemory.PageMask) != 0
            || (call.TxAddress < call.RxAddress + size && call.RxAddress < call.TxAddress + size))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (SpaceOf(caller) is not { } space)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        // The endpoint writes TX and reads RX; the manager writes RX through its own mapping of the same pages.
        if (!space.CanAccess(call.TxAddress, size, Stage2Access.ReadWrite, out _) || !space.CanAccess(call.RxAddress, size, Stage2Access.Read, out _))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (ForwardRxTxMap(caller.Endpoint, call.TxAddress, call.RxAddress, call.PageCount) is { } refused)
        {
            return Fail(ref frame, refused);
        }

        mailbox.Map(space, call.TxAddress, call.RxAddress, call.PageCount);
        return Succeed(ref frame);
    }

    private CallOutcome HandleRxTxUnmap(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!RxTxUnmap.TryDecode(frame, out var call, out _) || !TryNamedEndpoint(caller, call.VmId, out var endpoint) || !endpoint.Mailbox.IsMapped)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (ForwardRxTxUnmap(endpoint) is { } refused)
        {
            return Fail(ref frame, refused);
        }

        endpoint.Mailbox.Unmap();
        return Succeed(ref frame);
    }

    private CallOutcome HandleRxRelease(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!RxRelease.TryDecode(frame, out var call, out _) || !TryNamedEndpoint(caller, call.VmId, out var endpoint))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!endpoint.Mailbox.IsMapped || RxFullPending(caller, endpoint))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (endpoint.Mailbox.RxOwner == RxOwner.Manager)
        {
            // Free here; the other world may have filled it (the SPMC delivering to a VM's forwarded buffer).
            return ReleaseElsewhere(endpoint) ? Succeed(ref frame) : Fail(ref frame, FfaError.Denied);
        }

        ReleaseRx(endpoint);
        return Succeed(ref frame);
    }

    private CallOutcome HandleRxAcquire(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!RxAcquire.TryDecode(frame, out var call, out _)
            || !caller.FromOtherWorld
            || !Endpoints.TryGetValue(call.VmId, out var endpoint)
            || !endpoint.Mailbox.IsMapped)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (endpoint.Mailbox.RxOwner != RxOwner.Manager)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        endpoint.Mailbox.RxOwner = RxOwner.Hypervisor;
        return Succeed(ref frame);
    }

    /// <summary>
    /// Maps an endpoint's buffers from its manifest, before it runs (as Hafnium does for rx_tx-info): its own
    /// RXTX_MAP is then DENIED like any second map.
    /// </summary>
    public void MapBuffersAtBoot(EndpointId id, ulong tx, ulong rx, uint pages)
    {
        var endpoint = Endpoints[id];
        endpoint.Mailbox.Map(endpoint.Partition!.Memory, tx, rx, pages);
    }

    /// <summary>Gives an endpoint's RX buffer back to this manager (and tells the other world).</summary>
    protected void ReleaseRx(FfaEndpoint endpoint)
    {
        endpoint.Mailbox.RxOwner = RxOwner.Manager;
        ForwardRxRelease(endpoint);
    }

    /// <summary>
    /// The endpoint a VM-ID field names: the caller itself when it is 0; another endpoint only when the hypervisor
    /// speaks for a VM through the SPMC's port.
    /// </summary>
    private bool TryNamedEndpoint(in FfaCaller caller, EndpointId vmId, out FfaEndpoint endpoint)
    {
        if (vmId == EndpointId.Hypervisor)
        {
            endpoint = caller.Endpoint;
            return true;
        }

        endpoint = null!;
        return caller.FromOtherWorld && Endpoints.TryGetValue(vmId, out endpoint!);
    }
}
