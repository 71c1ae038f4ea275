using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Endpoints.Driver;
using Firmament.Ffa;
using Firmament.Scenarios;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;
using Samples = global::Firmament.Endpoints.Samples.SecurePartitions;

namespace Firmament.Tests.Endpoints;

/// <summary>
/// The driver's notifier, used as a host (the kernel: physical endpoint, SRI) and as a guest (a VM: NPI) with the
/// same code — the role comes from FEATURES at probe.
/// </summary>
public sealed class NotifierTests
{
    private const PartitionProperties NotifiedSp = Rig.SpDefaults | PartitionProperties.ReceivesNotifications;

    [Fact]
    public void AsTheKernel_ItCreatesItsBitmap_HandlesTheSri_AndRunsTheCallbackOnce()
    {
        var seen = new List<(int Id, bool FromSp)>();
        FfaDriver? driver = null;
        var platform = Rig.Run(PlatformRoles.KernelAndSpmc, 1,
            Rig.Kernel(async c =>
            {
                (_, driver) = await FfaDriver.ProbeAsync(c);
                var sp = driver!.Device(new EndpointId(0x8001))!;
                (await driver.Notify.RequestAsync(sp.Id, perVcpu: false, 4, (id, fromSp, _) => seen.Add((id, fromSp)))).IsOk.ShouldBeTrue();
                var asked = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(Samples.NotifyMe, 4, 0, 0, 0));
                asked.IsOk.ShouldBeTrue();
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp, properties: NotifiedSp));

        driver!.Notify.OwnBitmap.ShouldBeTrue();
        driver.Notify.ScheduleReceiverInterrupt.ShouldBe(8);
        driver.Notify.NotificationPendingInterrupt.ShouldBeNull();
        seen.ShouldBe([(4, true)]);
        driver.Notify.Counts.ShouldBe((1L, 0L, 1L));
        platform.Spmc!.NotificationsOf(EndpointId.Hypervisor)!.AnyPending().ShouldBeFalse();
    }

    [Fact]
    public void AsAGuest_ItHasNoBitmapOfItsOwn_AndItsNpiHandlerTakesAVmsNotification()
    {
        var seen = new List<(int Id, bool FromSp)>();
        FfaDriver? receiver = null, sender = null;
        var bound = false;
        Rig.Run(PlatformRoles.HypervisorAndSpmc, 2,
            Rig.Vm("vm1", 1, async c =>
            {
                (_, sender) = await FfaDriver.ProbeAsync(c);
                while (!bound)
                {
                    await c.Call(Rig.Id32(FfaFunction.IdGet)); // until vm2 has bound the ID
                }

                (await sender!.Notify.SendAsync(new EndpointId(2), perVcpu: false, 9)).IsOk.ShouldBeTrue();
            }),
            Rig.Vm("vm2", 2, async c =>
            {
                (_, receiver) = await FfaDriver.ProbeAsync(c);
                (await receiver!.Notify.RequestAsync(new EndpointId(1), perVcpu: false, 9, (id, fromSp, _) => seen.Add((id, fromSp)))).IsOk.ShouldBeTrue();
                bound = true;
                await c.Interrupts!.WaitForInterruptAsync();
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp, properties: NotifiedSp));

        receiver!.Notify.OwnBitmap.ShouldBeFalse();
        receiver.Notify.NotificationPendingInterrupt.ShouldBe(5);
        receiver.Notify.ScheduleReceiverInterrupt.ShouldBeNull(); // vm1, the primary VM, is the scheduler
        sender!.Notify.ScheduleReceiverInterrupt.ShouldBe(8);
        seen.ShouldBe([(9, false)]);
        receiver.Notify.Counts.Npi.ShouldBe(1);
    }

    [Fact]
    public void TheSchedulerAsksAPartitionsScheduleReceiverCallback_InsteadOfRunningItItself()
    {
        var scheduled = new List<(EndpointId Partition, ushort Vcpu, bool PerVcpu)>();
        var platform = Rig.Run(PlatformRoles.KernelAndSpmc, 1,
            Rig.Kernel(async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                var sp = driver!.Device(new EndpointId(0x8001))!;
                driver.Notify.SchedRecvCallbackRegister(sp.Id, async (partition, vcpu, perVcpu) =>
                {
                    scheduled.Add((partition, vcpu, perVcpu));
                    await driver.Cpu.RunAsync(partition, vcpu);
                }).IsOk.ShouldBeTrue();
                driver.Notify.SchedRecvCallbackRegister(sp.Id, (_, _, _) => default).Error.ShouldBe(FfaError.Denied);
                var theirs = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(Samples.BindFromMe, 6, 0, 0, 0));
                theirs[4].ShouldBe(0UL);
                (await driver.Notify.SendAsync(sp.Id, perVcpu: false, 6)).IsOk.ShouldBeTrue();
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp, properties: NotifiedSp));

        scheduled.ShouldBe([(new EndpointId(0x8001), (ushort)0, false)]);
        platform.Console.ShouldContain(static l => l.Partition == "sp1" && l.Text == "NPI: notifications from SPs 0x0, from VMs 0x40");
        platform.Spmc!.NotificationsOf(new EndpointId(0x8001))!.AnyPending().ShouldBeFalse();
    }

    [Fact]
    public void Relinquish_UnbindsTheId_SoTheSendersNextSetIsDenied()
    {
        FfaStatus again = default;
        var platform = Rig.Run(PlatformRoles.KernelAndSpmc, 1,
            Rig.Kernel(async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                var sp = driver!.Device(new EndpointId(0x8001))!;
                (await driver.Notify.RequestAsync(sp.Id, perVcpu: false, 1, static (_, _, _) => { })).IsOk.ShouldBeTrue();
                (await driver.Notify.RequestAsync(sp.Id, perVcpu: false, 1, static (_, _, _) => { })).Error.ShouldBe(FfaError.InvalidParameters);
                (await driver.Notify.RelinquishAsync(sp.Id, 1)).IsOk.ShouldBeTrue();
                (await driver.Notify.RelinquishAsync(sp.Id, 1)).Error.ShouldBe(FfaError.InvalidParameters);
                var asked = await driver.Messaging.SyncSendReceiveAsync(sp, new DirectMessagePayload(Samples.NotifyMe, 1, 0, 0, 0));
                again = asked.IsOk ? new FfaStatus((FfaError)(int)(uint)asked[4]) : asked.Status;
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp, properties: NotifiedSp));

        again.Error.ShouldBe(FfaError.Denied);
        platform.Spmc!.NotificationsOf(EndpointId.Hypervisor)!.Bindings(SenderClass.Sp).Bound.ShouldBe(0UL);
    }

    [Fact]
    public void AHandlerThatThrows_AbortsItsPartitionOnly()
    {
        var bound = false;
        FfaStatus sent = default;
        var platform = Rig.Run(PlatformRoles.HypervisorAndSpmc, 2,
            Rig.Vm("vm1", 1, async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                while (!bound)
                {
                    await c.Call(Rig.Id32(FfaFunction.IdGet));
                }

                sent = await driver!.Notify.SendAsync(new EndpointId(2), perVcpu: false, 0);
                c.Log("sender goes on");
            }),
            Rig.Vm("vm2", 2, async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                await driver!.Notify.RequestAsync(new EndpointId(1), perVcpu: false, 0, static (_, _, _) => throw new InvalidOperationException("bad callback"));
                bound = true;
                await c.Interrupts!.WaitForInterruptAsync();
            }));

        sent.IsOk.ShouldBeTrue();

        platform["vm2"].IsAborted.ShouldBeTrue();
        platform["vm2"].AbortReason!.ShouldContain("bad callback");
        platform["vm1"].IsAborted.ShouldBeFalse();
        platform.Console.ShouldContain(static l => l.Text == "sender goes on");
    }
}
