using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Machine;

namespace Firmament.Ffa;

// The hypervisor's side of notifications, as Xen's mediator does it with the VM-to-VM fix applied, and Hafnium's
// primary-scheduler model for SPs:
// - Every VM has a bitmap at the SPMC (created at boot, destroyed with the VM) for notifications from SPs; BIND, UNBIND
//   and SET with an SP peer go to the SPMC; GET collects the SP and SPM bitmaps there and the VM and hypervisor ones
//   here.
// - VM-to-VM notifications are bound and delivered here: every requested ID must be bound to the sender; the pending
//   bits are updated and the NPI decision taken in one step (nothing can run in between: the model has no lock
//   window); the NPI is raised only on the transition from nothing pending to something pending, and re-armed when
//   GET has drained everything; with no vCPU of the receiver online the bits stay pending and the interrupt is not
//   marked raised — the next vCPU to come online gets it.
// - The physical SRI is handled here: INFO_GET at the SPMC until nothing more is pending; each VM listed gets an NPI
//   (by the same rule), each SP listed is queued for the primary scheduler VM (the lowest VM ID), which is told with
//   a virtual SRI and asks with INFO_GET. Under Xen's personality guests instead get a synthesized INFO_GET answer
//   (themselves, or NO_DATA) and an SRI ID that is never raised.
public sealed partial class Hypervisor
{
    private readonly Dictionary<(EndpointId Vm, EndpointId Sp), ulong> _spBindings = [];
    private readonly List<NotificationInfoList> _spWork = [];
    private bool _spmcNotifications;
    private bool _draining;

    /// <summary>Whether the SPMC serves notifications (learned at boot with FEATURES).</summary>
    public bool SpmcNotifications => _spmcNotifications;

    /// <summary>The VM that schedules SPs for notifications: the primary VM, the lowest VM ID.</summary>
    public Partition? SchedulerVm => Partitions.Count == 0 ? null : Partitions.MinBy(static p => p.Id.Value);

    /// <summary>SPs the SRI handler found needing cycles, not yet listed to the scheduler VM.</summary>
    public IReadOnlyList<NotificationInfoList> PendingSpWork => _spWork;

    /// <summary>
    /// Takes a VM's vCPU offline or brings it online (PSCI CPU_OFF / CPU_ON, or an injected fault). A vCPU coming online
    /// gets the NPI if its VM has notifications pending and no interrupt raised for them.
    /// </summary>
    public bool SetVcpuOnline(VcpuId id, bool online)
    {
        if (LocalPartition(id.Endpoint) is not { } vm || id.Index >= vm.Vcpus.Count)
        {
            return false;
        }

        var vcpu = vm.Vcpus[id.Index];
        Scheduler.SetOnline(vcpu, online);
        if (online && NotificationsOf(vm.Id) is { } receiver && AnythingPending(receiver))
        {
            SignalVm(vm, receiver, null);
        }

        return true;
    }

    /// <summary>Every VM can receive notifications from other VMs.</summary>
    protected override bool ReceivesNotifications(PartitionConfig config) => true;

    protected override bool KeepsBinding(EndpointId sender, EndpointId receiver) => !sender.IsSecure && !receiver.IsSecure;

    /// <summary>Notifications are available when the hypervisor delivers VM-to-VM ones or the SPMC has them.</summary>
    private bool NotificationsAvailable => Personality.NotificationsBetweenVms || _spmcNotifications;

    private bool OffersNotification(FfaFunction function, in FfaCaller caller) => function switch
    {
        // Physical-instance ABIs: the hypervisor calls them at the SPMC; its guests never do.
        FfaFunction.NotificationBitmapCreate or FfaFunction.NotificationBitmapDestroy => false,
        FfaFunction.NotificationInfoGet => NotificationsAvailable
            && (Personality.GuestInfoGetIsSynthesized || (_spmcNotifications && caller.Id == SchedulerVm?.Id)),
        FfaFunction.NotificationBind or FfaFunction.NotificationUnbind or FfaFunction.NotificationSet or FfaFunction.NotificationGet => NotificationsAvailable,
        _ => true,
    };

    protected override uint? FeatureInterruptId(FfaFeature feature, in FfaCaller caller) => feature switch
    {
        FfaFeature.NotificationPendingInterrupt when Serves(FfaFunction.NotificationGet, false, caller) => Personality.NotificationPendingInterrupt,
        FfaFeature.ScheduleReceiverInterrupt when Serves(FfaFunction.NotificationInfoGet, true, caller) => Personality.ScheduleReceiverInterrupt,
        _ => null,
    };

    protected override CallOutcome ForwardNotificationCall(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (_spmc is null)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!_spmcNotifications)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        var function = frame.W(0);
        var ids = SenderReceiver.Unpack(frame.W(1));
        var bits = NotificationBitmap.FromHalves(frame.W(3), frame.W(4)).Bits;
        var outcome = _spmc.CallFromNormalWorld(caller.Vcpu, ref frame);
        if (ErrorOf(frame) is null)
        {
            // Remember what each VM bound at the SPMC: tearing the VM down unbinds it before destroying its bitmap.
            var key = (ids.Receiver, ids.Sender);
            if (function == FfaFunctions.Id32(FfaFunction.NotificationBind))
            {
                _spBindings[key] = _spBindings.GetValueOrDefault(key) | bits;
            }
            else if (function == FfaFunctions.Id32(FfaFunction.NotificationUnbind))
            {
                _spBindings[key] = _spBindings.GetValueOrDefault(key) & ~bits;
            }
        }

        return outcome;
    }

    /// <summary>GET for a VM: the SP and SPM bitmaps from the SPMC, then the VM and hypervisor ones here.</summary>
    protected override CallOutcome GetNotifications(in FfaCaller caller, ref RegisterFrame frame, NotificationGet call)
    {
        const NotificationGetFlags atSpmc = NotificationGetFlags.SpBitmap | NotificationGetFlags.SpmFrameworkBitmap;
        var receiver = NotificationsOf(call.Receiver);
        NotificationBitmap fromSps = default;
        FrameworkNotifications fromSpmc = default;
        if ((call.Flags & atSpmc) != 0 && _spmc is not null && _spmcNotifications)
        {
            var get = default(RegisterFrame);
            new NotificationGet(call.Vcpu, call.Receiver, call.Flags & atSpmc).Encode(ref get);
            var answer = Call(get);
            if (ErrorOf(answer) is { } error)
            {
                return Fail(ref frame, error);
            }

            NotificationGetSuccess.TryDecode(answer, out var remote, out _);
            fromSps = remote.SpBitmap;
            fromSpmc = remote.SpmFramework;
            if (receiver is not null && (call.Flags & atSpmc) == atSpmc)
            {
                receiver.RemotePending = false;
            }
        }

        if (!TryTakeLocal(call with { Flags = call.Flags & ~atSpmc }, out var local, out var localError))
        {
            return Fail(ref frame, localError);
        }

        (local with { SpBitmap = fromSps, SpmFramework = fromSpmc }).Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>INFO_GET from a guest: the SPs queued for the scheduler VM, or (Xen) a list of the guest itself.</summary>
    protected override CallOutcome InfoGet(in FfaCaller caller, ref RegisterFrame frame, bool is64)
    {
        var writer = new NotificationInfoListWriter(is64);
        var more = false;
        if (Personality.GuestInfoGetIsSynthesized)
        {
            if (NotificationsOf(caller.Id) is { } own && AnythingPending(own))
            {
                writer.TryAdd(caller.Id, default);
            }
        }
        else
        {
            var listed = 0;
            while (listed < _spWork.Count && writer.TryAdd(_spWork[listed].Endpoint, _spWork[listed].Vcpus))
            {
                listed++;
            }

            more = listed < _spWork.Count;
            _spWork.RemoveRange(0, listed);
        }

        if (writer.Count == 0)
        {
            return Fail(ref frame, FfaError.NoData);
        }

        writer.ToSuccess(more).Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>
    /// The planted race (<see cref="Personality.NotificationRollbackWindow"/>): the NPI is marked raised and the caller
    /// parked; the injection is tried later by a hypervisor worker on the caller's pCPU, so other pCPUs run in between
    /// — the window in which the lock is not held. Finding no vCPU online, the worker rolls back the IDs this SET added
    /// (whatever happened to them meanwhile) and answers BUSY.
    /// </summary>
    protected override bool DefersDelivery(in FfaCaller caller, NotificationReceiver receiver, int? vcpu, ulong fresh)
    {
        if (!Personality.NotificationRollbackWindow || vcpu is not null || fresh == 0 || receiver.InterruptRaised
            || LocalPartition(receiver.Id) is null)
        {
            return false;
        }

        receiver.InterruptRaised = true;
        DeliverAfterWindow(caller, receiver, fresh);
        return true;
    }

    /// <summary>The planted window's second half (a method of its own, so the common path allocates no closure).</summary>
    private void DeliverAfterWindow(in FfaCaller caller, NotificationReceiver receiver, ulong fresh)
    {
        var vm = LocalPartition(receiver.Id)!;
        FinishLater(caller, () =>
        {
            var answer = default(RegisterFrame);
            if (InjectNpi(vm, null))
            {
                Succeed(ref answer);
            }
            else
            {
                receiver.RollBack(SenderClass.Vm, fresh);
                receiver.InterruptRaised = false;
                Fail(ref answer, FfaError.Busy);
            }

            return answer;
        });
    }

    /// <summary>A VM-to-VM SET (or an RX-full bit from a VM's message) made something pending for a VM.</summary>
    protected override void NotificationsPending(in FfaCaller caller, NotificationReceiver receiver, int? vcpu, bool delaySri)
    {
        if (LocalPartition(receiver.Id) is not { } vm)
        {
            return;
        }

        SignalVm(vm, receiver, vcpu);
    }

    /// <summary>
    /// The NPI rule, for every source of pending notifications: a per-vCPU one goes to its vCPU (and stays pending there
    /// if that vCPU is offline); a global one raises the NPI only if it is not raised already, and marks it raised only
    /// when it was injected.
    /// </summary>
    private void SignalVm(Partition vm, NotificationReceiver receiver, int? vcpu)
    {
        if (vcpu is { } index)
        {
            InjectNpi(vm, index);
        }
        else if (!receiver.InterruptRaised)
        {
            receiver.InterruptRaised = InjectNpi(vm, null);
        }
    }

    /// <summary>The physical SRI: drain INFO_GET at the SPMC, NPIs for the VMs it lists, SPs queued for the scheduler VM.</summary>
    public void ScheduleReceiverInterrupt(Pcpu pcpu)
    {
        ArgumentNullException.ThrowIfNull(pcpu);
        if (_spmc is null || _draining)
        {
            return;
        }

        if (Scheduler.Trace.Enabled)
        {
            Scheduler.Trace.Record(pcpu.Time, pcpu.Index, _self.Id, TraceKind.Interrupt, value: _spmc.Personality.ScheduleReceiverInterrupt);
        }

        _draining = true;
        var queued = _spWork.Count;
        try
        {
            var more = true;
            while (more)
            {
                var info = default(RegisterFrame);
                new NotificationInfoGet(true).Encode(ref info);
                var answer = Call(info);
                if (!NotificationInfoGetSuccess.TryDecode(answer, out var lists, out _))
                {
                    break; // NO_DATA: nothing (more) pending
                }

                more = lists.MorePending;
                foreach (var list in lists.Lists)
                {
                    Dispatch(list);
                }
            }
        }
        finally
        {
            _draining = false;
        }

        if (_spWork.Count > queued && !Personality.GuestInfoGetIsSynthesized && SchedulerVm is { } scheduler)
        {
            // The scheduler VM is told with a virtual SRI on its first online vCPU.
            if (FirstOnline(scheduler) is { } target)
            {
                InjectInterrupt(target, (int)Personality.ScheduleReceiverInterrupt);
            }
        }
    }

    private void Dispatch(NotificationInfoList list)
    {
        if (LocalPartition(list.Endpoint) is { } vm && NotificationsOf(vm.Id) is { } receiver)
        {
            receiver.RemotePending = true;
            if (list.IsGlobal)
            {
                SignalVm(vm, receiver, null);
            }

            foreach (var index in list.Vcpus)
            {
                SignalVm(vm, receiver, index);
            }
        }
        else if (list.Endpoint.IsSecure && !_spWork.Contains(list))
        {
            _spWork.Add(list);
        }
    }

    /// <summary>
    /// Makes the NPI pending on a VM's vCPU — the one named, or its first online vCPU — and wakes it if it idles in
    /// MSG_WAIT. False when that vCPU is offline (or the VM has none online): nothing is injected.
    /// </summary>
    private bool InjectNpi(Partition vm, int? index)
    {
        var target = index is { } i ? (i < vm.Vcpus.Count && IsOnline(vm.Vcpus[i]) ? vm.Vcpus[i] : null) : FirstOnline(vm);
        if (target is null)
        {
            if (Scheduler.Trace.Enabled)
            {
                Scheduler.Trace.Record(Scheduler.Here, -1, vm.Vcpus.Count > 0 ? vm.Vcpus[0].Id : default, TraceKind.Log, text: $"{vm.Name}: NPI not injected, no vCPU online");
            }

            return false;
        }

        return InjectInterrupt(target, (int)Personality.NotificationPendingInterrupt);
    }

    private bool InjectInterrupt(Vcpu target, int intid)
    {
        Scheduler.RaiseInterrupt(target, intid);

        var record = (FfaVcpu)target.Owner!;
        if (target.State == VcpuState.Waiting && record.Occupation == Occupation.None && target.Interrupts.HasDeliverable)
        {
            // Idle in MSG_WAIT: woken with FFA_INTERRUPT, as a waiting vCPU given cycles is.
            Scheduler.Ready(target, WakeFrame(record, default), Scheduler.HomeOf(target));
        }

        return true;
    }

    private static bool IsOnline(Vcpu vcpu) => vcpu.Online && vcpu.State is not (VcpuState.Off or VcpuState.Aborted);

    private static Vcpu? FirstOnline(Partition vm) => vm.Vcpus.Find(IsOnline);

    /// <summary>At boot: learn whether the SPMC has notifications, and create every VM's bitmap there if so.</summary>
    private void CreateNotificationBitmaps()
    {
        var features = default(RegisterFrame);
        new Features(FeatureQuery.Of(FfaFunction.NotificationBitmapCreate), 0).Encode(ref features);
        _spmcNotifications = ErrorOf(Call(features)) is null;
        if (!_spmcNotifications)
        {
            return;
        }

        foreach (var vm in Partitions)
        {
            var create = default(RegisterFrame);
            new NotificationBitmapCreate(vm.Id, (uint)vm.Config.VcpuCount).Encode(ref create);
            ExpectSuccess(Call(create), "FFA_NOTIFICATION_BITMAP_CREATE");
        }
    }

    /// <summary>
    /// Tears down a VM's notifications at the SPMC: collects what is pending, unbinds what it bound, destroys its
    /// bitmap (in that order, or the SPMC refuses the destroy).
    /// </summary>
    private void ReleaseNotifications(Partition vm)
    {
        _spWork.RemoveAll(w => w.Endpoint == vm.Id);
        if (_spmc is null || !_spmcNotifications)
        {
            return;
        }

        for (var v = 0; v < vm.Config.VcpuCount; v++)
        {
            var get = default(RegisterFrame);
            new NotificationGet((ushort)v, vm.Id, NotificationGetFlags.SpBitmap | NotificationGetFlags.SpmFrameworkBitmap).Encode(ref get);
            Call(get);
        }

        foreach (var ((owner, sp), bits) in _spBindings.Where(b => b.Key.Vm == vm.Id && b.Value != 0).ToList())
        {
            var unbind = default(RegisterFrame);
            new NotificationUnbind(new SenderReceiver(sp, owner), new NotificationBitmap(bits)).Encode(ref unbind);
            Call(unbind);
            _spBindings.Remove((owner, sp));
        }

        var destroy = default(RegisterFrame);
        new NotificationBitmapDestroy(vm.Id).Encode(ref destroy);
        Call(destroy);
        if (NotificationsOf(vm.Id) is { } receiver)
        {
            RemoveReceiver(receiver);
        }
    }
}
