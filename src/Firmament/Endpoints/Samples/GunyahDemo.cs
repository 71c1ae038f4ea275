using System.Text;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;
using Firmament.Endpoints.Gunyah;

namespace Firmament.Endpoints.Samples;

/// <summary>
/// The Gunyah part of the demo: a primary VM (the host) creates a secondary VM through the RM with the VM loader,
/// reads its console, lends it a page as a memory parcel, and the two talk over the message-queue pair and the doorbells
/// the RM wires between them; the guest reads the lent page through its own map and releases it, exits, and the host
/// reclaims the page and tears the guest down.
/// </summary>
public static class GunyahDemo
{
    /// <summary>Where the demo programs find their RAM (the platform's default VM RAM).</summary>
    public const ulong Ram = 0x4000_0000;

    private const ulong RmBuffer = Ram + 0x1000;
    private const ulong PeerBuffer = Ram + 0x2000;
    private const ulong LentPage = Ram + 0x10000;

    /// <summary>vcpu_run rounds the host gives the guest before it gives up on it.</summary>
    private const int MaxRuns = 200;

    /// <summary>The primary VM: identifies the hypervisor, loads and runs a guest, talks to it, watches it exit.</summary>
    public static async ValueTask Host(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Vcpu.Index != 0 || !ReadBootInfo(context, out var info))
        {
            return;
        }

        var hyp = new GunyahCaller(context.Conduit);
        var identify = await hyp.IdentifyAsync();
        var uid = await hyp.CallUidAsync();
        context.Log($"gunyah: hypervisor {identify.ApiInfo}; features {identify.Flags0}; UID {uid.Uid}{(uid.IsGunyah ? " (Gunyah)" : string.Empty)}");

        var rm = new RmClient(new MsgqueueClient(hyp, context.Memory, RmBuffer, RmRpc.PacketSize, info.TxCap, info.RxCap));
        var (_, self) = await rm.GetVmidAsync();
        var loader = new VmLoader(rm, hyp);
        var (created, vm) = await loader.CreateVmAsync();
        if (vm is null)
        {
            context.Log($"gunyah: VM_ALLOCATE failed: {created.Name()}");
            return;
        }

        var configured = await loader.SetImageAsync(vm, 0);
        var started = await loader.StartAsync(vm);
        context.Log($"gunyah: I am VM 0x{self:X}; created VM 0x{vm.Vmid:X} (image: {configured.Name()}, start: {started.Name()}), {vm.Vcpus.Count} vCPU(s), {vm.Resources.Count} resources from the RM");
        if (started != RmError.Ok)
        {
            return;
        }

        var console = new GunyahConsole(rm, vm.Vmid);
        await console.OpenAsync();
        var peer = new MsgqueueClient(hyp, context.Memory, PeerBuffer, RmRpc.PacketSize, vm.CapOf(RmResourceTypes.MsgqueueSend), vm.CapOf(RmResourceTypes.MsgqueueReceive));
        var ring = new DoorbellClient(hyp, vm.CapOf(RmResourceTypes.DoorbellSource));
        var bell = new DoorbellClient(hyp, vm.CapOf(RmResourceTypes.Doorbell), vm.VirqOf(RmResourceTypes.Doorbell));
        context.Memory.TryWrite(LentPage, "a page lent by the host"u8, out _);
        var (lent, parcel) = await rm.LendAsync([new RmAclEntry(vm.Vmid, RmMemRights.Read)], [new RmSglEntry(LentPage, 0x1000)], label: 1);
        var announced = await rm.NotifySharedAsync(parcel, [vm.Vmid]);
        context.Log($"gunyah: lent the page at 0x{LentPage:X} to VM 0x{vm.Vmid:X} read-only as parcel {parcel} ({lent.Name()}), MEM_SHARED sent ({announced.Name()})");
        var ping = await peer.TrySendAsync("ping from the host"u8.ToArray(), push: true);
        var rung = await ring.RingAsync(1);
        context.Log($"gunyah: sent 'ping from the host' on the queue ({ping.Error.Name()}), rang the guest's doorbell ({rung.Error.Name()})");

        var reply = new byte[RmRpc.PacketSize];
        VcpuExit exit = default;
        for (var run = 0; run < MaxRuns; run++)
        {
            exit = await loader.RunAsync(vm);
            await rm.PollAsync();
            foreach (var line in console.Read().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                context.Log($"gunyah: [guest console] {line}");
            }

            var got = await peer.TryReceiveAsync(reply);
            if (got.Error == GunyahError.Ok)
            {
                context.Log($"gunyah: the guest answered '{Encoding.UTF8.GetString(reply, 0, got.Size)}'");
            }

            var flags = await bell.TakeAsync();
            if (flags.Error == GunyahError.Ok && flags.OldFlags != 0)
            {
                context.Log($"gunyah: the guest rang my doorbell (flags 0x{flags.OldFlags:X})");
            }

            if (exit.Reason is VcpuExitReason.Exited or VcpuExitReason.Crashed or VcpuExitReason.Error)
            {
                break;
            }
        }

        context.Log($"gunyah: vcpu_run says {exit.Run.State.Name()}; VM 0x{vm.Vmid:X} exited (type {exit.ExitType}, reason 0x{exit.ExitReason:X})");
        var reclaimed = await rm.ReclaimAsync(parcel);
        var back = new byte[23];
        context.Memory.TryRead(LentPage, back, out _);
        context.Log($"gunyah: reclaimed parcel {parcel} ({reclaimed.Name()}); the page reads '{Encoding.UTF8.GetString(back)}' again");
        var destroyed = await loader.DestroyAsync(vm);
        context.Log($"gunyah: VM 0x{vm.Vmid:X} reset and deallocated: {destroyed.Name()}");
    }

    /// <summary>The guest: writes to its console, answers the host's message, rings the host's doorbell, exits.</summary>
    public static async ValueTask Guest(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Vcpu.Index != 0 || !ReadBootInfo(context, out var info))
        {
            return;
        }

        var hyp = new GunyahCaller(context.Conduit);
        var rm = new RmClient(new MsgqueueClient(hyp, context.Memory, RmBuffer, RmRpc.PacketSize, info.TxCap, info.RxCap));
        var console = new GunyahConsole(rm);
        await console.OpenAsync();
        await console.WriteAsync($"hello from VM 0x{info.Vmid:X}, created by VM 0x{info.Owner:X}\n");
        var (_, resources) = await rm.GetHypResourcesAsync(info.Owner);
        var peer = new MsgqueueClient(hyp, context.Memory, PeerBuffer, RmRpc.PacketSize, Cap(resources, RmResourceTypes.MsgqueueSend), Cap(resources, RmResourceTypes.MsgqueueReceive));
        var bell = new DoorbellClient(hyp, Cap(resources, RmResourceTypes.Doorbell));
        var ring = new DoorbellClient(hyp, Cap(resources, RmResourceTypes.DoorbellSource));

        var (rung, _) = await bell.WaitAsync(1, new WaitBudget(100));
        var message = new byte[RmRpc.PacketSize];
        var got = await peer.ReceiveAsync(message, new WaitBudget(100));
        var text = got.Error == GunyahError.Ok ? Encoding.UTF8.GetString(message, 0, got.Size) : got.Error.Name();
        await console.WriteAsync($"doorbell flags 0x{rung.OldFlags:X}; message '{text}'\n");
        await peer.SendAsync(Encoding.UTF8.GetBytes($"pong ({text.Length} bytes received)"), push: true, new WaitBudget(100));
        await ring.RingAsync(2);
        await ReadLentPageAsync(rm, console, context);
        await console.WriteAsync("bye\n");
        await rm.ExitAsync(exitFlags: 0, exitCode: 0);
    }

    /// <summary>Accepts the parcel the host announced (MEM_SHARED), reads it through its own map, releases it.</summary>
    private static async ValueTask ReadLentPageAsync(RmClient rm, GunyahConsole console, EndpointContext context)
    {
        await rm.PollAsync();
        RmMemShared? shared = null;
        while (shared is null && rm.TakeNotification(out var notification))
        {
            if (notification.Id == RmMessageId.MemSharedNotification && RmMemShared.TryRead(notification.Payload, out var parcel))
            {
                shared = parcel;
            }
        }

        if (shared is null)
        {
            await console.WriteAsync("no parcel announced\n");
            return;
        }

        var (accepted, regions) = await rm.AcceptAsync(shared.Handle, shared.TransType);
        var text = new byte[23];
        var read = accepted == RmError.Ok && regions.Count == 1 && context.Memory.TryRead(regions[0].Ipa, text, out _);
        var released = await rm.ReleaseAsync(shared.Handle);
        await console.WriteAsync($"parcel {shared.Handle} from VM 0x{shared.Owner:X} ({accepted.Name()}): '{(read ? Encoding.UTF8.GetString(text) : "unreadable")}'; released ({released.Name()})\n");
    }

    private static bool ReadBootInfo(EndpointContext context, out RmBootInfo info)
    {
        var block = new byte[RmBootInfo.Size];
        info = default;
        return context.Memory.TryRead(Ram, block, out _) && RmBootInfo.TryRead(block, out info);
    }

    private static CapId Cap(IReadOnlyList<RmHypResource> resources, byte type) =>
        resources.FirstOrDefault(r => r.Type == type) is { Cap.IsValid: true } r ? r.Cap : CapId.Invalid;
}
