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

    [Fact]
    public void Share_BothSeeTheSamePage_ReadOnlyRightsHoldAndAcceptChecksAnswerTheirCodes()
    {
        var guest = new List<object>();
        var host = new List<object>();
        string? broken = null;
        GunyahRig.HostAndGuest(
            async h =>
            {
                var (_, rm, loader) = GunyahRig.Connect(h);
                var vm = await GunyahRig.StartGuestAsync(loader);
                h.Memory.TryWrite(Page, "shared!!"u8, out _);
                var (error, handle) = await rm.ShareAsync([new RmAclEntry(3, RmMemRights.ReadWrite), new RmAclEntry(vm.Vmid, RmMemRights.Read)], [new RmSglEntry(Page, 0x2000)], label: 9);
                host.Add(error);
                host.Add(h.Memory.TryWrite(Page + 8, "owner"u8, out _)); // a share keeps the owner's access
                await rm.NotifySharedAsync(handle, [vm.Vmid]);
                await loader.RunAsync(vm);
                broken ??= Ledger.CheckInvariants();
                host.Add(await rm.ReclaimAsync(handle));
                await loader.RunAsync(vm);
                host.Add(await rm.ReclaimAsync(handle));
                broken ??= Ledger.CheckInvariants();
            },
            async g =>
            {
                var rm = GuestRm(g, out var hyp);
                var shared = await WaitSharedAsync(rm, hyp);
                var handle = shared!.Handle;
                guest.Add(shared.Sizes.Sum(static s => (long)s));
                var grants = Ledger.OpenGrants;

                // Checks that fail leave the parcel unaccepted and the ledger as it was.
                guest.Add((await rm.AcceptAsync(handle, RmTransType.Share, RmAcceptFlags.Done | RmAcceptFlags.ValidateLabel, label: 8)).Error);
                guest.Add((await rm.AcceptAsync(handle, RmTransType.Share, RmAcceptFlags.Done | RmAcceptFlags.ValidateSanitized)).Error);
                guest.Add((await rm.AcceptAsync(handle, RmTransType.Share, RmAcceptFlags.Done | RmAcceptFlags.MapOther)).Error);
                guest.Add((await rm.AcceptAsync(handle, RmTransType.Share, RmAcceptFlags.Done | RmAcceptFlags.Sanitize)).Error); // read-only: cannot zero
                guest.Add((await rm.AcceptAsync(handle, RmTransType.Share, RmAcceptFlags.Done, ranges: [new RmSglEntry(0x7000_0000, 0x2000)])).Error);
                guest.Add((await rm.AcceptAsync(handle, RmTransType.Share, RmAcceptFlags.Done, ranges: [new RmSglEntry(0x7000_0000, 0x1000)])).Error);
                guest.Add((await rm.ReleaseAsync(handle)).ToString());
                guest.Add(Ledger.OpenGrants == grants && Ledger.CheckInvariants() is null && !Ledger.GrantOf(ResourceManager.ParcelKeyBit | handle)!.AnyMapped);

                var pa = Ledger.GrantOf(ResourceManager.ParcelKeyBit | handle)!.Runs[0].PhysicalPage << PhysicalMemory.PageShift;
                var (accepted, regions) = await rm.AcceptAsync(handle, RmTransType.Share, RmAcceptFlags.Done | RmAcceptFlags.ValidateLabel | RmAcceptFlags.ValidateAclAttributes, label: 9,
                    acl: [new RmAclEntry(3, RmMemRights.ReadWrite), new RmAclEntry(g.Vcpu.Endpoint.Value, RmMemRights.Read)], ranges: [new RmSglEntry(pa, 0x2000)]);
                guest.Add(accepted);
                guest.Add(regions.Count); // an accept that names its SGL gets no SGL back
                guest.Add((await rm.AcceptAsync(handle, RmTransType.Share)).Error);
                var text = new byte[13];
                g.Memory.TryRead(pa, text, out _);
                guest.Add(Encoding.ASCII.GetString(text));
                guest.Add(g.Memory.TryWrite(pa, "x"u8, out var fault));
                guest.Add(fault.Kind);
                await hyp.YieldAsync();
                guest.Add(await rm.ReleaseAsync(handle));
            });

        broken.ShouldBeNull();
        host.ShouldBe([RmError.Ok, true, RmError.MemInUse, RmError.Ok]);
        guest.ShouldBe([
            0x2000L, RmError.ValidateFailed, RmError.ValidateFailed, RmError.Denied, RmError.ArgumentInvalid, RmError.NoResource, RmError.ArgumentInvalid, "MemReleased", true,
            RmError.Ok, 0, RmError.MemInUse, "shared!!owner", false, MemoryFaultKind.Permission, RmError.Ok]);
    }

    [Fact]
    public void Donate_MakesTheAcceptorTheOwner_AndTheHandleIsGone()
    {
        var results = new List<object>();
        ushort guestId = 0;
        ulong pa = 0;
        GunyahRig.HostAndGuest(
            async h =>
            {
                var (_, rm, loader) = GunyahRig.Connect(h);
                var vm = await GunyahRig.StartGuestAsync(loader);
                guestId = vm.Vmid;
                h.Memory.TryWrite(Page, "gift"u8, out _);
                var (error, handle) = await rm.DonateAsync([new RmAclEntry(vm.Vmid, RmMemRights.All)], [new RmSglEntry(Page, 0x1000)], sanitize: true);
                results.Add(error);
                pa = Ledger.GrantOf(ResourceManager.ParcelKeyBit | handle)!.Runs[0].PhysicalPage << PhysicalMemory.PageShift;
                await rm.NotifySharedAsync(handle, [vm.Vmid]);
                await loader.RunAsync(vm);
                results.Add(await rm.ReclaimAsync(handle));
                results.Add(h.Memory.TryRead(Page, new byte[4], out var fault));
                results.Add(fault.Kind);
                results.Add(Ledger.CheckInvariants() ?? "ok");
            },
            async g =>
            {
                var rm = GuestRm(g, out var hyp);
                var shared = await WaitSharedAsync(rm, hyp);
                results.Add(shared!.Sanitized);
                var (accepted, regions) = await rm.AcceptAsync(shared.Handle, RmTransType.Donate, RmAcceptFlags.Done | RmAcceptFlags.ValidateSanitized);
                results.Add(accepted);
                var bytes = new byte[4];
                g.Memory.TryRead(regions[0].Ipa, bytes, out _);
                results.Add(BitConverter.ToUInt32(bytes)); // zeroed when donated
                results.Add(await rm.ReleaseAsync(shared.Handle));
                await hyp.YieldAsync();
            });

        results.ShouldBe([RmError.Ok, true, RmError.Ok, 0u, RmError.HandleInvalid, RmError.HandleInvalid, false, MemoryFaultKind.Unmapped, "ok"]);
        Ledger.TryGetPage(pa >> PhysicalMemory.PageShift, out var page).ShouldBeTrue();
        page.Owner.ShouldBe(new EndpointId(guestId));
        page.State.ShouldBe(OwnerState.Exclusive);
    }

    [Fact]
    public void ParcelsAndFfaSharing_UseOneLedger_APageInOneCannotGoIntoTheOther()
    {
        var results = new List<object>();
        GunyahRig.HostAndGuest(
            async h =>
            {
                var (_, rm, loader) = GunyahRig.Connect(h);
                var vm = await GunyahRig.StartGuestAsync(loader);
                var (probe, driver) = await FfaDriver.ProbeAsync(h);
                results.Add(probe.IsOk);
                var borrower = new EndpointMemoryAccess(new EndpointId(vm.Vmid), MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified));
                var (lent, handle) = await rm.LendAsync([new RmAclEntry(vm.Vmid, RmMemRights.ReadWrite)], [new RmSglEntry(Page, 0x1000)]);
                results.Add(lent);
                results.Add((await driver!.Memory.ShareAsync([borrower], [new MemoryRegionConstituent(Page, 1)])).Status.Error!);
                results.Add(await rm.ReclaimAsync(handle));
                var (shared, ffaHandle) = await driver.Memory.ShareAsync([borrower], [new MemoryRegionConstituent(Page, 1)]);
                results.Add(shared.IsOk);
                results.Add((await rm.LendAsync([new RmAclEntry(vm.Vmid, RmMemRights.ReadWrite)], [new RmSglEntry(Page, 0x1000)])).Error);
                results.Add((await rm.ShareAsync([new RmAclEntry(3, RmMemRights.ReadWrite), new RmAclEntry(vm.Vmid, RmMemRights.Read)], [new RmSglEntry(Page, 0x1000)])).Error);
                results.Add((await driver.Memory.ReclaimAsync(ffaHandle)).IsOk);
                results.Add((await rm.LendAsync([new RmAclEntry(vm.Vmid, RmMemRights.ReadWrite)], [new RmSglEntry(Page, 0x1000)])).Error);
                results.Add(Ledger.CheckInvariants() ?? "ok");
            },
            static async g => await new GunyahCaller(g.Conduit).YieldAsync());

        results.ShouldBe([true, RmError.Ok, FfaError.Denied, RmError.Ok, true, RmError.Denied, RmError.Denied, true, RmError.Ok, "ok"]);
    }

    [Fact]
    public void Reset_OfAVmThatAcceptedAParcel_ReleasesIt_SoTheOwnerCanReclaim()
    {
        var results = new List<object>();
        GunyahRig.HostAndGuest(
            async h =>
            {
                var (_, rm, loader) = GunyahRig.Connect(h);
                var vm = await GunyahRig.StartGuestAsync(loader);
                var (_, handle) = await rm.LendAsync([new RmAclEntry(vm.Vmid, RmMemRights.ReadWrite)], [new RmSglEntry(Page, 0x1000)]);
                await rm.NotifySharedAsync(handle, [vm.Vmid]);
                await loader.RunAsync(vm);
                results.Add(await rm.ReclaimAsync(handle));
                results.Add(await rm.StopAsync(vm.Vmid, force: true));
                results.Add(await rm.ResetAsync(vm.Vmid));
                results.Add(await rm.ReclaimAsync(handle));
                results.Add(h.Memory.TryWrite(Page, "mine again"u8, out _));
                results.Add(Ledger.CheckInvariants() ?? "ok");
            },
            async g =>
            {
                var rm = GuestRm(g, out var hyp);
                var shared = await WaitSharedAsync(rm, hyp);
                results.Add((await rm.AcceptAsync(shared!.Handle, RmTransType.Lend)).Error);
                await hyp.YieldAsync();
            });

        results.ShouldBe([RmError.Ok, RmError.MemInUse, RmError.Ok, RmError.Ok, RmError.Ok, true, "ok"]);
    }

    [Fact]
    public void RandomCreatesAndReclaims_AgreeWithAModelOfWhichPagesAreTaken_AndKeepTheLedgerSound()
    {
        string? failure = null;
        var succeeded = 0;
        var steps = 0;
        GunyahRig.HostAndGuest(
            async h =>
            {
                var (_, rm, loader) = GunyahRig.Connect(h);
                var vm = await GunyahRig.StartGuestAsync(loader);
                var random = new Random(8);
                var taken = new Dictionary<uint, (int First, int Count)>();
                for (var step = 0; step < 300 && failure is null; step++)
                {
                    var grants = Ledger.OpenGrants;
                    if (taken.Count > 0 && random.Next(3) == 0)
                    {
                        var handle = random.Next(4) == 0 ? 999u : taken.Keys.ElementAt(random.Next(taken.Count));
                        var error = await rm.ReclaimAsync(handle);
                        var expected = taken.Remove(handle) ? RmError.Ok : RmError.HandleInvalid;
                        if (error != expected || Ledger.OpenGrants != grants - (expected == RmError.Ok ? 1 : 0))
                        {
                            failure = $"step {step}: reclaim {handle} answered {error}, expected {expected}";
                        }
                    }
                    else
                    {
                        var first = random.Next(16);
                        var count = 1 + random.Next(3);
                        var free = !taken.Values.Any(t => first < t.First + t.Count && t.First < first + count);
                        var range = new RmSglEntry(Page + ((ulong)first * 0x1000), (ulong)count * 0x1000);
                        var (error, handle) = random.Next(3) switch
                        {
                            0 => await rm.LendAsync([new RmAclEntry(vm.Vmid, RmMemRights.ReadWrite)], [range]),
                            1 => await rm.ShareAsync([new RmAclEntry(3, RmMemRights.ReadWrite), new RmAclEntry(vm.Vmid, RmMemRights.Read)], [range]),
                            _ => await rm.DonateAsync([new RmAclEntry(vm.Vmid, RmMemRights.All)], [range]),
                        };
                        var expected = free ? RmError.Ok : RmError.Denied;
                        if (error != expected || Ledger.OpenGrants != grants + (free ? 1 : 0))
                        {
                            failure = $"step {step}: create over pages {first}+{count} answered {error}, expected {expected}";
                        }

                        if (error == RmError.Ok)
                        {
                            taken[handle] = (first, count);
                            succeeded++;
                        }
                    }

                    failure ??= Ledger.CheckInvariants();
                    steps++;
                    for (var i = 0; i < 16 && failure is null; i++)
                    {
                        var lentAway = taken.Values.Any(t => i >= t.First && i < t.First + t.Count);
                        var readable = h.Memory.TryRead(Page + ((ulong)i * 0x1000), new byte[1], out _);
                        var shared = Ledger.Grants.Any(g => g.Kind == GrantKind.Share && g.Runs.Any(r => h.Memory.Stage2.TryGetEntry(Page + ((ulong)i * 0x1000), out var e) && e.PhysicalPage >= r.PhysicalPage && e.PhysicalPage < r.PhysicalPage + r.Pages));
                        if (readable != (!lentAway || shared))
                        {
                            failure = $"step {step}: page {i} readable {readable}, lent away {lentAway}";
                        }
                    }
                }
            },
            static async g => await new GunyahCaller(g.Conduit).YieldAsync());

        failure.ShouldBeNull();
        steps.ShouldBe(300);
        succeeded.ShouldBeGreaterThan(20);
    }
}
