using System.Runtime.InteropServices;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Machine;

namespace Firmament.Ffa;

// Notifications (v1.1): BITMAP_CREATE/DESTROY, BIND, UNBIND, SET, GET, INFO_GET.
// A receiver's state lives with the manager that owns the receiver's bindings for that sender class: SPs' (from SPs
// and from VMs) and VMs' from SPs at the SPMC, VMs' from VMs at the hypervisor. What is common lives here; the roles
// say who may call what (Offers), forward what is not theirs, and how a pending notification is signalled (SRI to the
// normal-world scheduler, NPI into a receiver's vCPU).
// Checks, in order, each with its error (Hafnium's where the spec leaves it open; each pinned by a scenario):
// - malformed call (MBZ bits, a vCPU ID without the per-vCPU flag): INVALID_PARAMETERS;
// - empty bitmap, sender = receiver, a caller naming another receiver (BIND/UNBIND/GET) or another sender (SET: no
//   spoofing), the normal world's physical instance naming anything but a VM receiver and an SP sender (BIND) or a VM
//   sender and an SP receiver (SET), the delay-SRI flag from the normal world: INVALID_PARAMETERS;
// - per-vCPU where the personality has none: its error (INVALID_PARAMETERS in Hafnium ≥ 2.14, DENIED in OP-TEE, Xen);
// - a VM peer where the personality has no VM-to-VM notifications (Xen's default): NOT_SUPPORTED;
// - a receiver without notifications (an SP without `notification-support`, a VM without a bitmap): NOT_SUPPORTED for
//   BIND/UNBIND, DENIED for SET; an unknown receiver: INVALID_PARAMETERS;
// - BIND of an ID already bound (to anyone), UNBIND or SET of an ID not bound to that sender, BIND/UNBIND of a pending
//   ID: DENIED; SET with per-vCPU flags that differ from the binding's, or a vCPU the receiver does not have:
//   INVALID_PARAMETERS.
// GET returns the requested bitmaps and clears what it returns; INFO_GET lists each pending notification once.
public abstract partial class PartitionManager
{
    private readonly Dictionary<EndpointId, NotificationReceiver> _receivers = [];
    private readonly List<NotificationReceiver> _receiverOrder = [];

    /// <summary>The receivers whose notification state this manager keeps, in ID order (normal world first).</summary>
    public IReadOnlyList<NotificationReceiver> NotificationReceivers => _receiverOrder;

    /// <summary>This manager's notification state for a receiver, if it keeps one.</summary>
    public NotificationReceiver? NotificationsOf(EndpointId receiver) => _receivers.GetValueOrDefault(receiver);

    /// <summary>Whether this manager delivers notifications of <paramref name="sender"/> to <paramref name="receiver"/> itself (false: another manager does).</summary>
    protected virtual bool KeepsBinding(EndpointId sender, EndpointId receiver) => true;

    /// <summary>A BIND, UNBIND, SET or GET that is another manager's: the hypervisor passes it to the SPMC.</summary>
    protected virtual CallOutcome ForwardNotificationCall(in FfaCaller caller, ref RegisterFrame frame) => Fail(ref frame, FfaError.InvalidParameters);

    /// <summary>
    /// IDs became pending for <paramref name="receiver"/> (globally, or for one vCPU) because of a call by
    /// <paramref name="caller"/>: the role signals it (SRI, NPI). <paramref name="delaySri"/>: an SP asked for the SRI to
    /// wait until the normal world runs again.
    /// </summary>
    protected virtual void NotificationsPending(in FfaCaller caller, NotificationReceiver receiver, int? vcpu, bool delaySri)
    {
    }

    /// <summary>Sees every commit to and take from this manager's pending bitmaps (schedule exploration's ledger).</summary>
    public INotificationObserver? NotificationObserver { get; set; }

    /// <summary>
    /// Whether the role finishes this SET later (the caller stays blocked until then): only the planted
    /// <see cref="Personality.NotificationRollbackWindow"/> does.
    /// </summary>
    protected virtual bool DefersDelivery(in FfaCaller caller, NotificationReceiver receiver, int? vcpu, ulong fresh) => false;

    /// <summary>Whether a sender this manager is asked to bind exists (SPs must; the SPMC cannot know every VM).</summary>
    protected virtual bool SenderExists(EndpointId sender) => Endpoints.ContainsKey(sender);

    /// <summary>Creates the notification state for a receiver (a VM's bitmap, or an SP with notification support).</summary>
    protected NotificationReceiver AddReceiver(EndpointId id, int vcpuCount)
    {
        var receiver = new NotificationReceiver(id, vcpuCount);
        _receivers.Add(id, receiver);
        var at = _receiverOrder.FindIndex(r => r.Id.Value > id.Value);
        _receiverOrder.Insert(at < 0 ? _receiverOrder.Count : at, receiver);
        return receiver;
    }

    protected void RemoveReceiver(NotificationReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        _receivers.Remove(receiver.Id);
        _receiverOrder.Remove(receiver);
    }

    /// <summary>Framework notifications (RX buffer full) pending for an endpoint: they count as global notifications.</summary>
    protected static uint FrameworkPending(FfaEndpoint? endpoint) =>
        endpoint is null ? 0 : endpoint.SpmFrameworkPending | endpoint.HypervisorFrameworkPending;

    /// <summary>Whether anything at all is pending for the receiver here: bound IDs of either class, or framework bits.</summary>
    protected bool AnythingPending(NotificationReceiver receiver) =>
        receiver.RemotePending || receiver.AnyPending() || FrameworkPending(Endpoints.GetValueOrDefault(receiver.Id)) != 0;

    private void RegisterNotifications()
    {
        Register(FfaFunction.NotificationBitmapCreate, HandleBitmapCreate);
        Register(FfaFunction.NotificationBitmapDestroy, HandleBitmapDestroy);
        Register(FfaFunction.NotificationBind, HandleBind);
        Register(FfaFunction.NotificationUnbind, HandleUnbind);
        Register(FfaFunction.NotificationSet, HandleNotificationSet);
        Register(FfaFunction.NotificationGet, HandleNotificationGet);
        Register(FfaFunction.NotificationInfoGet, HandleNotificationInfoGet);
    }

    /// <summary>The most vCPUs a bitmap may be created for (vCPU IDs are 16-bit; more than this is a bad count here).</summary>
    public const uint MaxBitmapVcpus = 256;

    private CallOutcome HandleBitmapCreate(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!NotificationBitmapCreate.TryDecode(frame, out var call, out _) || call.VmId.IsSecure || call.VcpuCount > MaxBitmapVcpus)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (_receivers.ContainsKey(call.VmId))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        AddReceiver(call.VmId, (int)call.VcpuCount);
        return Succeed(ref frame);
    }

    private CallOutcome HandleBitmapDestroy(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!NotificationBitmapDestroy.TryDecode(frame, out var call, out _) || call.VmId.IsSecure)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        // Not created, still bound, or something pending: DENIED (Xen's teardown relies on the first).
        if (!_receivers.TryGetValue(call.VmId, out var receiver) || receiver.AnyBound || AnythingPending(receiver))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        RemoveReceiver(receiver);
        return Succeed(ref frame);
    }

    private CallOutcome HandleBind(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!NotificationBind.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var perVcpu = (call.Flags & NotificationBindFlags.PerVcpu) != 0;
        return UpdateBindings(caller, ref frame, call.Endpoints, call.Bitmap.Bits, bind: true, perVcpu);
    }

    private CallOutcome HandleUnbind(in FfaCaller caller, ref RegisterFrame frame) =>
        NotificationUnbind.TryDecode(frame, out var call, out _)
            ? UpdateBindings(caller, ref frame, call.Endpoints, call.Bitmap.Bits, bind: false, perVcpu: false)
            : Fail(ref frame, FfaError.InvalidParameters);

    private CallOutcome UpdateBindings(in FfaCaller caller, ref RegisterFrame frame, SenderReceiver ids, ulong bits, bool bind, bool perVcpu)
    {
        var (sender, receiver) = (ids.Sender, ids.Receiver);
        if (bits == 0
            || sender == receiver
            || (!caller.FromOtherWorld && receiver != caller.Id)
            || (caller.FromOtherWorld && (receiver.IsSecure || !sender.IsSecure)))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (PeerChecks(perVcpu, sender, receiver, out var forward) is { } refused)
        {
            return Fail(ref frame, refused);
        }

        if (forward)
        {
            return ForwardNotificationCall(caller, ref frame);
        }

        if (!_receivers.TryGetValue(receiver, out var state))
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        if (bind && !SenderExists(sender))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var cls = NotificationReceiver.ClassOf(sender);
        if ((bind ? !state.AllUnbound(cls, bits) : !state.AllBoundTo(cls, bits, sender)) || state.AnyPending(cls, bits))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (bind)
        {
            state.Bind(cls, bits, sender, perVcpu);
        }
        else
        {
            state.Unbind(cls, bits);
        }

        return Succeed(ref frame);
    }

    /// <summary>
    /// What BIND, UNBIND and SET check alike after their own argument checks: per-vCPU where the personality has none
    /// (its error); two VMs where it has no VM-to-VM notifications (NOT_SUPPORTED). <paramref name="forward"/>: the
    /// binding is another manager's.
    /// </summary>
    private FfaError? PeerChecks(bool perVcpu, EndpointId sender, EndpointId receiver, out bool forward)
    {
        forward = false;
        if (perVcpu && Personality.PerVcpuNotifications is { } perVcpuError)
        {
            return perVcpuError;
        }

        if (!sender.IsSecure && !receiver.IsSecure && !Personality.NotificationsBetweenVms)
        {
            return FfaError.NotSupported;
        }

        forward = !KeepsBinding(sender, receiver);
        return null;
    }

    private CallOutcome HandleNotificationSet(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!NotificationSet.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var (sender, receiver) = (call.Endpoints.Sender, call.Endpoints.Receiver);
        var bits = call.Bitmap.Bits;
        var perVcpu = (call.Flags & NotificationSetFlags.PerVcpu) != 0;
        var delaySri = (call.Flags & NotificationSetFlags.DelaySri) != 0;
        if (bits == 0
            || sender == receiver
            || (!caller.FromOtherWorld && sender != caller.Id)
            || (caller.FromOtherWorld && (sender.IsSecure || !receiver.IsSecure))
            || (delaySri && !caller.Id.IsSecure))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (PeerChecks(perVcpu, sender, receiver, out var forward) is { } refused)
        {
            return Fail(ref frame, refused);
        }

        if (forward)
        {
            return ForwardNotificationCall(caller, ref frame);
        }

        if (!_receivers.TryGetValue(receiver, out var state))
        {
            return Fail(ref frame, Endpoints.ContainsKey(receiver) ? FfaError.Denied : FfaError.InvalidParameters);
        }

        if (perVcpu && call.Vcpu >= state.VcpuCount)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var cls = NotificationReceiver.ClassOf(sender);
        if (!state.AllBoundTo(cls, bits, sender))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (!state.AllBoundPerVcpu(cls, bits, perVcpu))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        int? vcpu = perVcpu ? call.Vcpu : null;
        var fresh = state.Raise(cls, bits, vcpu);
        NotificationObserver?.Raised(this, receiver, cls, bits);
        if (DefersDelivery(caller, state, vcpu, fresh))
        {
            return CallOutcome.Blocked;
        }

        Succeed(ref frame);
        NotificationsPending(caller, state, vcpu, delaySri);
        return CallOutcome.Completed;
    }

    private CallOutcome HandleNotificationGet(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!NotificationGet.TryDecode(frame, out var call, out _)
            || (!caller.FromOtherWorld && (call.Receiver != caller.Id || call.Vcpu != caller.Vcpu.Id.Index)))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        return GetNotifications(caller, ref frame, call);
    }

    /// <summary>GET for a receiver this manager serves: the hypervisor overrides it to add the SPMC's bitmaps for a VM.</summary>
    protected virtual CallOutcome GetNotifications(in FfaCaller caller, ref RegisterFrame frame, NotificationGet call)
    {
        // From the normal world's physical instance, the VM and hypervisor bitmaps are the hypervisor's business.
        const NotificationGetFlags hypervisorOwned = NotificationGetFlags.VmBitmap | NotificationGetFlags.HypervisorFrameworkBitmap;
        if (caller.FromOtherWorld && (call.Receiver.IsSecure || (call.Flags & hypervisorOwned) != 0))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!TryTakeLocal(call, out var taken, out var error))
        {
            return Fail(ref frame, error);
        }

        taken.Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>
    /// Takes what GET asks for from this manager's state (validated first: an unknown receiver, or a vCPU it does not
    /// have, is INVALID_PARAMETERS with nothing taken); re-arms the receiver's interrupt once nothing is left pending.
    /// </summary>
    protected bool TryTakeLocal(NotificationGet call, out NotificationGetSuccess taken, out FfaError error)
    {
        taken = default;
        var state = _receivers.GetValueOrDefault(call.Receiver);
        var endpoint = Endpoints.GetValueOrDefault(call.Receiver);
        if ((state is null && endpoint is null) || (state is not null && call.Vcpu >= Math.Max(state.VcpuCount, 1)))
        {
            error = FfaError.InvalidParameters;
            return false;
        }

        error = default;
        var flags = call.Flags;
        var sp = state is not null && (flags & NotificationGetFlags.SpBitmap) != 0 ? state.Take(SenderClass.Sp, call.Vcpu) : 0;
        var vm = state is not null && (flags & NotificationGetFlags.VmBitmap) != 0 ? state.Take(SenderClass.Vm, call.Vcpu) : 0;
        if (NotificationObserver is { } observer && (sp | vm) != 0)
        {
            observer.Taken(this, call.Receiver, SenderClass.Sp, sp);
            observer.Taken(this, call.Receiver, SenderClass.Vm, vm);
        }
        uint spm = 0, hyp = 0;
        if (endpoint is not null)
        {
            if ((flags & NotificationGetFlags.SpmFrameworkBitmap) != 0)
            {
                spm = endpoint.SpmFrameworkPending;
                endpoint.SpmFrameworkPending = 0;
            }

            if ((flags & NotificationGetFlags.HypervisorFrameworkBitmap) != 0)
            {
                hyp = endpoint.HypervisorFrameworkPending;
                endpoint.HypervisorFrameworkPending = 0;
            }
        }

        if (state is not null && !AnythingPending(state))
        {
            state.InterruptRaised = false;
        }

        taken = new NotificationGetSuccess(
            false,
            new NotificationBitmap(sp),
            new NotificationBitmap(vm),
            (FrameworkNotifications)spm,
            (FrameworkNotifications)hyp);
        return true;
    }

    private CallOutcome HandleNotificationInfoGet(in FfaCaller caller, ref RegisterFrame frame) =>
        NotificationInfoGet.TryDecode(frame, out var call, out _)
            ? InfoGet(caller, ref frame, call.Is64)
            : Fail(ref frame, FfaError.InvalidParameters);

    /// <summary>INFO_GET as this manager answers it; the SPMC lists its receivers, the hypervisor what it keeps for the scheduler.</summary>
    protected virtual CallOutcome InfoGet(in FfaCaller caller, ref RegisterFrame frame, bool is64)
    {
        var writer = new NotificationInfoListWriter(is64);
        var more = ListPending(ref writer);
        if (writer.Count == 0)
        {
            return Fail(ref frame, FfaError.NoData);
        }

        writer.ToSuccess(more).Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>
    /// Adds a list for every receiver with notifications INFO_GET has not listed yet — one for its global ones, one per
    /// up to three vCPUs with per-vCPU ones — in ID order, until the answer is full. Returns "more pending": something
    /// unlisted did not fit (it is listed next time). Only what was listed is marked listed.
    /// </summary>
    protected bool ListPending(ref NotificationInfoListWriter writer)
    {
        Span<ushort> vcpus = stackalloc ushort[NotificationInfoList.MaxVcpus];
        foreach (var receiver in CollectionsMarshal.AsSpan(_receiverOrder))
        {
            if (receiver.GlobalUnlisted)
            {
                if (!writer.TryAdd(receiver.Id, default))
                {
                    return true;
                }

                receiver.ListedGlobal();
            }

            if (!receiver.AnyVcpuUnlisted)
            {
                continue;
            }

            var n = 0;
            for (var v = 0; v <= receiver.VcpuCount; v++)
            {
                if (v < receiver.VcpuCount && receiver.VcpuUnlisted(v))
                {
                    vcpus[n++] = (ushort)v;
                    if (n < vcpus.Length)
                    {
                        continue;
                    }
                }

                if (n == 0)
                {
                    continue;
                }

                if (!writer.TryAdd(receiver.Id, vcpus[..n]))
                {
                    return true;
                }

                foreach (var listed in vcpus[..n])
                {
                    receiver.ListedVcpu(listed);
                }

                n = 0;
            }
        }

        return false;
    }

    /// <summary>
    /// An RX-buffer-full framework notification became pending for <paramref name="endpoint"/> (an indirect message
    /// landed): listed by INFO_GET and signalled like any other.
    /// </summary>
    private void FrameworkNotificationPending(in FfaCaller caller, FfaEndpoint endpoint, bool delaySri)
    {
        if (_receivers.GetValueOrDefault(endpoint.Id) is { } state)
        {
            state.FrameworkUnlisted = true;
            NotificationsPending(caller, state, null, delaySri);
        }
    }

    /// <summary>Whether an RX-buffer-full notification is still pending for the endpoint: RX_RELEASE waits for its GET (Hafnium).</summary>
    private bool RxFullPending(in FfaCaller caller, FfaEndpoint endpoint) =>
        (FrameworkPending(endpoint) & RxBufferFull) != 0 && Serves(FfaFunction.NotificationGet, false, caller);
}
