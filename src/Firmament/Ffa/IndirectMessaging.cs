using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

// Indirect messaging: FFA_MSG_SEND2 (v1.1).
// The message is read out of the sender's TX buffer once (a copy: the sender cannot change it under us), checked
// against the sender's version, and written into the receiver's RX buffer with the header in the receiver's layout
// (v1.1: 20 bytes, v1.2: 40 bytes; the payload follows the header). The receiver then owns its RX buffer and the
// RX-buffer-full framework notification is pending for it (the SPM bit for an SP sender, the hypervisor bit for a
// VM sender); delivering that notification is the notifications area's job.
// Errors: w1 naming a sender VM from anyone but the hypervisor, the delay-SRI flag from a VM, a bad header, a spoofed
// or self-addressed header, an empty or oversized message (more than one 4 KiB page with its header), a VM receiver
// where the personality has no VM-to-VM messages (Xen): INVALID_PARAMETERS;
// no TX buffer, or either side without indirect messaging: DENIED; a receiver whose RX buffer is not free: BUSY.
public abstract partial class PartitionManager
{
    /// <summary>The largest indirect message, header included (Hafnium caps it at one page).</summary>
    public const int MaxIndirectMessage = PhysicalMemory.PageSize;

    /// <summary>SEND2 to an endpoint this manager does not own: the hypervisor forwards secure receivers.</summary>
    protected virtual CallOutcome ForwardMsgSend2(in FfaCaller caller, ref RegisterFrame frame, EndpointId receiver) => Fail(ref frame, FfaError.InvalidParameters);

    private void RegisterIndirectMessaging() => Register(FfaFunction.MsgSend2, HandleMsgSend2);

    private CallOutcome HandleMsgSend2(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MsgSend2.TryDecode(frame, out var call, out _)
            || (call.SenderVmId != EndpointId.Hypervisor && !caller.FromOtherWorld)
            || ((call.Flags & MsgSend2Flags.DelaySri) != 0 && !caller.Id.IsSecure))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var sending = caller.Endpoint;
        if (call.SenderVmId != EndpointId.Hypervisor && !Endpoints.TryGetValue(call.SenderVmId, out sending!))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var tx = sending.Mailbox;
        if (!tx.IsMapped)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var message = new byte[Math.Min(tx.Size, MaxIndirectMessage)];
        if (!tx.Space!.TryRead(tx.TxAddress, message, out _))
        {
            return Fail(ref frame, FfaError.Aborted);
        }

        if (!IndirectMessageHeader.TryRead(message, sending.Version, out var header, out _)
            || header.Sender != sending.Id
            || header.Receiver == header.Sender
            || header.Size == 0)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        // Xen without CONFIG_FFA_VM_TO_VM (its default) delivers only to SPs: any other receiver is a bad parameter.
        if (!Personality.IndirectMessagesBetweenVms && !header.Sender.IsSecure && !header.Receiver.IsSecure)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        // The sender's property is checked before a message leaves this manager: the SPMC does not know a
        // forwarded VM's properties.
        if (!SupportsIndirect(sending))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (!Endpoints.TryGetValue(header.Receiver, out var receiver))
        {
            return ForwardMsgSend2(caller, ref frame, header.Receiver);
        }

        if (!SupportsIndirect(receiver))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (receiver.IsAborted)
        {
            return Fail(ref frame, FfaError.Aborted);
        }

        var layout = IndirectMessageHeader.SizeFor(receiver.Version);
        if (receiver.Mailbox.RxFree && layout + header.Size > receiver.Mailbox.Size)
        {
            return Fail(ref frame, FfaError.NoMemory);
        }

        if (!receiver.Mailbox.RxFree || !AcquireForWrite(receiver))
        {
            return Fail(ref frame, FfaError.Busy);
        }

        var delivered = new byte[layout + header.Size];
        var rewritten = IndirectMessageHeader.For(receiver.Version, header.Sender, header.Receiver, header.Size, header.Uuid);
        rewritten.TryWrite(delivered, receiver.Version, out _);
        header.Payload(message).CopyTo(delivered.AsSpan(layout));
        if (!TryFillRx(receiver, delivered))
        {
            return Fail(ref frame, FfaError.Aborted);
        }

        if (header.Sender.IsSecure)
        {
            receiver.SpmFrameworkPending |= RxBufferFull;
        }
        else
        {
            receiver.HypervisorFrameworkPending |= RxBufferFull;
        }

        Succeed(ref frame);
        FrameworkNotificationPending(caller, receiver, (call.Flags & MsgSend2Flags.DelaySri) != 0);
        return CallOutcome.Completed;
    }

    /// <summary>Framework notification bit 0: the RX buffer holds a message.</summary>
    public const uint RxBufferFull = 1;

    private static bool SupportsIndirect(FfaEndpoint endpoint) =>
        endpoint.Partition is not { } partition || partition.Config.Has(PartitionProperties.SupportsIndirectMessages);
}
