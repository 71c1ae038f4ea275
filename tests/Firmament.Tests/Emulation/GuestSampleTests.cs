using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Driver;
using Firmament.Scenarios;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Emulation;

/// <summary>
/// The C samples that use notifications and memory sharing (guests/samples/notify-sp.c, borrower-sp.c), driven by a
/// managed primary VM through the endpoint driver.
/// </summary>
public class GuestSampleTests
{
    private const PartitionProperties NotifiedSp = Rig.SpDefaults | PartitionProperties.ReceivesNotifications;

    [Fact]
    public void NotifySp_BindsAtBoot_AndLogsTheBitsTheVmSet_AfterThePrimaryVmRunsItOnTheSri()
    {
        FfaStatus sent = default;
        DirectResponse echoed = default;
        FfaDriver? driver = null;
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                (_, driver) = await FfaDriver.ProbeAsync(c);
                sent = await driver!.Notify.SendAsync(new EndpointId(0x8001), perVcpu: false, 5);
                echoed = await driver.Messaging.SyncSendReceiveAsync(driver.Device(new EndpointId(0x8001))!, new DirectMessagePayload(0xEC40, 1, 2, 3, 4));
            }),
            Guests.Sp("notify", 0x8001, "notify-sp", 1, 0x60) with { Properties = NotifiedSp });

        sent.IsOk.ShouldBeTrue();
        driver!.Notify.Counts.Sri.ShouldBe(1);
        var lines = platform.Console.Where(static l => l.Partition == "notify").Select(static l => l.Text).ToList();
        lines.ShouldBe(["notify-sp: bind 0x60 from 0x1: 0", "notify-sp: got vm 0x20 sp 0x0 framework 0x0"]);
        echoed.IsOk.ShouldBeTrue();
        echoed[3].ShouldBe(0xEC40UL);
        echoed[7].ShouldBe(4UL);
        platform["notify"].IsAborted.ShouldBeFalse();
        platform.Spmc!.NotificationsOf(new EndpointId(0x8001))!.AnyPending().ShouldBeFalse();
    }

    [Fact]
    public void NotifySp_UnderAKernelAndAnSpmc_TheKernelsSriHandlerRunsIt_AndItLogsTheKernelsBits()
    {
        FfaStatus sent = default;
        FfaDriver? driver = null;
        var platform = Rig.Run(PlatformRoles.KernelAndSpmc, 1,
            Rig.Kernel(async c =>
            {
                (_, driver) = await FfaDriver.ProbeAsync(c);
                sent = await driver!.Notify.SendAsync(new EndpointId(0x8001), perVcpu: false, 6);
            }),
            Guests.Sp("notify", 0x8001, "notify-sp", 0, 0x60) with { Properties = NotifiedSp });

        sent.IsOk.ShouldBeTrue();
        driver!.Notify.Counts.Sri.ShouldBe(1);
        platform.Console.Where(static l => l.Partition == "notify").Select(static l => l.Text)
            .ShouldBe(["notify-sp: bind 0x60 from 0x0: 0", "notify-sp: got vm 0x40 sp 0x0 framework 0x0"]);
        platform.Spmc!.NotificationsOf(new EndpointId(0x8001))!.AnyPending().ShouldBeFalse();
    }

    [Fact]
    public void NotifySp_ANotificationFromAVmItDidNotBind_IsDenied_AndNothingIsLogged()
    {
        FfaStatus sent = default;
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                sent = await driver!.Notify.SendAsync(new EndpointId(0x8001), perVcpu: false, 7); // bit 7 is not bound
            }),
            Guests.Sp("notify", 0x8001, "notify-sp", 1, 0x60) with { Properties = NotifiedSp });

        sent.Error.ShouldBe(FfaError.Denied);
        platform.Console.Where(static l => l.Partition == "notify").Select(static l => l.Text).ShouldBe(["notify-sp: bind 0x60 from 0x1: 0"]);
    }

    private const ulong ReadAndSum = 1;
    private const ulong TouchLast = 2;

    /// <summary>vm1 shares the first page of its RAM (bytes 0, 1, … 255 repeated) with the borrower and asks it to sum it.</summary>
    private static (FfaStatus Share, DirectResponse Answer, DirectResponse? Touch, FfaStatus Reclaim, ulong Page) ShareAndAsk(out Platform platform, bool touchAfter)
    {
        (FfaStatus, DirectResponse, DirectResponse?, FfaStatus, ulong) result = default;
        platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                var page = c.Memory.Stage2.Entries().First().Key << 12;
                var bytes = Enumerable.Range(0, 4096).Select(static i => (byte)i).ToArray();
                c.Memory.TryWrite(page, bytes, out _);
                var (status, handle) = await driver!.Memory.ShareAsync(
                    [new EndpointMemoryAccess(new EndpointId(0x8001), MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified))],
                    [new MemoryRegionConstituent(page, 1)]);
                var sp = driver.Device(new EndpointId(0x8001))!;
                var answer = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(ReadAndSum, handle.Value, 1, 0, 0));
                DirectResponse? touch = touchAfter ? await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(TouchLast, 0, 0, 0, 0)) : null;
                result = (status, answer, touch, await driver.Memory.ReclaimAsync(handle), page);
            }),
            Guests.Sp("borrower", 0x8001, "borrower-sp"));
        return result;
    }

    [Fact]
    public void BorrowerSp_RetrievesAVmsPage_SumsItsBytes_Relinquishes_AndTheVmReclaims()
    {
        var (share, answer, _, reclaim, _) = ShareAndAsk(out var platform, touchAfter: false);

        share.IsOk.ShouldBeTrue();
        answer.IsOk.ShouldBeTrue();
        answer[3].ShouldBe(ReadAndSum);
        answer[4].ShouldBe(0UL);                    // retrieve, RX release and relinquish all succeeded
        answer[5].ShouldBe(16UL * (255 * 256 / 2)); // 0 + 1 + … + 255, sixteen times
        answer[6].ShouldBe(4096UL);
        reclaim.IsOk.ShouldBeTrue();
        platform.Console.ShouldContain(static l => l.Partition == "borrower" && l.Text == "borrower-sp: RXTX_MAP 0");
        platform["borrower"].IsAborted.ShouldBeFalse();
        platform.Spmc!.SharedMemory.ShouldBeEmpty();
        platform.Pages.CheckInvariants().ShouldBeNull();
    }

    [Fact]
    public void BorrowerSp_TouchingThePageAfterRelinquish_IsAContainedFault_AndTheVmStillReclaims()
    {
        var (share, answer, touch, reclaim, _) = ShareAndAsk(out var platform, touchAfter: true);

        share.IsOk.ShouldBeTrue();
        answer[4].ShouldBe(0UL);
        touch.ShouldNotBeNull();
        touch.Value.Status.Error.ShouldBe(FfaError.Aborted);
        platform["borrower"].IsAborted.ShouldBeTrue();
        var report = Guests.Backend(platform["borrower"]).Fault.ShouldNotBeNull();
        report.Reason.ShouldBe($"stage-2 translation fault at IPA 0x{answer[7]:X} (Read)"); // the page it had borrowed
        reclaim.IsOk.ShouldBeTrue();
        platform.Spmc!.SharedMemory.ShouldBeEmpty();
        platform.Pages.CheckInvariants().ShouldBeNull();
    }
}
