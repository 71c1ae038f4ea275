using System.Buffers.Binary;
using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;
using Firmament.Endpoints.Gunyah;
using Firmament.Gunyah;
using Firmament.Machine;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Gunyah;

/// <summary>Proxy scheduling: the host runs a guest's vCPU with vcpu_run and sees each run state and exit.</summary>
public class VcpuRunTests
{
    [Fact]
    public void VcpuRun_GuestYields_ReturnsReadyAndResumesWhereItStopped()
    {
        var states = new List<VcpuRunState>();
        var guestSteps = 0;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, _, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                for (var i = 0; i < 4; i++)
                {
                    states.Add((await loader.RunAsync(vm)).Run.State);
                }
            },
            async guest =>
            {
                var hyp = new GunyahCaller(guest.Conduit);
                for (var i = 0; i < 3; i++)
                {
                    guestSteps++;
                    (await hyp.YieldAsync()).ShouldBe(GunyahError.Ok);
                }
            });

        guestSteps.ShouldBe(3);
        states.ShouldBe([VcpuRunState.Ready, VcpuRunState.Ready, VcpuRunState.Ready, VcpuRunState.PoweredOff]);
    }

    [Fact]
    public void VcpuRun_GuestCodeEnds_PoweredOffExitedAndVmExitedPlatformOff()
    {
        VcpuExit exit = default;
        RmVmState state = default;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                exit = await loader.RunAsync(vm);
                (_, state, _, _) = await rm.GetStateAsync(vm.Vmid);
            },
            static _ => ValueTask.CompletedTask);

        exit.Reason.ShouldBe(VcpuExitReason.Exited);
        exit.Run.State.ShouldBe(VcpuRunState.PoweredOff);
        exit.Run.StateData0.ShouldBe(1UL); // exited: cannot run until the VM is reset
        exit.ExitType.ShouldBe((ushort)VmExitType.PlatformOff);
        state.ShouldBe(RmVmState.Exited);
    }

    [Fact]
    public void VcpuRun_GuestFaults_FaultAndVmExitedSoftwareError()
    {
        VcpuExit exit = default;
        var platform = GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, _, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                exit = await loader.RunAsync(vm);
                await loader.Rm.PollAsync();
            },
            static _ => throw new InvalidOperationException("guest crash"));

        exit.Reason.ShouldBe(VcpuExitReason.Crashed);
        exit.Run.State.ShouldBe(VcpuRunState.Fault);
        platform.ResourceManager!.Record(0x80)!.State.ShouldBe(RmVmState.Exited);
        platform.Partitions.Single(p => p.Name.StartsWith("guest", StringComparison.Ordinal)).IsAborted.ShouldBeTrue();
    }

    [Fact]
    public void VcpuRun_GuestSuspends_ExpectsWakeupUntilAnInterruptArrives()
    {
        var runs = new List<VcpuRunResult>();
        uint wakeupVirq = 0;
        var resumed = false;
        var platform = GunyahRig.HostAndGuest(
            async host =>
            {
                var (hyp, _, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                runs.Add((await loader.RunAsync(vm)).Run); // the guest suspends
                runs.Add((await loader.RunAsync(vm)).Run); // still asleep: answered at once
                var vcpu = vm.Resources.Single(r => r.Type == RmResourceTypes.VirtualCpu);
                var ring = new DoorbellClient(hyp, vm.CapOf(RmResourceTypes.DoorbellSource));
                (await ring.RingAsync(1)).Error.ShouldBe(GunyahError.Ok); // the guest's doorbell VIRQ wakes it
                wakeupVirq = vcpu.Virq;
                runs.Add((await loader.RunAsync(vm)).Run);
            },
            async guest =>
            {
                var frame = RegisterFrame.Of(Psci.CpuSuspend64, 0x1234);
                var answer = await guest.CallAsync(frame);
                answer.X0.ShouldBe(0UL); // PSCI SUCCESS when woken
                resumed = true;
            });

        runs[0].State.ShouldBe(VcpuRunState.ExpectsWakeup);
        (runs[0].StateData0, runs[0].StateData1).ShouldBe((0x1234UL, 2UL)); // power state, woken from PSCI_CPU_SUSPEND
        runs[1].State.ShouldBe(VcpuRunState.ExpectsWakeup);
        wakeupVirq.ShouldBeGreaterThanOrEqualTo(ResourceManager.FirstVirq);
        platform["host"].Vcpus[0].Interrupts.IsPending((int)wakeupVirq).ShouldBeTrue(); // VCPU_RUN_WAKEUP in the owner's VIC
        platform.Gunyah!.Vm(0x80)!.Threads[0].WakeupSource.Assertions.ShouldBe(2); // powered on by VM_START, woken by the doorbell
        resumed.ShouldBeTrue();
        runs[2].State.ShouldBe(VcpuRunState.PoweredOff);
    }

    [Fact]
    public void VcpuRun_SystemReset_ReportsPsciSystemReset()
    {
        VcpuRunResult run = default;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, _, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                run = (await loader.RunAsync(vm)).Run;
            },
            async guest => await guest.CallAsync(RegisterFrame.Of(Psci.SystemReset)));

        run.State.ShouldBe(VcpuRunState.PsciSystemReset);
        new PsciResetType(run.StateData0).IsSystemReset.ShouldBeTrue();
    }

    [Fact]
    public void VcpuRun_BeforeStart_PoweredOffRecoverable_AndNotProxyOrSelfAreRefused()
    {
        VcpuRunResult beforeStart = default;
        GunyahError self = default;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (hyp, rm, loader) = GunyahRig.Connect(host);
                var (_, vm) = await loader.CreateVmAsync();
                await loader.SetImageAsync(vm!, 0);
                (await rm.InitAsync(vm!.Vmid)).ShouldBe(RmError.Ok);
                var (_, resources) = await rm.GetHypResourcesAsync(vm.Vmid);
                beforeStart = await hyp.VcpuRunAsync(resources.Single(r => r.Type == RmResourceTypes.VirtualCpu).Cap);
                self = (await hyp.VcpuRunAsync(new CapId(0x1234))).Error;
            },
            static _ => ValueTask.CompletedTask);

        beforeStart.Error.ShouldBe(GunyahError.Ok);
        beforeStart.State.ShouldBe(VcpuRunState.PoweredOff);
        beforeStart.StateData0.ShouldBe(0UL);
        self.ShouldBe(GunyahError.ArgumentInvalid);
    }

    [Fact]
    public void VcpuRun_OnAVcpuThatIsNotProxyScheduled_IsBusy_AndOnItself_IsArgumentInvalid()
    {
        var description = GunyahRig.Describe(new() { Primary = "vm1" }, 1, GunyahRig.Vm("vm1", 1, null, scripted: true), GunyahRig.Vm("vm2", 2, null, scripted: true));
        var platform = global::Firmament.Scenarios.Platform.Build(description);
        platform.Boot();
        platform.Run();
        var gunyah = platform.Gunyah!;
        var vm1 = gunyah.Vm(1)!;
        var other = ResourceManager.Grant(gunyah.Vm(2)!.Threads[0], vm1, (uint)(ThreadRights.Affinity | ThreadRights.YieldTo));
        var itself = ResourceManager.Grant(vm1.Threads[0], vm1, (uint)(ThreadRights.Affinity | ThreadRights.YieldTo));
        var weak = ResourceManager.Grant(gunyah.Vm(2)!.Threads[0], vm1, (uint)ThreadRights.Affinity);
        Call(platform, other).ShouldBe(GunyahError.Busy);
        Call(platform, itself).ShouldBe(GunyahError.ArgumentInvalid);
        Call(platform, weak).ShouldBe(GunyahError.CspaceInsufficientRights);

        static GunyahError Call(global::Firmament.Scenarios.Platform platform, CapId cap)
        {
            var frame = default(RegisterFrame);
            new VcpuRun(cap, 0, 0, 0).Encode(ref frame, GunyahConvention.Smccc);
            var vcpu = platform["vm1"].Vcpus[0];
            platform.Gunyah!.Call(vcpu, ref frame).ShouldBe(CallOutcome.Completed);
            return (GunyahError)(int)(long)frame.X0;
        }
    }

    [Fact]
    public void VmStop_Force_WhileGuestSleeps_ExitsItWithVmStopForced()
    {
        VcpuExit exit = default;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                (await loader.RunAsync(vm)).Reason.ShouldBe(VcpuExitReason.Sleeping);
                (await rm.StopAsync(vm.Vmid, force: true, reason: 9)).ShouldBe(RmError.Ok);
                exit = await loader.RunAsync(vm);
            },
            async guest => await guest.CallAsync(RegisterFrame.Of(Psci.CpuSuspend64, 0)));

        exit.Reason.ShouldBe(VcpuExitReason.Exited);
        (exit.ExitType, exit.ExitReason).ShouldBe(((ushort)VmExitType.VmStopForced, 9u));
    }

    [Fact]
    public void VmStop_NotForced_SendsTheGuestVmShutdown()
    {
        RmNotification? shutdown = null;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                (await rm.StopAsync(vm.Vmid, force: false, reason: 5)).ShouldBe(RmError.Ok);
                await loader.RunAsync(vm);
            },
            async guest =>
            {
                var info = GunyahRig.BootInfo(guest);
                var hyp = new GunyahCaller(guest.Conduit);
                var rm = new RmClient(new MsgqueueClient(hyp, guest.Memory, GunyahRig.Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap));
                await rm.PollAsync();
                rm.TakeNotification(out var n).ShouldBeTrue();
                shutdown = n;
            });

        shutdown.ShouldNotBeNull();
        shutdown.Id.ShouldBe(RmMessageId.VmShutdownNotification);
        BinaryPrimitives.ReadUInt32LittleEndian(shutdown.Payload).ShouldBe(5u);
    }
}
