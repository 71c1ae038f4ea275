using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

// Direct messaging: FFA_MSG_SEND_DIRECT_REQ/RESP (32/64), FFA_MSG_SEND_DIRECT_REQ2/RESP2.
// A request parks the sender (Blocked) and hands the pCPU to the receiver's vCPU, whose MSG_WAIT (or previous
// DIRECT_RESP) returns the request frame; the response parks the receiver (Waiting) and hands the pCPU back.
// Rules, each an early return before anything changes:
// - the sender in w1 is the caller (a call from the normal-world port may name any normal-world ID: the hypervisor
//   sends on behalf of its VMs); then, where the personality has no VM-to-VM requests (Xen), a VM receiver is
//   NOT_SUPPORTED; sender ≠ receiver; SPs may not send requests to the normal world;
// - framework messages (w2 bit 31) only from the hypervisor (VM created/destroyed), never on REQ2;
// - the sender needs "sends direct requests" and the receiver "receives direct requests" (bits 1/0, or 10/9 for
//   REQ2): DENIED otherwise; a non-Nil REQ2 UUID must be one of the receiver's (INVALID_PARAMETERS);
// - the receiver's vCPU (vCPU i on pCPU i for a multi-vCPU partition; vCPU 0, migrating, otherwise) must be idle in
//   MSG_WAIT: BUSY when it is running or preempted; DENIED when it is itself waiting, directly or through others,
//   for the sender (a cycle that would deadlock);
// - a response goes only to the endpoint that asked (INVALID_PARAMETERS), only while a request is owed (DENIED),
//   in the same ABI family as the request (RESP2 for REQ2), and a framework request gets a framework response.
public abstract partial class PartitionManager
{
    /// <summary>
    /// A request for an endpoint this manager does not own: the hypervisor forwards it to the SPMC; elsewhere the
    /// receiver does not exist.
    /// </summary>
    protected virtual CallOutcome ForwardDirectRequest(in FfaCaller caller, ref RegisterFrame frame) => Fail(ref frame, FfaError.InvalidParameters);

    private void RegisterDirectMessaging()
    {
        Register(FfaFunction.MsgSendDirectReq, HandleDirectReq);
        Register(FfaFunction.MsgSendDirectReq2, HandleDirectReq2);
        Register(FfaFunction.MsgSendDirectResp, HandleDirectResp);
        Register(FfaFunction.MsgSendDirectResp2, HandleDirectResp2);
    }

    private CallOutcome HandleDirectReq(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MsgSendDirectReq.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var framework = call.Kind.IsFramework();
        if (framework && !(caller.FromOtherWorld && call.Endpoints.Sender == EndpointId.Hypervisor))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!call.Is64)
        {
            frame.TruncateTo32();
        }

        ClearAbove(ref frame, 8);
        return Request(caller, ref frame, call.Endpoints, version2: false, framework, Uuid.Nil);
    }

    private CallOutcome HandleDirectReq2(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MsgSendDirectReq2.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        return Request(caller, ref frame, call.Endpoints, version2: true, framework: false, call.Uuid);
    }

    private CallOutcome Request(in FfaCaller caller, ref RegisterFrame frame, SenderReceiver endpoints, bool version2, bool framework, Uuid uuid)
    {
        var sender = endpoints.Sender;
        var receiver = endpoints.Receiver;
        var senderOk = caller.FromOtherWorld ? !sender.IsSecure : sender == caller.Id;
        if (!senderOk)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        // Xen refuses any VM-to-VM request right after checking the sender, before anything else about it.
        if (!Personality.DirectRequestsBetweenVms && !caller.FromOtherWorld && !sender.IsSecure && !receiver.IsSecure)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        if (sender == receiver || (caller.Id.IsSecure && !receiver.IsSecure))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var (sends, receives) = version2
            ? (PartitionProperties.SendsDirectRequests2, PartitionProperties.ReceivesDirectRequests2)
            : (PartitionProperties.SendsDirectRequests, PartitionProperties.ReceivesDirectRequests);
        if (!framework && caller.Endpoint.Partition is { } from && !from.Config.Has(sends))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (!Endpoints.TryGetValue(receiver, out var target) || target.Partition is null)
        {
            return ForwardDirectRequest(caller, ref frame);
        }

        var partition = target.Partition;
        if (partition.IsAborted)
        {
            return Fail(ref frame, FfaError.Aborted);
        }

        if (!partition.Config.Has(receives))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (version2 && !uuid.IsNil && !partition.Config.Uuids.Contains(uuid))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var pcpu = caller.Vcpu.Pcpu!;
        if (TargetVcpu(partition, pcpu) is not { } receiverVcpu)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!receiverVcpu.IsAvailable)
        {
            return Fail(ref frame, WaitsFor(receiverVcpu, caller.Vcpu) ? FfaError.Denied : FfaError.Busy);
        }

        receiverVcpu.Owe(Occupation.DirectRequest, caller.Vcpu, caller.FromOtherWorld);
        receiverVcpu.RequestFrom = sender;
        receiverVcpu.RequestIsV2 = version2;
        receiverVcpu.RequestIsFramework = framework;
        BeforeEntering(receiverVcpu);
        Scheduler.Park(caller.Vcpu, VcpuState.Blocked);
        Scheduler.SwitchTo(pcpu, receiverVcpu.Vcpu, frame);
        return CallOutcome.Blocked;
    }

    private CallOutcome HandleDirectResp(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MsgSendDirectResp.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!call.Is64)
        {
            frame.TruncateTo32();
        }

        ClearAbove(ref frame, 8);
        return Respond(caller, ref frame, call.Endpoints, version2: false, call.Kind);
    }

    private CallOutcome HandleDirectResp2(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MsgSendDirectResp2.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        return Respond(caller, ref frame, call.Endpoints, version2: true, DirectMessageKind.Partition);
    }

    private CallOutcome Respond(in FfaCaller caller, ref RegisterFrame frame, SenderReceiver endpoints, bool version2, DirectMessageKind kind)
    {
        if (caller.Self is not { } self || endpoints.Sender != caller.Id)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (self.Occupation != Occupation.DirectRequest)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (endpoints.Receiver != self.RequestFrom
            || version2 != self.RequestIsV2
            || kind.IsFramework() != self.RequestIsFramework
            || (self.RequestIsFramework && !IsResponseKind(kind)))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var pcpu = caller.Vcpu.Pcpu!;
        var returnTo = self.ReturnTo!;
        var otherWorld = self.ReturnToOtherWorld;
        self.Settle();
        Scheduler.Park(caller.Vcpu, VcpuState.Waiting);
        GiveBack(pcpu, returnTo, otherWorld, frame);
        return CallOutcome.Blocked;
    }

    /// <summary>
    /// The vCPU of <paramref name="partition"/> that serves a request arriving on <paramref name="pcpu"/>: the vCPU with
    /// the pCPU's index for a partition with a vCPU per pCPU, vCPU 0 (which migrates) for a single-vCPU partition.
    /// </summary>
    protected static FfaVcpu? TargetVcpu(Partition partition, Pcpu pcpu)
    {
        var vcpus = partition.Vcpus;
        var index = vcpus.Count == 1 ? 0 : pcpu.Index;
        return index < vcpus.Count ? (FfaVcpu)vcpus[index].Owner! : null;
    }

    /// <summary>Whether <paramref name="target"/> is blocked waiting, directly or through a chain of requests, for <paramref name="vcpu"/>.</summary>
    private static bool WaitsFor(FfaVcpu target, Vcpu vcpu)
    {
        // The chain of requesters that the vCPU now running owes answers to: if the target is on it, a request to
        // the target could never be answered.
        for (var link = vcpu.Owner as FfaVcpu; link is not null; link = link.ReturnTo?.Owner as FfaVcpu)
        {
            if (ReferenceEquals(link, target))
            {
                return true;
            }

            if (link.Occupation != Occupation.DirectRequest)
            {
                break;
            }
        }

        return false;
    }

    private static bool IsResponseKind(DirectMessageKind kind) =>
        kind is DirectMessageKind.VmCreatedResponse or DirectMessageKind.VmDestroyedResponse or DirectMessageKind.PowerManagementResponse;

    /// <summary>Zeroes x{first}..x17: what an ABI that uses only x0..x7 leaves there.</summary>
    protected static void ClearAbove(ref RegisterFrame frame, int first) => frame.AsSpan()[first..].Clear();
}
