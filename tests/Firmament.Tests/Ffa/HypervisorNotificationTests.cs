using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Ffa;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

/// <summary>The hypervisor's own notification bookkeeping at the SPMC: bitmaps made at boot, released with the VM.</summary>
public sealed class HypervisorNotificationTests
{
    [Fact]
    public void Boot_CreatesABitmapAtTheSpmcForEveryVm_WithItsVcpuCount()
    {
        var platform = Rig.Run(PlatformRoles.HypervisorAndSpmc, 2,
            Rig.Vm("vm1", 1, null) with { VcpuCount = 2 },
            Rig.Vm("vm2", 2, null),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));

        platform.Hypervisor!.SpmcNotifications.ShouldBeTrue();
        platform.Spmc!.NotificationsOf(new EndpointId(1))!.VcpuCount.ShouldBe(2);
        platform.Spmc.NotificationsOf(new EndpointId(2))!.VcpuCount.ShouldBe(1);
        platform.Spmc.CallsByFunction[(int)FfaFunction.NotificationBitmapCreate - 0x60].ShouldBe(2);
    }

    [Fact]
    public void DestroyVm_TakesWhatIsPending_UnbindsWhatItBound_AndDestroysItsBitmap()
    {
        var platform = Rig.Run(PlatformRoles.HypervisorAndSpmc, 1,
            Rig.Vm("vm1", 1, async c =>
            {
                var bind = default(RegisterFrame);
                new NotificationBind(new SenderReceiver(new EndpointId(0x8001), new EndpointId(1)), NotificationBindFlags.None, new NotificationBitmap(0x30)).Encode(ref bind);
                Rig.ErrorOf(await c.CallAsync(bind)).ShouldBeNull();
                var request = RegisterFrame.Of(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, global::Firmament.Endpoints.Samples.SecurePartitions.NotifyMe, 4);
                (await c.CallAsync(request)).X4.ShouldBe(0UL);
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));

        var atSpmc = platform.Spmc!.NotificationsOf(new EndpointId(1))!;
        atSpmc.AnyPending().ShouldBeTrue();
        atSpmc.Bindings(SenderClass.Sp).Bound.ShouldBe(0x30UL);

        platform.Hypervisor!.DestroyVm(new EndpointId(1)).ShouldBeTrue();
        platform.Run();

        platform.Spmc.NotificationsOf(new EndpointId(1)).ShouldBeNull();
        platform.Hypervisor.NotificationsOf(new EndpointId(1)).ShouldBeNull();
        platform.Spmc.ErrorsByCode[-(int)FfaError.Denied].ShouldBe(0);
    }
}
