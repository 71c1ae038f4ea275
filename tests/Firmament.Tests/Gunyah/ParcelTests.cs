using System.Text;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Abi.Gunyah.Rm;
using Firmament.Endpoints;
using Firmament.Endpoints.Driver;
using Firmament.Endpoints.Gunyah;
using Firmament.Gunyah;
using Firmament.Machine;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Gunyah;

/// <summary>Memory parcels: the RM's lend / share / donate / accept / release / reclaim on the page ledger, through the clients.</summary>
public class ParcelTests
{
    private const ulong Page = GunyahRig.Ram + 0x20000;

    private static PageOwnership Ledger => GunyahRig.Current!.Pages;

    private static RmClient GuestRm(EndpointContext guest, out GunyahCaller hyp)
    {
        var info = GunyahRig.BootInfo(guest);
        hyp = new GunyahCaller(guest.Conduit);
        return new RmClient(new MsgqueueClient(hyp, guest.Memory, GunyahRig.Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap));
    }

    /// <summary>Polls until a MEM_SHARED notification arrives (a bounded number of yields).</summary>
    private static async ValueTask<RmMemShared?> WaitSharedAsync(RmClient rm, GunyahCaller hyp)
    {
        for (var i = 0; i < 16; i++)
        {
            await rm.PollAsync();
            while (rm.TakeNotification(out var notification))
            {
                if (notification.Id == RmMessageId.MemSharedNotification && RmMemShared.TryRead(notification.Payload, out var shared))
                {
                    return shared;
                }
            }

            await hyp.YieldAsync();
        }

        return null;
    }

    [Fact]
    public void Lend_TheGuestReadsTheOwnersBytesThroughItsOwnMap_ReleaseAndReclaimEndItsAccess()
    {
        var host = new List<object>();
        var guest = new List<object>();
        uint handle = 0;
        string? broken = null;
        GunyahRig.HostAndGuest(
            async h =>
            {
                var (_, rm, loader) = GunyahRig.Connect(h);
                var vm = await GunyahRig.StartGuestAsync(loader);
                h.Memory.TryWrite(Page, "parcel from host"u8, out _);
                var (lent, lentHandle) = await rm.LendAsync([new RmAclEntry(vm.Vmid, RmMemRights.ReadWrite)], [new RmSglEntry(Page, 4096)], label: 7);
                handle = lentHandle;
                host.Add(lent);
                host.Add(h.Memory.TryRead(Page, new byte[4], out var fault)); // the owner lost its access: a contained fault
                host.Add(fault.Kind);
                broken ??= Ledger.CheckInvariants();
                host.Add(await rm.NotifySharedAsync(handle, [vm.Vmid], memInfoTag: 0x55));
                await loader.RunAsync(vm);                       // accepts, reads, writes back, tells the owner
                broken ??= Ledger.CheckInvariants();
                host.Add(await rm.ReclaimAsync(handle));         // still accepted
                await loader.RunAsync(vm);                       // releases, tells the owner
                host.Add(await rm.ReclaimAsync(handle));
                await rm.PollAsync();
                var notes = new List<RmMessageId>();
                while (rm.TakeNotification(out var n))
                {
                    if (n.Id is RmMessageId.MemAcceptedNotification or RmMessageId.MemReleasedNotification)
                    {
                        notes.Add(n.Id);
                    }
                }

                host.Add(string.Join(',', notes));
                var back = new byte[16];
                h.Memory.TryRead(Page, back, out _);
                host.Add(Encoding.ASCII.GetString(back));
                broken ??= Ledger.CheckInvariants();
            },
            async g =>
            {
                var rm = GuestRm(g, out var hyp);
                var shared = await WaitSharedAsync(rm, hyp);
                guest.Add(shared is { TransType: RmTransType.Lend, Label: 7, MemInfoTag: 0x55, Owner: 3 } && shared.Sizes.SequenceEqual([4096UL]));
                var (accepted, regions) = await rm.AcceptAsync(shared!.Handle, RmTransType.Lend, RmAcceptFlags.Done | RmAcceptFlags.ValidateLabel, label: 7);
                guest.Add(accepted);
                var ipa = regions.Count == 1 ? regions[0].Ipa : 0;
                var text = new byte[16];
                g.Memory.TryRead(ipa, text, out _);
                guest.Add(Encoding.ASCII.GetString(text));
                g.Memory.TryWrite(ipa, "reply from guest"u8, out _);
                await rm.NotifyOwnerAsync(shared.Handle, accepted: true, memInfoTag: 0x55);
                await hyp.YieldAsync();
                guest.Add(await rm.ReleaseAsync(shared.Handle));
                guest.Add(await rm.ReleaseAsync(shared.Handle)); // not accepted any more
                await rm.NotifyOwnerAsync(shared.Handle, accepted: false, memInfoTag: 0x55);
                guest.Add(g.Memory.TryRead(ipa, new byte[4], out var fault));
                guest.Add(fault.Kind);
                await hyp.YieldAsync();
            });

        broken.ShouldBeNull();
        host.ShouldBe([RmError.Ok, false, MemoryFaultKind.Permission, RmError.Ok, RmError.MemInUse, RmError.Ok, "MemAcceptedNotification,MemReleasedNotification", "reply from guest"]);
        guest.ShouldBe([true, RmError.Ok, "parcel from host", RmError.Ok, RmError.MemReleased, false, MemoryFaultKind.Unmapped]);
        GunyahRig.Current!.ResourceManager!.Parcels.ShouldBeEmpty();
        Ledger.GrantOf(ResourceManager.ParcelKeyBit | handle).ShouldBeNull();
    }
}
