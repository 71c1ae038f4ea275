using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

// The hypervisor's part in memory sharing. VM-to-VM transactions are its own: it validates, owns the handle (bit 63
// set) and drives the ledger. A VM's send to SPs is checked here first — the whole descriptor, and that the VM owns
// every page exclusively (as pKVM checks its host's stage-2 before it forwards) — then rebuilt with physical
// addresses in the hypervisor's own TX buffer, in the layout the SPMC serves it (v1.2), and forwarded as the 64-bit
// call, in page-sized fragments through FRAG_TX when it is longer. The SPMC allocates that handle. A VM's RECLAIM of
// an SPMC handle is forwarded after the hypervisor checks the VM owns the memory. A VM's fragmented send is gathered
// here under a hypervisor handle first; when its borrowers are SPs, the final FFA_SUCCESS carries the SPMC's handle
// (drivers take the handle from the success, as Linux does). SPs do not lend to VMs, so a VM never retrieves or
// relinquishes an SPMC handle (INVALID_PARAMETERS).
public sealed partial class Hypervisor
{
    protected override ulong HandleAllocatorBit => MemoryHandle.HypervisorAllocatorBit;

    protected override Reach MemoryReceiver(EndpointId id)
    {
        if (!id.IsSecure)
        {
            return base.MemoryReceiver(id);
        }

        return _spmc is not null && _secure.Exists(s => s.Id == id) ? Reach.Remote : Reach.Unknown;
    }

    protected override CallOutcome ForwardMemorySend(in FfaCaller caller, ref RegisterFrame frame, MemorySendPlan plan)
    {
        var constituents = new MemoryRegionConstituent[plan.Runs.Length];
        for (var i = 0; i < constituents.Length; i++)
        {
            constituents[i] = new MemoryRegionConstituent(plan.Runs[i].PhysicalPage << PhysicalMemory.PageShift, (uint)plan.Runs[i].Pages);
        }

        var bytes = new byte[MemoryTransactionDescriptorWriter.RequiredLength(Implemented, MtdShape.Send, plan.Receivers.Length, constituents.Length)];
        MemoryTransactionDescriptorWriter.TryWrite(bytes, Implemented, MtdShape.Send, plan.Header, plan.Receivers, constituents, out _);

        var sent = Math.Min(bytes.Length, PhysicalMemory.PageSize);
        _ownMemory.TryWrite(_txBuffer, bytes.AsSpan(0, sent), out _);
        var call = default(RegisterFrame);
        var transaction = new MemoryTransaction((uint)bytes.Length, (uint)sent, 0, 0);
        switch (plan.Function)
        {
            case FfaFunction.MemShare:
                new MemShare(true, transaction).Encode(ref call);
                break;
            case FfaFunction.MemLend:
                new MemLend(true, transaction).Encode(ref call);
                break;
            default:
                new MemDonate(true, transaction).Encode(ref call);
                break;
        }

        var answer = Call(call);
        while (MemFragRx.TryDecode(answer, out var more, out _) && more.Offset == sent && sent < bytes.Length)
        {
            var length = Math.Min(bytes.Length - sent, PhysicalMemory.PageSize);
            _ownMemory.TryWrite(_txBuffer, bytes.AsSpan(sent, length), out _);
            sent += length;
            var next = default(RegisterFrame);
            new MemFragTx(more.Handle, (uint)length, caller.Id).Encode(ref next);
            answer = Call(next);
        }

        frame = answer;
        return CallOutcome.Completed;
    }

    protected override CallOutcome ForeignHandle(in FfaCaller caller, ref RegisterFrame frame, FfaFunction function, MemoryHandle handle)
    {
        if (function != FfaFunction.MemReclaim || _spmc is null || Pages?.GrantOf(handle.Value) is not { } grant || grant.Owner != caller.Id)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        return _spmc.CallFromNormalWorld(caller.Vcpu, ref frame);
    }
}
