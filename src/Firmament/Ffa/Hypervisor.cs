using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>
/// The normal-world hypervisor as an FF-A mediator: it serves its VMs (the normal-world virtual instance), handles
/// VM-to-VM traffic itself, and forwards whatever involves an SP to the SPMC as an FF-A client of it (endpoint 0):
/// direct requests and RUN to SPs, MSG_SEND2 to SPs (naming the sending VM in w1), and every VM's RX/TX buffers
/// (mapped at the SPMC with the endpoint RX/TX descriptor, acquired before the hypervisor writes into them,
/// released when the VM releases them). At boot it negotiates v1.2 with the SPMC, maps its own buffers, learns the
/// SPs with PARTITION_INFO_GET, tells subscribed SPs about each VM (VM created), then starts the VMs.
/// Notifications: VM-to-VM ones are bound and delivered here (Hypervisor.Notifications.cs), the rest are the SPMC's;
/// the SRI from the secure side is drained here and turned into NPIs for VMs. Memory sharing is in HypervisorMemory.cs.
/// Gunyah-style hypercalls (SMCCC owner 6, native HVC immediates) go to <see cref="Gunyah"/> when the platform has one.
/// </summary>
public sealed partial class Hypervisor : PartitionManager, INormalWorld
{
    private readonly Spmc? _spmc;
    private readonly AddressSpace _ownMemory;
    private readonly ulong _txBuffer;
    private readonly ulong _rxBuffer;
    private readonly Vcpu _self;
    private readonly List<PartitionInfo> _secure = [];
    private readonly Queue<(EndpointId Vm, EndpointId Sp, bool Created)> _announcements = new();
    private bool _booted;
    private EndpointId? _spmcId;

    /// <param name="scheduler">The machine's scheduler.</param>
    /// <param name="memory">Physical memory.</param>
    /// <param name="personality">How it answers where implementations differ.</param>
    /// <param name="spmc">The SPMC, or null for a platform with no secure world.</param>
    /// <param name="ownMemory">Normal-world physical memory, identity-mapped (the hypervisor's view).</param>
    /// <param name="txBuffer">Physical address of the hypervisor's own one-page TX buffer.</param>
    /// <param name="rxBuffer">Physical address of its RX buffer.</param>
    public Hypervisor(Scheduler scheduler, PhysicalMemory memory, Personality personality, Spmc? spmc, AddressSpace ownMemory, ulong txBuffer, ulong rxBuffer)
        : base(scheduler, memory, personality, PersonalityRoles.Hypervisor)
    {
        _spmc = spmc;
        _ownMemory = ownMemory;
        _txBuffer = txBuffer;
        _rxBuffer = rxBuffer;
        _self = new Vcpu(new VcpuId(EndpointId.Hypervisor, 0), this, new Announcer(this), 0);
    }

    public override EndpointId OwnId => EndpointId.Hypervisor;

    public override string RoleName => "hypervisor";

    /// <summary>Gunyah's hypercall service (SMCCC owner 6 and native <c>HVC #0x6000+N</c>), when the platform has one.</summary>
    public Gunyah.GunyahHypervisor? Gunyah { get; set; }

    /// <summary>The SPs as the SPMC described them at boot.</summary>
    public IReadOnlyList<PartitionInfo> SecurePartitions => _secure;

    protected override EndpointId? SpmcId => _spmcId;

    /// <summary>
    /// Boots the normal world: the hypervisor's own FF-A setup with the SPMC (errors here are configuration errors
    /// and throw), the VM-created messages, then every VM vCPU is made ready on its pCPU. Run the scheduler after.
    /// </summary>
    public void Boot()
    {
        if (_spmc is not null)
        {
            Expect(Call(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.Version), Implemented.Encode())), Implemented.Encode(), "FFA_VERSION");
            var map = default(RegisterFrame);
            new RxTxMap(true, _txBuffer, _rxBuffer, 1).Encode(ref map);
            ExpectSuccess(Call(map), "FFA_RXTX_MAP");
            LearnSecurePartitions();
            var id = Call(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.SpmIdGet)));
            _spmcId = new EndpointId((ushort)id.X2);
            CreateNotificationBitmaps();
            foreach (var vm in Partitions)
            {
                foreach (var sp in Subscribers(PartitionProperties.InformedOfVmCreation))
                {
                    _announcements.Enqueue((vm.Id, sp, true));
                }
            }
        }

        if (_announcements.Count > 0)
        {
            Scheduler.Ready(_self, default, Scheduler.Pcpus[0]);
        }
        else
        {
            StartVms();
        }
    }

    /// <summary>
    /// Tears a VM down: its vCPUs stop, its buffers are unmapped here and at the SPMC, it leaves discovery, and every
    /// SP subscribed to VM destruction gets the VM-destroyed framework message (run the scheduler to deliver them).
    /// False if the ID is not one of this hypervisor's VMs.
    /// </summary>
    public bool DestroyVm(EndpointId id)
    {
        if (LocalPartition(id) is not { } vm)
        {
            return false;
        }

        foreach (var vcpu in vm.Vcpus)
        {
            ((FfaVcpu)vcpu.Owner!).Settle();
            Scheduler.Stop(vcpu, VcpuState.Off);
        }

        ReleaseNotifications(vm);
        var endpoint = Endpoints[id];
        if (endpoint.Mailbox.IsMapped)
        {
            ForwardRxTxUnmap(endpoint);
            endpoint.Mailbox.Unmap();
        }

        Endpoints.Remove(id);
        Partitions.Remove(vm);
        var idle = _announcements.Count == 0;
        foreach (var sp in Subscribers(PartitionProperties.InformedOfVmDestruction))
        {
            _announcements.Enqueue((id, sp, false));
        }

        if (idle && _announcements.Count > 0)
        {
            Scheduler.Ready(_self, default, Scheduler.Pcpus[0]);
        }

        return true;
    }

    private IEnumerable<EndpointId> Subscribers(PartitionProperties subscription) =>
        _secure.Where(s => (s.Properties & subscription) != 0).Select(static s => s.Id).Distinct();

    public void ReturnFromSecure(Vcpu vcpu, Pcpu pcpu, in RegisterFrame frame) => Scheduler.SwitchTo(pcpu, vcpu, frame);

    /// <summary>
    /// RX_ACQUIRE is the hypervisor's own call to the SPMC, never a VM's; with no secure world there is no SPMC for
    /// SPM_ID_GET to name, so FEATURES says so too.
    /// </summary>
    protected override bool Offers(FfaFunction function, bool is64, in FfaCaller caller) =>
        function != FfaFunction.RxAcquire && (function != FfaFunction.SpmIdGet || _spmc is not null) && OffersNotification(function, caller);

    protected override CallOutcome UnknownFunction(in FfaCaller caller, ref RegisterFrame frame) =>
        Gunyah is { } gunyah && gunyah.Handles(caller.Vcpu, frame) ? gunyah.Call(caller.Vcpu, ref frame) : base.UnknownFunction(caller, ref frame);

    protected override CallOutcome HandleOwnVcpuCall(FfaVcpu self, ref RegisterFrame frame) =>
        self.Vcpu.Immediate != 0 && Gunyah is { } gunyah ? gunyah.Call(self.Vcpu, ref frame) : base.HandleOwnVcpuCall(self, ref frame);

    protected override IEnumerable<PartitionInfo> DiscoverablePartitions(in FfaCaller caller) =>
        Partitions.SelectMany(static p => PartitionInfos.For(p.Config)).Concat(_secure);

    protected override CallOutcome ForwardDirectRequest(in FfaCaller caller, ref RegisterFrame frame) =>
        ToSecure(caller, ref frame, new EndpointId(Halves.Low(frame.W(1))));

    protected override CallOutcome ForwardRun(in FfaCaller caller, ref RegisterFrame frame) =>
        ToSecure(caller, ref frame, new EndpointId(Halves.High(frame.W(1))));

    protected override CallOutcome ForwardMsgSend2(in FfaCaller caller, ref RegisterFrame frame, EndpointId receiver)
    {
        if (_spmc is null || !receiver.IsSecure)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        frame[1] = Halves.Pack(caller.Id.Value, 0);
        return _spmc.CallFromNormalWorld(caller.Vcpu, ref frame);
    }

    protected override FfaError? ForwardRxTxMap(FfaEndpoint endpoint, ulong tx, ulong rx, uint pages)
    {
        if (_spmc is null || endpoint.Partition is not { } vm)
        {
            return null;
        }

        if (!Contiguous(vm.Memory, tx, pages, out var txPa) || !Contiguous(vm.Memory, rx, pages, out var rxPa))
        {
            return FfaError.NotSupported;
        }

        var descriptor = new byte[EndpointRxTxDescriptor.RequiredLength(1, 1)];
        EndpointRxTxDescriptor.TryWrite(descriptor, vm.Id, [new MemoryRegionConstituent(rxPa, pages)], [new MemoryRegionConstituent(txPa, pages)], out _);
        _ownMemory.TryWrite(_txBuffer, descriptor, out _);
        var map = default(RegisterFrame);
        new RxTxMap(true, 0, 0, 0).Encode(ref map);
        return ErrorOf(Call(map));
    }

    protected override FfaError? ForwardRxTxUnmap(FfaEndpoint endpoint)
    {
        if (_spmc is null || endpoint.Partition is not { } vm)
        {
            return null;
        }

        var unmap = default(RegisterFrame);
        new RxTxUnmap(vm.Id).Encode(ref unmap);
        return ErrorOf(Call(unmap));
    }

    protected override void ForwardRxRelease(FfaEndpoint endpoint)
    {
        if (_spmc is not null && endpoint.Partition is { } vm)
        {
            ReleaseAtSpmc(vm.Id);
        }
    }

    protected override bool ReleaseElsewhere(FfaEndpoint endpoint) =>
        _spmc is not null && endpoint.Partition is { } vm && ReleaseAtSpmc(vm.Id);

    protected override bool AcquireForWrite(FfaEndpoint endpoint)
    {
        if (_spmc is null || endpoint.Partition is not { } vm)
        {
            return true;
        }

        var acquire = default(RegisterFrame);
        new RxAcquire(vm.Id).Encode(ref acquire);
        return ErrorOf(Call(acquire)) is null;
    }

    private bool ReleaseAtSpmc(EndpointId vm)
    {
        var release = default(RegisterFrame);
        new RxRelease(vm).Encode(ref release);
        return ErrorOf(Call(release)) is null;
    }

    /// <summary>Passes a VM's call on to the SPMC when it is for an SP; an unknown normal-world endpoint is INVALID_PARAMETERS.</summary>
    private CallOutcome ToSecure(in FfaCaller caller, ref RegisterFrame frame, EndpointId target) =>
        _spmc is null || !target.IsSecure ? Fail(ref frame, FfaError.InvalidParameters) : _spmc.CallFromNormalWorld(caller.Vcpu, ref frame);

    /// <summary>A call the hypervisor itself makes to the SPMC that completes at once (setup, buffer bookkeeping).</summary>
    private RegisterFrame Call(RegisterFrame frame)
    {
        Scheduler.OnCall(_self, frame);
        _spmc!.CallFromNormalWorld(_self, ref frame);
        Scheduler.OnReturn(_self, frame);
        return frame;
    }

    private void LearnSecurePartitions()
    {
        var info = default(RegisterFrame);
        new PartitionInfoGet(Uuid.Nil, PartitionInfoGetFlags.None).Encode(ref info);
        var answer = Call(info);
        ExpectSuccess(answer, "FFA_PARTITION_INFO_GET");
        var bytes = new byte[PhysicalMemory.PageSize];
        _ownMemory.TryRead(_rxBuffer, bytes, out _);
        if (PartitionInfoDescriptors.TryRead(bytes, answer.W(2), answer.W(3), out var list, out var fault))
        {
            foreach (var entry in list)
            {
                _secure.Add(entry);
            }
        }
        else
        {
            throw new InvalidOperationException($"the SPMC's partition information did not decode: {fault}");
        }

        ExpectSuccess(Call(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.RxRelease))), "FFA_RX_RELEASE");
    }

    private void StartVms()
    {
        _booted = true;
        foreach (var vm in Partitions)
        {
            foreach (var vcpu in vm.Vcpus)
            {
                Scheduler.Ready(vcpu, default, Scheduler.HomeOf(vcpu));
            }
        }
    }

    /// <summary>Sends the next VM-created message, or starts the VMs when all are answered.</summary>
    private void Announce(Vcpu self, bool resumed)
    {
        if (resumed)
        {
            Scheduler.OnReturn(self, self.Result);
        }

        if (!_announcements.TryDequeue(out var next))
        {
            Scheduler.Stop(self, VcpuState.Off);
            if (!_booted)
            {
                StartVms();
            }

            return;
        }

        // w3/w4: the VM's handle (here its ID; a hypervisor may use any 64-bit handle), w5[15:0]: the VM ID.
        var kind = next.Created ? DirectMessageKind.VmCreated : DirectMessageKind.VmDestroyed;
        var message = default(RegisterFrame);
        new MsgSendDirectReq(false, new SenderReceiver(EndpointId.Hypervisor, next.Sp), kind, new DirectMessagePayload(next.Vm.Value, 0, next.Vm.Value, 0, 0))
            .Encode(ref message);
        Scheduler.OnCall(self, message);
        if (_spmc!.CallFromNormalWorld(self, ref message) == CallOutcome.Completed)
        {
            // Refused at once (the SP is busy or gone): nothing to wait for; go on with the next.
            Scheduler.OnReturn(self, message);
            Announce(self, resumed: false);
        }
    }

    private static bool Contiguous(AddressSpace space, ulong ipa, uint pages, out ulong pa)
    {
        pa = 0;
        for (uint i = 0; i < pages; i++)
        {
            if (!space.Stage2.TryTranslate(ipa + ((ulong)i * PhysicalMemory.PageSize), Stage2Access.Read, out var page, out _))
            {
                return false;
            }

            if (i == 0)
            {
                pa = page;
            }
            else if (page != pa + ((ulong)i * PhysicalMemory.PageSize))
            {
                return false;
            }
        }

        return true;
    }

    private static FfaError? ErrorOf(in RegisterFrame answer) =>
        answer.W(0) == FfaFunctions.Id32(FfaFunction.Error) ? (FfaError)(int)answer.W(2) : null;

    private static void ExpectSuccess(in RegisterFrame answer, string what)
    {
        if (ErrorOf(answer) is { } error)
        {
            throw new InvalidOperationException($"hypervisor boot: {what} failed at the SPMC with {error.Name()}");
        }
    }

    private static void Expect(in RegisterFrame answer, uint w0, string what)
    {
        if (answer.W(0) != w0)
        {
            throw new InvalidOperationException($"hypervisor boot: {what} answered 0x{answer.W(0):X8}");
        }
    }

    /// <summary>The hypervisor's own vCPU when it has switching work to do (VM-created messages): one step per answer.</summary>
    private sealed class Announcer(Hypervisor hypervisor) : IVcpuBackend
    {
        private bool _started;

        public void Resume(Vcpu vcpu)
        {
            hypervisor.Announce(vcpu, _started);
            _started = true;
        }
    }
}
