using System.Numerics;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;

namespace Firmament.Endpoints.Driver;

/// <summary>A notification arrived: its ID, the sender class it was bound for (true: from an SP), and the data given at request time.</summary>
public delegate void NotificationCallback(int notificationId, bool fromSp, object? data);

/// <summary>The scheduler is asked to give a partition cycles: its vCPU, and whether the pending notifications are per-vCPU.</summary>
public delegate ValueTask ScheduleReceiverCallback(EndpointId partition, ushort vcpu, bool perVcpu);

/// <summary>
/// Notifications, as Linux's <c>notifier_ops</c> has them: a schedule-receiver callback per partition, a callback per
/// requested notification ID (BIND), relinquish (UNBIND), send (SET). At probe the driver works out which role it has
/// from FEATURES, so one driver serves as host and as guest:
/// <list type="bullet">
/// <item>BITMAP_CREATE served: a physical endpoint with no hypervisor (the kernel) creates its own bitmap;</item>
/// <item>SRI served: it is a scheduler: its SRI handler loops on INFO_GET, handles its own entries, and for each
/// partition listed calls that partition's schedule-receiver callback, or gives it cycles with FFA_RUN;</item>
/// <item>NPI served: it is a virtual endpoint (a guest, an SP): its NPI handler takes its own notifications with GET.</item>
/// </list>
/// </summary>
public sealed class NotifyOps
{
    private readonly FfaDriver _driver;
    private readonly Dictionary<(int Id, bool FromSp), (NotificationCallback Callback, object? Data)> _callbacks = [];
    private readonly Dictionary<EndpointId, ScheduleReceiverCallback> _schedulers = [];

    internal NotifyOps(FfaDriver driver) => _driver = driver;

    /// <summary>Notifications can be used here (the partition manager offers GET).</summary>
    public bool Enabled { get; private set; }

    /// <summary>The Schedule Receiver Interrupt's ID, when this endpoint is a scheduler (physical endpoint, or the primary VM).</summary>
    public int? ScheduleReceiverInterrupt { get; private set; }

    /// <summary>The Notification Pending Interrupt's ID, when this endpoint is virtual (a guest, an SP).</summary>
    public int? NotificationPendingInterrupt { get; private set; }

    /// <summary>This endpoint created its own bitmap at probe (no hypervisor does it for it).</summary>
    public bool OwnBitmap { get; private set; }

    /// <summary>
    /// Run when the handlers find the RX-buffer-full framework notification (argument: set by the SPMC, i.e. an SP's
    /// message; else the hypervisor's, a VM's): the receiver reads its message and releases its buffer.
    /// </summary>
    public Func<bool, ValueTask>? RxBufferFull { get; set; }

    /// <summary>SRIs handled, NPIs handled, notifications delivered to callbacks (for logs and tests).</summary>
    public (long Sri, long Npi, long Delivered) Counts => (_sriCount, _npiCount, _delivered);

    private long _sriCount, _npiCount, _delivered;

    /// <summary>The flags a GET for this endpoint asks for: a physical endpoint (ID 0) has no VM or hypervisor bitmaps.</summary>
    private NotificationGetFlags OwnFlags => _driver.Id == EndpointId.Hypervisor
        ? NotificationGetFlags.SpBitmap | NotificationGetFlags.SpmFrameworkBitmap
        : NotificationGetFlags.All;

    /// <summary>Works out the role from FEATURES and sets up the bitmap and the handlers (part of probe).</summary>
    internal async ValueTask SetupAsync(int cpus)
    {
        if (!(await FeatureAsync(FeatureQuery.Of(FfaFunction.NotificationGet))).IsOk)
        {
            return;
        }

        Enabled = true;
        if ((await FeatureAsync(FeatureQuery.Of(FfaFunction.NotificationBitmapCreate))).IsOk)
        {
            var create = default(RegisterFrame);
            new NotificationBitmapCreate(_driver.Id, (uint)Math.Max(cpus, 1)).Encode(ref create);
            OwnBitmap = FfaStatus.Of(await _driver.Conduit.CallAsync(create)).IsOk;
        }

        var interrupts = _driver.Context.Interrupts;
        if (await FeatureIdAsync(FfaFeature.ScheduleReceiverInterrupt) is { } sri)
        {
            ScheduleReceiverInterrupt = sri;
            interrupts?.Handle(sri, OnScheduleReceiverInterruptAsync);
        }

        if (await FeatureIdAsync(FfaFeature.NotificationPendingInterrupt) is { } npi)
        {
            NotificationPendingInterrupt = npi;
            interrupts?.Handle(npi, OnNotificationPendingInterruptAsync);
        }
    }

    /// <summary>Registers the callback asked to schedule <paramref name="partition"/> when the SRI handler finds it pending.</summary>
    public FfaStatus SchedRecvCallbackRegister(EndpointId partition, ScheduleReceiverCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return _schedulers.TryAdd(partition, callback) ? FfaStatus.Ok : new FfaStatus(FfaError.Denied);
    }

    public FfaStatus SchedRecvCallbackUnregister(EndpointId partition) =>
        _schedulers.Remove(partition) ? FfaStatus.Ok : new FfaStatus(FfaError.InvalidParameters);

    /// <summary>Binds notification <paramref name="id"/> from <paramref name="sender"/> to this endpoint and remembers the callback.</summary>
    public async ValueTask<FfaStatus> RequestAsync(EndpointId sender, bool perVcpu, int id, NotificationCallback callback, object? data = null)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var key = (id, sender.IsSecure);
        if (id is < 0 or >= 64 || _callbacks.ContainsKey(key))
        {
            return new FfaStatus(FfaError.InvalidParameters);
        }

        var frame = default(RegisterFrame);
        new NotificationBind(new SenderReceiver(sender, _driver.Id), perVcpu ? NotificationBindFlags.PerVcpu : NotificationBindFlags.None, NotificationBitmap.Of(id))
            .Encode(ref frame);
        var status = FfaStatus.Of(await _driver.Conduit.CallAsync(frame));
        if (status.IsOk)
        {
            _callbacks[key] = (callback, data);
        }

        return status;
    }

    /// <summary>Unbinds notification <paramref name="id"/> from <paramref name="sender"/> and forgets its callback.</summary>
    public async ValueTask<FfaStatus> RelinquishAsync(EndpointId sender, int id)
    {
        var key = (id, sender.IsSecure);
        if (id is < 0 or >= 64 || !_callbacks.ContainsKey(key))
        {
            return new FfaStatus(FfaError.InvalidParameters);
        }

        var frame = default(RegisterFrame);
        new NotificationUnbind(new SenderReceiver(sender, _driver.Id), NotificationBitmap.Of(id)).Encode(ref frame);
        var status = FfaStatus.Of(await _driver.Conduit.CallAsync(frame));
        if (status.IsOk)
        {
            _callbacks.Remove(key);
        }

        return status;
    }

    /// <summary>Sets notification <paramref name="id"/> for <paramref name="receiver"/> (per-vCPU: for its vCPU <paramref name="vcpu"/>).</summary>
    public async ValueTask<FfaStatus> SendAsync(EndpointId receiver, bool perVcpu, int id, ushort vcpu = 0, bool delaySri = false)
    {
        if (id is < 0 or >= 64)
        {
            return new FfaStatus(FfaError.InvalidParameters);
        }

        var flags = (perVcpu ? NotificationSetFlags.PerVcpu : NotificationSetFlags.None) | (delaySri ? NotificationSetFlags.DelaySri : NotificationSetFlags.None);
        var frame = default(RegisterFrame);
        new NotificationSet(new SenderReceiver(_driver.Id, receiver), flags, perVcpu ? vcpu : (ushort)0, NotificationBitmap.Of(id)).Encode(ref frame);
        return FfaStatus.Of(await _driver.Conduit.CallAsync(frame));
    }

    /// <summary>Takes this endpoint's pending notifications for <paramref name="vcpu"/> with GET and runs their callbacks.</summary>
    public async ValueTask<FfaStatus> HandleOwnAsync(ushort vcpu)
    {
        var frame = default(RegisterFrame);
        new NotificationGet(vcpu, _driver.Id, OwnFlags).Encode(ref frame);
        frame = await _driver.Conduit.CallAsync(frame);
        if (!NotificationGetSuccess.TryDecode(frame, out var got, out _))
        {
            return FfaStatus.Of(frame);
        }

        Deliver(got.SpBitmap.Bits, fromSp: true);
        Deliver(got.VmBitmap.Bits, fromSp: false);
        if (RxBufferFull is { } rxFull && ((got.SpmFramework | got.HypervisorFramework) & FrameworkNotifications.RxBufferFull) != 0)
        {
            await rxFull((got.SpmFramework & FrameworkNotifications.RxBufferFull) != 0);
        }

        return FfaStatus.Ok;
    }

    /// <summary>
    /// The SRI handler: INFO_GET until nothing more is pending; this endpoint's own entries are taken with GET, every
    /// other partition listed goes to its schedule-receiver callback, or is given cycles with FFA_RUN.
    /// </summary>
    public async ValueTask OnScheduleReceiverInterruptAsync(int intid)
    {
        _sriCount++;
        var more = true;
        while (more)
        {
            var frame = default(RegisterFrame);
            new NotificationInfoGet(true).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            if (!NotificationInfoGetSuccess.TryDecode(frame, out var info, out _))
            {
                return; // NO_DATA: nothing (more) pending
            }

            more = info.MorePending;
            foreach (var list in info.Lists)
            {
                if (list.IsGlobal)
                {
                    // Global notifications: any vCPU will do; a multi-vCPU partition's must be the one on this pCPU.
                    var many = _driver.Device(list.Endpoint) is { Info.ExecutionContextCount: > 1 };
                    await ScheduleAsync(list.Endpoint, many ? _driver.Context.Vcpu.Index : (ushort)0, perVcpu: false);
                    continue;
                }

                for (var i = 0; i < list.VcpuCount; i++)
                {
                    await ScheduleAsync(list.Endpoint, list.Vcpus[i], perVcpu: true);
                }
            }
        }
    }

    /// <summary>The NPI handler of a virtual endpoint: its own notifications, for the vCPU it runs on.</summary>
    public ValueTask OnNotificationPendingInterruptAsync(int intid)
    {
        _npiCount++;
        return Discard(HandleOwnAsync(_driver.Context.Vcpu.Index));
    }

    private async ValueTask ScheduleAsync(EndpointId partition, ushort vcpu, bool perVcpu)
    {
        if (partition == _driver.Id)
        {
            await HandleOwnAsync(perVcpu ? vcpu : _driver.Context.Vcpu.Index);
        }
        else if (_schedulers.TryGetValue(partition, out var callback))
        {
            await callback(partition, vcpu, perVcpu);
        }
        else
        {
            await _driver.Cpu.RunAsync(partition, vcpu);
        }
    }

    private void Deliver(ulong bits, bool fromSp)
    {
        for (var rest = bits; rest != 0; rest &= rest - 1)
        {
            var id = BitOperations.TrailingZeroCount(rest);
            if (_callbacks.TryGetValue((id, fromSp), out var entry))
            {
                _delivered++;
                entry.Callback(id, fromSp, entry.Data);
            }
        }
    }

    private async ValueTask<FfaStatus> FeatureAsync(FeatureQuery query)
    {
        var frame = default(RegisterFrame);
        new Features(query, 0).Encode(ref frame);
        return FfaStatus.Of(await _driver.Conduit.CallAsync(frame));
    }

    private async ValueTask<int?> FeatureIdAsync(FfaFeature feature)
    {
        var frame = default(RegisterFrame);
        new Features(FeatureQuery.Of(feature), 0).Encode(ref frame);
        frame = await _driver.Conduit.CallAsync(frame);
        return FfaStatus.Of(frame).IsOk ? (int)frame.W(2) : null;
    }

    private static async ValueTask Discard(ValueTask<FfaStatus> task) => await task;
}
