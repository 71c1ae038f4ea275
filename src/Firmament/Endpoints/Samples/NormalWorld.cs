using System.Globalization;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Driver;

namespace Firmament.Endpoints.Samples;

/// <summary>Normal-world programs (VMs, or the OS kernel) written on the endpoint driver.</summary>
public static class NormalWorld
{
    /// <summary>
    /// The default demo's client: probes FF-A with the driver, lists the devices, then exercises what the platform
    /// does — direct requests (v1.0 and REQ2), a yield and a preemption handled by the driver's RUN loop, an indirect
    /// message to an SP and to another VM, a few misuses answered with their exact errors, and a partition that faults.
    /// </summary>
    public static async ValueTask DemoClient(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Vcpu.Index != 0)
        {
            return; // one client per partition: its other vCPUs have nothing to do
        }

        var (status, driver) = await FfaDriver.ProbeAsync(context);
        if (driver is null)
        {
            context.Log($"FF-A probe failed: {status}");
            return;
        }

        context.Log($"FF-A v{driver.Version}, I am {FfaDescriber.FormatEndpoint(driver.Id)}; {driver.Devices.Count} devices:");
        foreach (var device in driver.Devices)
        {
            context.Log($"  {FfaDescriber.FormatEndpoint(device.Id)} {device.Uuid} {device.Properties.Describe()}");
        }

        var secure = driver.Devices.Where(static d => d.Id.IsSecure).DistinctBy(static d => d.Id).ToList();
        // VM peers that serve requests (a VM that only runs, like the Gunyah host, is left alone).
        var peers = driver.Devices.Where(d => !d.Id.IsSecure && d.Id != driver.Id && (d.Properties & PartitionProperties.ReceivesDirectRequests) != 0).ToList();
        foreach (var sp in secure)
        {
            var echo = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(1, 2, 3, 4, 5));
            context.Log($"DIRECT_REQ to {sp.Id}: {echo.Status} [{Hex(echo[3])}, {Hex(echo[4])}, {Hex(echo[5])}, {Hex(echo[6])}, {Hex(echo[7])}]");
        }

        if (secure.Count > 0)
        {
            var sp = secure[0];
            var v2 = await driver.Messaging.SyncSendReceive2Async(sp, sp.Uuid, new DirectMessage2Payload(0xAA, 0xBB, 0xCC));
            context.Log($"DIRECT_REQ2 to {sp.Id} service {sp.Uuid}: {v2.Status} [{Hex(v2[4])}, {Hex(v2[5])}, {Hex(v2[6])}]");

            var yielded = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(SecurePartitions.YieldFirst, 7, 0, 0, 0));
            context.Log($"request that asks the SP to yield first: {yielded.Status} (the driver runs the SP again after any FFA_YIELD)");

            var text = "hello, secure world"u8.ToArray();
            var sent = await driver.Messaging.IndirectSendAsync(sp.Id, text);
            var read = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(SecurePartitions.ReadMailbox, 0, 0, 0, 0));
            context.Log($"MSG_SEND2 of {text.Length} bytes to {sp.Id}: {sent}; it read {read[4]} bytes summing to {read[5]}");

            var self = new DirectMessagePayload(0, 0, 0, 0, 0);
            var frame = default(RegisterFrame);
            new MsgSendDirectReq(true, new SenderReceiver(driver.Id, driver.Id), DirectMessageKind.Partition, self).Encode(ref frame);
            frame = await context.CallAsync(frame);
            context.Log($"misuse, a direct request to myself: {FfaStatus.Of(frame)}");
            new RxRelease(EndpointId.Hypervisor).Encode(ref frame);
            frame = await context.CallAsync(frame);
            context.Log($"misuse, RX_RELEASE of a buffer I do not own: {FfaStatus.Of(frame)}");
            await SharedMemory.ShareAndAskAsync(context, driver, sp, "hello, secure SP");
        }

        foreach (var peer in peers)
        {
            // The peer learns of it from its NPI: the hypervisor's RX-buffer-full framework notification.
            var sent = await driver.Messaging.IndirectSendAsync(peer.Id, "hello, neighbour"u8.ToArray());
            context.Log($"VM-to-VM: MSG_SEND2 to {peer.Id}: {sent}");
            await SharedMemory.ShareAndAskAsync(context, driver, peer, "hello, VM peer!");
        }

        await NotificationsAsync(context, driver, secure, peers);

        if (driver.Devices.FirstOrDefault(static d => d.Id.IsSecure && (d.Properties & PartitionProperties.ReceivesDirectRequests) != 0 && d.Uuid == FaultyUuid) is { } faulty)
        {
            var crash = await driver.Messaging.SyncSendReceiveAsync(faulty, new DirectMessagePayload(SecurePartitions.Crash, 0, 0, 0, 0));
            context.Log($"asked {faulty.Id} to fault: {crash.Status}; asking again: {(await driver.Messaging.SyncSendReceiveAsync(faulty, default)).Status}");
        }

        context.Log("demo client done");
    }

    /// <summary>
    /// Notifications three ways. SP → VM: this VM binds ID 2 to the SP and asks it to set it; the SPMC's SRI is drained
    /// by the hypervisor into this VM's NPI, taken when the request returns. VM → SP: the SP binds ID 3 to this VM,
    /// which sets it; the hypervisor queues the SP for the primary VM (this one) with a virtual SRI, whose handler runs
    /// the SP, which takes its NPI. VM → VM: the peer binds ID 1 to this VM, which sets it; the hypervisor delivers it
    /// locally and the peer's NPI wakes its MSG_WAIT.
    /// </summary>
    private static async ValueTask NotificationsAsync(EndpointContext context, FfaDriver driver, List<FfaDevice> secure, List<FfaDevice> peers)
    {
        if (!driver.Notify.Enabled)
        {
            context.Log("notifications: not offered here");
            return;
        }

        NotificationCallback arrived = (id, fromSp, _) => context.Log($"notification {id} from {(fromSp ? "an SP" : "a VM")} (my NPI handler took it)");
        foreach (var sp in secure.Where(static d => (d.Properties & PartitionProperties.ReceivesNotifications) != 0).Take(1))
        {
            var bound = await driver.Notify.RequestAsync(sp.Id, perVcpu: false, 2, arrived);
            var asked = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(SecurePartitions.NotifyMe, 2, 0, 0, 0));
            context.Log($"SP -> VM: bound ID 2 to {sp.Id} ({bound}), asked it to set it: {asked.Status}/{Status(asked[4])}");

            var theirs = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(SecurePartitions.BindFromMe, 3, 0, 0, 0));
            var sent = await driver.Notify.SendAsync(sp.Id, perVcpu: false, 3);
            context.Log($"VM -> SP: {sp.Id} bound ID 3 to me ({Status(theirs[4])}); SET: {sent}; SRIs handled: {driver.Notify.Counts.Sri}");
        }

        foreach (var peer in peers.Where(static d => (d.Properties & PartitionProperties.ReceivesDirectRequests) != 0))
        {
            var theirs = await driver.Messaging.SyncSendReceiveAsync(peer, new DirectMessagePayload(SecurePartitions.BindFromMe, 1, 0, 0, 0));
            var sent = await driver.Notify.SendAsync(peer.Id, perVcpu: false, 1);
            context.Log($"VM -> VM: {peer.Id} bound ID 1 to me ({Status(theirs[4])}); SET: {sent}");
        }
    }

    private static string Status(ulong w2) => w2 == 0 ? "SUCCESS" : ((FfaError)(int)(uint)w2).Name();

    /// <summary>The UUID the default platform gives its faulty SP.</summary>
    public static Uuid FaultyUuid { get; } = Uuid.Parse("bad0fa17-0000-4000-8000-00000000dead");

    /// <summary>
    /// A VM that serves direct requests from other VMs: it maps its buffers, then waits; a request whose first
    /// payload word is <see cref="SecurePartitions.ReadMailbox"/> reads and releases its RX buffer first.
    /// </summary>
    public static async ValueTask Server(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Vcpu.Index != 0)
        {
            return;
        }

        var (status, driver) = await FfaDriver.ProbeAsync(context);
        if (driver is null)
        {
            context.Log($"FF-A probe failed: {status}");
            return;
        }

        driver.Notify.RxBufferFull = async _ =>
        {
            var (received, sender, bytes) = await driver.Messaging.ReceiveIndirectAsync();
            context.Log($"NPI: RX buffer full; indirect message from {sender}: \"{System.Text.Encoding.ASCII.GetString(bytes)}\" ({received})");
        };
        var frame = default(RegisterFrame);
        new MsgWait(MsgWaitFlags.RetainRxBuffer).Encode(ref frame);
        frame = await context.CallAsync(frame);
        while (true)
        {
            if (await driver.Cpu.TakeInterruptAsync(frame))
            {
                // Woken by an interrupt (a notification's NPI): handled; wait again.
                new MsgWait(MsgWaitFlags.RetainRxBuffer).Encode(ref frame);
                frame = await context.CallAsync(frame);
                continue;
            }

            if (!MsgSendDirectReq.TryDecode(frame, out var request, out _))
            {
                break;
            }

            var payload = request.Payload;
            if (payload.Arg0 == SecurePartitions.BindFromMe)
            {
                var requester = request.Endpoints.Sender;
                var bound = await driver.Notify.RequestAsync(requester, perVcpu: false, (int)(payload.Arg1 & 63), (id, _, _) =>
                    context.Log($"notification {id} from {requester} (NPI woke my MSG_WAIT)"));
                payload = payload with { Arg1 = bound.IsOk ? 0 : (ulong)(uint)(int)bound.Error!.Value };
            }

            if (payload.Arg0 == SecurePartitions.ReadMailbox)
            {
                var (received, sender, bytes) = await driver.Messaging.ReceiveIndirectAsync();
                context.Log($"indirect message from {sender}: \"{System.Text.Encoding.ASCII.GetString(bytes)}\" ({received})");
                payload = payload with { Arg1 = (ulong)bytes.Length };
            }
            else if (payload.Arg0 == SharedMemory.ReadShared)
            {
                payload = await SharedMemory.ReadAsync(context, driver.Version, payload);
            }

            new MsgSendDirectResp(request.Is64, new SenderReceiver(request.Endpoints.Receiver, request.Endpoints.Sender), DirectMessageKind.Partition, payload)
                .Encode(ref frame);
            frame = await context.CallAsync(frame);
        }
    }

    private static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture);
}
