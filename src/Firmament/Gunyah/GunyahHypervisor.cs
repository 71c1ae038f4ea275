using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Machine;

namespace Firmament.Gunyah;

/// <summary>
/// Gunyah's hypercall service inside the normal-world hypervisor, next to the FF-A mediator: the hypervisor hands it
/// every call whose SMCCC owner is 6 (vendor hypervisor) and every native <c>HVC #(0x6000 + N)</c>, plus the PSCI calls
/// of proxy-scheduled vCPUs. It owns the objects — per-VM cspaces, VICs, message queues, doorbells, vCPU threads —
/// and answers each hypercall with the hypervisor's <c>error_t</c> in x0 and results from x1, in both conventions.
/// Implemented: hypervisor_identify, the Call UID / revision / call count service calls, cspace copy, delete, revoke
/// (of all children; revoke of one cap is UNIMPLEMENTED, as in the hypervisor), configure; partition_create_doorbell
/// and _msgqueue, object_activate(_from); every doorbell and message-queue call; vcpu_run, vcpu_run_check and
/// scheduler_yield. Every other hypercall number answers ERROR_UNIMPLEMENTED; an unknown SMCCC ID in owner 6 answers
/// SMCCC_UNKNOWN_FUNCTION (−1, the same value).
/// </summary>
public sealed partial class GunyahHypervisor
{
    /// <summary>What identify reports: partition+cspace, doorbell, msgqueue, VIC, vCPU, vcpu_run; FPRR scheduler.</summary>
    public static readonly HypApiFlags0 Features = HypApiFlags0.Create(
        ApiFeatures.PartitionCspace | ApiFeatures.Doorbell | ApiFeatures.Msgqueue | ApiFeatures.VicVirq | ApiFeatures.Vcpu | ApiFeatures.VcpuRun,
        SchedulerVariant.Fprr);

    /// <summary>hyp_api_info: API v1, little-endian, 64-bit, variant Gunyah (0x48).</summary>
    public static readonly HypApiInfo ApiInfo = HypApiInfo.Create(HypervisorVariant.Gunyah);

    private readonly Dictionary<ushort, GunyahVm> _vms = [];

    /// <summary>VMs with a VMID below 256 (all of them, in practice), for the call path's lookup.</summary>
    private readonly GunyahVm?[] _smallVms = new GunyahVm?[256];
    private readonly ulong _seed;

    public GunyahHypervisor(Scheduler scheduler, ulong seed)
    {
        Scheduler = scheduler;
        _seed = seed;
    }

    public Scheduler Scheduler { get; }

    /// <summary>Every VM, by VMID.</summary>
    public IReadOnlyDictionary<ushort, GunyahVm> Vms => _vms;

    /// <summary>Hypercalls handled.</summary>
    public long Calls { get; private set; }

    /// <summary>Registers a VM: a fresh cspace (its IDs randomized from the seed and VMID), a VIC, a thread object per vCPU.</summary>
    public GunyahVm AddVm(ushort vmid, string name, AddressSpace? memory, IReadOnlyList<Vcpu> vcpus)
    {
        var cspace = new Cspace(name, _seed ^ ((ulong)vmid * 0x9E37_79B9_7F4A_7C15)) { State = GunyahObjectState.Active };
        var vm = new GunyahVm(vmid, name, cspace, memory, vcpus);
        foreach (var vcpu in vcpus)
        {
            vm.AddThread(new GunyahThread(vm, vcpu));
        }

        _vms.Add(vmid, vm);
        if (vmid < _smallVms.Length)
        {
            _smallVms[vmid] = vm;
        }

        return vm;
    }

    /// <summary>Forgets a VM (after its reset); its objects stay reachable only through caps held elsewhere.</summary>
    public bool RemoveVm(ushort vmid)
    {
        if (vmid < _smallVms.Length)
        {
            _smallVms[vmid] = null;
        }

        return _vms.Remove(vmid);
    }

    public GunyahVm? Vm(ushort vmid) => _vms.GetValueOrDefault(vmid);

    /// <summary>Whether the hypervisor should hand this SMCCC call to Gunyah: owner 6, or PSCI from a proxy-run vCPU.</summary>
    public bool Handles(Vcpu caller, in RegisterFrame frame)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var id = frame.Function;
        return id.Owner == SmcccOwner.VendorHypervisor || (Psci.IsPsci(frame.W(0)) && ThreadOf(caller) is { IsProxyScheduled: true });
    }

    /// <summary>
    /// One call from <paramref name="caller"/>: native when the vCPU's <see cref="Vcpu.Immediate"/> is set (the number
    /// is in the immediate, arguments from x0), else SMCCC (the ID in w0, arguments from x1).
    /// </summary>
    public CallOutcome Call(Vcpu caller, ref RegisterFrame frame)
    {
        ArgumentNullException.ThrowIfNull(caller);
        Calls++;
        GunyahConvention convention;
        ushort number;
        if (caller.Immediate != 0)
        {
            convention = GunyahConvention.Native;
            if (!GunyahHypercalls.TryGetByNativeImmediate(caller.Immediate, out var native))
            {
                return Result(ref frame, GunyahError.Unimplemented);
            }

            number = native.Number;
        }
        else
        {
            convention = GunyahConvention.Smccc;
            var w0 = frame.W(0);
            if (GunyahServiceCalls.TryClassify(w0, out var service))
            {
                return Service(service, ref frame);
            }

            if (Psci.IsPsci(w0))
            {
                return PsciCall(caller, ref frame);
            }

            if (!GunyahHypercalls.TryClassify(w0, out var info, out _))
            {
                return Result(ref frame, GunyahError.Unimplemented);
            }

            number = info.Number;
        }

        if (VmOf(caller) is not { } vm)
        {
            return Result(ref frame, GunyahError.Unimplemented);
        }

        return Dispatch(vm, caller, (GunyahHypercall)number, ref frame, convention);
    }

    private CallOutcome Dispatch(GunyahVm vm, Vcpu caller, GunyahHypercall call, ref RegisterFrame frame, GunyahConvention convention) => call switch
    {
        GunyahHypercall.HypervisorIdentify => Identify(ref frame, convention),
        GunyahHypercall.DoorbellBindVirq => DoorbellBindVirq(vm, ref frame, convention),
        GunyahHypercall.DoorbellUnbindVirq => DoorbellUnbindVirq(vm, ref frame, convention),
        GunyahHypercall.DoorbellSend => DoorbellSend(vm, ref frame, convention),
        GunyahHypercall.DoorbellReceive => DoorbellReceive(vm, ref frame, convention),
        GunyahHypercall.DoorbellReset => DoorbellReset(vm, ref frame, convention),
        GunyahHypercall.DoorbellMask => DoorbellMask(vm, ref frame, convention),
        GunyahHypercall.MsgqueueBindSendVirq => MsgqueueBindVirq(vm, ref frame, convention, send: true),
        GunyahHypercall.MsgqueueBindReceiveVirq => MsgqueueBindVirq(vm, ref frame, convention, send: false),
        GunyahHypercall.MsgqueueUnbindSendVirq => MsgqueueUnbindVirq(vm, ref frame, convention, send: true),
        GunyahHypercall.MsgqueueUnbindReceiveVirq => MsgqueueUnbindVirq(vm, ref frame, convention, send: false),
        GunyahHypercall.MsgqueueSend => MsgqueueSend(vm, ref frame, convention),
        GunyahHypercall.MsgqueueReceive => MsgqueueReceive(vm, ref frame, convention),
        GunyahHypercall.MsgqueueFlush => MsgqueueFlush(vm, ref frame, convention),
        GunyahHypercall.MsgqueueConfigureSend => MsgqueueConfigureSend(vm, ref frame, convention),
        GunyahHypercall.MsgqueueConfigureReceive => MsgqueueConfigureReceive(vm, ref frame, convention),
        GunyahHypercall.MsgqueueConfigure => MsgqueueConfigure(vm, ref frame, convention),
        GunyahHypercall.CspaceCopyCapFrom => CspaceCopyCapFrom(vm, ref frame, convention),
        GunyahHypercall.CspaceDeleteCapFrom => CspaceDeleteCapFrom(vm, ref frame, convention),
        GunyahHypercall.CspaceRevokeCapFrom => Result(ref frame, GunyahError.Unimplemented),
        GunyahHypercall.CspaceRevokeCapsFrom => CspaceRevokeCapsFrom(vm, ref frame, convention),
        GunyahHypercall.CspaceConfigure => CspaceConfigure(vm, ref frame, convention),
        GunyahHypercall.PartitionCreateDoorbell => PartitionCreate(vm, ref frame, convention, doorbell: true),
        GunyahHypercall.PartitionCreateMsgqueue => PartitionCreate(vm, ref frame, convention, doorbell: false),
        GunyahHypercall.ObjectActivate => ObjectActivate(vm, ref frame, convention, from: false),
        GunyahHypercall.ObjectActivateFrom => ObjectActivate(vm, ref frame, convention, from: true),
        GunyahHypercall.VcpuRun => VcpuRun(vm, caller, ref frame, convention),
        GunyahHypercall.VcpuRunCheck => VcpuRunCheck(vm, ref frame, convention),
        GunyahHypercall.SchedulerYield => SchedulerYield(caller, ref frame, convention),
        _ => Result(ref frame, GunyahError.Unimplemented),
    };

    private GunyahVm? VmOf(Vcpu vcpu)
    {
        var vmid = vcpu.Id.Endpoint.Value;
        return vmid < _smallVms.Length ? _smallVms[vmid] : _vms.GetValueOrDefault(vmid);
    }

    private GunyahThread? ThreadOf(Vcpu vcpu) =>
        VmOf(vcpu) is { } vm && vcpu.Id.Index < vm.Threads.Count && ReferenceEquals(vm.Threads[vcpu.Id.Index].Vcpu, vcpu) ? vm.Threads[vcpu.Id.Index] : null;

    private static CallOutcome Identify(ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!HypervisorIdentify.TryDecode(frame, convention, out _, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        ClearResults(ref frame);
        new HypervisorIdentifyResult(ApiInfo, Features, ApiFlags1.None, 0).Encode(ref frame, convention);
        return CallOutcome.Completed;
    }

    /// <summary>The SMC32 service calls: Call UID (the Gunyah UUID), revision (hyp_api_info), call count (deprecated: −1).</summary>
    private static CallOutcome Service(GunyahServiceCall service, ref RegisterFrame frame)
    {
        ClearResults(ref frame);
        switch (service)
        {
            case GunyahServiceCall.CallUid:
                CallUidResult.Gunyah.Encode(ref frame, GunyahConvention.Smccc);
                break;
            case GunyahServiceCall.Revision:
                new RevisionResult(ApiInfo).Encode(ref frame, GunyahConvention.Smccc);
                break;
            default:
                frame[0] = uint.MaxValue; // SMCCC_UNKNOWN_FUNCTION as a 32-bit result
                break;
        }

        return CallOutcome.Completed;
    }

    /// <summary>The return of a call whose only result is its error (x1..x7 zeroed: the hypervisor does not preserve them).</summary>
    internal static CallOutcome Result(ref RegisterFrame frame, GunyahError error)
    {
        ClearResults(ref frame);
        frame[0] = error.ToRegister();
        return CallOutcome.Completed;
    }

    private static void ClearResults(ref RegisterFrame frame) => frame.AsSpan()[..8].Clear();
}
