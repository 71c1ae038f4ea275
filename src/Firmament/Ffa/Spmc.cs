using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>
/// The secure partition manager: owns the SPs (the secure virtual FF-A instance) and serves the normal world through
/// one port (the physical instance), where the caller is endpoint 0 — the hypervisor, speaking for its VMs where an
/// ABI lets it name one, or the OS kernel when there is no hypervisor.
/// Notifications: it keeps the SPs' bindings and the VMs' bindings to SPs (bitmaps the hypervisor, or the kernel for
/// itself, creates), raises the SRI toward the normal world and the NPI in SPs. Memory sharing: SP to SP and normal
/// world to SP (SpmcMemory.cs). What it does not do yet: managed exit, secure interrupts other than a pending virtual
/// interrupt delivered on the next FFA_RUN.
/// </summary>
public sealed partial class Spmc : PartitionManager
{
    private readonly FfaEndpoint _normalWorld;
    private readonly Dictionary<int, Queue<FfaVcpu>> _bootQueues = [];
    private readonly HashSet<int> _preemptPending = [];
    private readonly HashSet<int> _delayedSri = [];

    public Spmc(Scheduler scheduler, PhysicalMemory memory, Personality personality, AddressSpace normalWorldMemory)
        : base(scheduler, memory, personality, PersonalityRoles.Spmc)
    {
        NormalWorldMemory = normalWorldMemory;
        _normalWorld = new FfaEndpoint(EndpointId.Hypervisor, null, Implemented);
        Endpoints.Add(_normalWorld.Id, _normalWorld);
    }

    public override EndpointId OwnId => EndpointId.Spmc;

    public override string RoleName => "SPMC";

    /// <summary>Normal-world physical memory, identity-mapped: where the normal world's buffer addresses point.</summary>
    public AddressSpace NormalWorldMemory { get; }

    /// <summary>Where answers to normal-world calls go.</summary>
    public INormalWorld? NormalWorld { get; set; }

    /// <summary>The normal world's record here (endpoint 0: its negotiated version, its own RX/TX buffers).</summary>
    public FfaEndpoint NormalWorldEndpoint => _normalWorld;

    protected override EndpointId? SpmcId => EndpointId.Spmc;


    /// <summary>
    /// Boots the SPs: each vCPU with code runs its initialisation, in boot order, on its pCPU (vCPU i on pCPU i mod N),
    /// until its first FFA_MSG_WAIT. Run the scheduler afterwards to carry it out.
    /// </summary>
    public void Boot()
    {
        foreach (var partition in Partitions.OrderBy(static p => p.Config.BootOrder).ThenBy(static p => p.Id.Value))
        {
            foreach (var vcpu in partition.Vcpus)
            {
                var record = (FfaVcpu)vcpu.Owner!;
                var pcpu = Scheduler.HomeOf(vcpu).Index;
                if (!_bootQueues.TryGetValue(pcpu, out var queue))
                {
                    _bootQueues[pcpu] = queue = new Queue<FfaVcpu>();
                }

                queue.Enqueue(record);
            }
        }

        foreach (var pcpu in _bootQueues.Keys.Order())
        {
            BootStepDone(Scheduler.Pcpus[pcpu]);
        }
    }

    /// <summary>A call from the normal world's physical FF-A instance, made by <paramref name="vcpu"/> (the hypervisor's or the kernel's).</summary>
    public CallOutcome CallFromNormalWorld(Vcpu vcpu, ref RegisterFrame frame) =>
        Dispatch(new FfaCaller(_normalWorld, vcpu, null, true), ref frame);

    /// <summary>
    /// A non-secure interrupt arrived for <paramref name="pcpu"/>: the SP running there is preempted at its next call
    /// boundary, and the normal world gets FFA_INTERRUPT naming it.
    /// </summary>
    public void SignalNonSecureInterrupt(Pcpu pcpu)
    {
        ArgumentNullException.ThrowIfNull(pcpu);
        _preemptPending.Add(pcpu.Index);
    }

    /// <summary>Makes a virtual interrupt pending for an SP vCPU; a waiting vCPU sees it when next given cycles.</summary>
    public void SignalVirtualInterrupt(Vcpu vcpu, int intid)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        vcpu.Interrupts.Enable(intid);
        Scheduler.RaiseInterrupt(vcpu, intid);
    }

    protected override CallOutcome HandleOwnVcpuCall(FfaVcpu self, ref RegisterFrame frame)
    {
        var outcome = base.HandleOwnVcpuCall(self, ref frame);
        var pcpu = self.Vcpu.Pcpu;
        if (outcome == CallOutcome.Completed
            && pcpu is not null
            && _preemptPending.Contains(pcpu.Index)
            && self.Occupation is Occupation.DirectRequest or Occupation.Run
            && RootOf(self).ReturnToOtherWorld)
        {
            _preemptPending.Remove(pcpu.Index);
            return Preempt(self, frame);
        }

        return outcome;
    }

    protected override void ReturnToOtherWorld(Vcpu vcpu, Pcpu pcpu, in RegisterFrame answer)
    {
        if (NormalWorld is null)
        {
            throw new InvalidOperationException("the SPMC has no normal world to return to");
        }

        // A delayed SRI fires at the world switch back to the normal world (Hafnium's sri_trigger_if_delayed).
        if (_delayedSri.Remove(pcpu.Index))
        {
            RaiseScheduleReceiverInterrupt(pcpu);
        }

        NormalWorld.ReturnFromSecure(vcpu, pcpu, answer);
    }

    /// <summary>The SPs (and VMs the hypervisor made bitmaps for) that can receive notifications, with their state.</summary>
    protected override bool SenderExists(EndpointId sender) => !sender.IsSecure || base.SenderExists(sender);

    /// <summary>
    /// Something became pending: the normal world's scheduler is told with the SRI, now or (an SP's delay-SRI flag) at
    /// the next switch to the normal world on this pCPU; an SP receiver busy on a vCPU gets the NPI there at once,
    /// otherwise when it is next given cycles (<see cref="BeforeEntering"/>).
    /// </summary>
    protected override void NotificationsPending(in FfaCaller caller, NotificationReceiver receiver, int? vcpu, bool delaySri)
    {
        if (LocalPartition(receiver.Id) is { } sp)
        {
            foreach (var v in sp.Vcpus)
            {
                var record = (FfaVcpu)v.Owner!;
                if ((vcpu is null || vcpu == record.Index) && v.State is VcpuState.Running or VcpuState.Blocked)
                {
                    RaiseNpi(record, receiver);
                    break;
                }
            }
        }

        var pcpu = caller.Vcpu.Pcpu ?? Scheduler.Pcpus[0];
        if (delaySri)
        {
            _delayedSri.Add(pcpu.Index);
        }
        else
        {
            RaiseScheduleReceiverInterrupt(pcpu);
        }
    }

    /// <summary>An SP vCPU is about to run: the NPI is made pending for it if its partition has notifications it has not been told of.</summary>
    protected override void BeforeEntering(FfaVcpu vcpu)
    {
        if (NotificationsOf(vcpu.Endpoint.Id) is { } receiver
            && ((!receiver.InterruptRaised && AnythingPending(receiver)) || (vcpu.Index < receiver.VcpuCount && receiver.VcpuPending(vcpu.Index))))
        {
            RaiseNpi(vcpu, receiver);
        }
    }

    private void RaiseNpi(FfaVcpu vcpu, NotificationReceiver receiver)
    {
        receiver.InterruptRaised = true;
        Scheduler.RaiseInterrupt(vcpu.Vcpu, (int)Personality.NotificationPendingInterrupt);
    }

    private void RaiseScheduleReceiverInterrupt(Pcpu pcpu)
    {
        if (NormalWorld is { } normalWorld)
        {
            normalWorld.ScheduleReceiverInterrupt(pcpu);
        }
    }

    /// <summary>NPI to SPs (the secure virtual instance), SRI to the normal world (the physical instance); no managed exit here.</summary>
    protected override uint? FeatureInterruptId(FfaFeature feature, in FfaCaller caller) => feature switch
    {
        FfaFeature.NotificationPendingInterrupt when !caller.FromOtherWorld && Serves(FfaFunction.NotificationGet, false, caller) =>
            Personality.NotificationPendingInterrupt,
        FfaFeature.ScheduleReceiverInterrupt when caller.FromOtherWorld && Serves(FfaFunction.NotificationInfoGet, true, caller) =>
            Personality.ScheduleReceiverInterrupt,
        _ => null,
    };

    protected override void BootStepDone(Pcpu pcpu)
    {
        if (!_bootQueues.TryGetValue(pcpu.Index, out var queue))
        {
            return;
        }

        while (queue.TryDequeue(out var next))
        {
            if (next.Endpoint.IsAborted)
            {
                continue;
            }

            next.Owe(Occupation.Boot, null, false);
            var entry = default(RegisterFrame);
            Scheduler.SwitchTo(pcpu, next.Vcpu, entry);
            return;
        }
    }

    protected override bool Offers(FfaFunction function, bool is64, in FfaCaller caller)
    {
        if (caller.FromOtherWorld)
        {
            // The normal world neither waits, yields nor responds here: it is not a partition of this world.
            return function is not (FfaFunction.MsgWait or FfaFunction.Yield or FfaFunction.MsgSendDirectResp or FfaFunction.MsgSendDirectResp2);
        }

        // SPs do not schedule others with RUN, RX_ACQUIRE is the hypervisor's, and bitmaps and INFO_GET are for the
        // normal world's scheduler.
        return function is not (FfaFunction.Run or FfaFunction.RxAcquire or FfaFunction.NotificationBitmapCreate
            or FfaFunction.NotificationBitmapDestroy or FfaFunction.NotificationInfoGet);
    }

    protected override IEnumerable<PartitionInfo> DiscoverablePartitions(in FfaCaller caller) =>
        Partitions.SelectMany(static p => PartitionInfos.For(p.Config));

    protected override AddressSpace? SpaceOf(in FfaCaller caller) =>
        caller.FromOtherWorld ? NormalWorldMemory : base.SpaceOf(caller);

    /// <summary>
    /// The hypervisor maps a VM's buffers here: its TX buffer holds an endpoint RX/TX descriptor naming the VM and one
    /// physical range for each buffer.
    /// </summary>
    protected override CallOutcome ForwardedRxTxMap(in FfaCaller caller, ref RegisterFrame frame)
    {
        var own = _normalWorld.Mailbox;
        if (!own.IsMapped)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var bytes = new byte[own.Size];
        if (!own.Space!.TryRead(own.TxAddress, bytes, out _) || !EndpointRxTx.TryDecode(bytes, out var descriptor, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var vm = descriptor.Endpoint;
        if (vm.IsSecure || vm == EndpointId.Hypervisor || descriptor.Rx.Count != 1 || descriptor.Tx.Count != 1)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var rx = descriptor.Rx[0];
        var tx = descriptor.Tx[0];
        var size = (ulong)rx.PageCount * PhysicalMemory.PageSize;
        if (rx.PageCount != tx.PageCount
            || rx.PageCount == 0
            || rx.PageCount > MaxRxTxPages
            || !NormalWorldMemory.CanAccess(rx.Address, size, Stage2Access.ReadWrite, out _)
            || !NormalWorldMemory.CanAccess(tx.Address, size, Stage2Access.ReadWrite, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (Endpoints.TryGetValue(vm, out var existing) && existing.Mailbox.IsMapped)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (existing is null)
        {
            existing = new FfaEndpoint(vm, null, _normalWorld.Version);
            Endpoints.Add(vm, existing);
        }

        existing.Mailbox.Map(NormalWorldMemory, tx.Address, rx.Address, rx.PageCount);
        return Succeed(ref frame);
    }
}
