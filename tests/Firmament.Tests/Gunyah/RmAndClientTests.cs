using System.Buffers.Binary;
using System.Text;
using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;
using Firmament.Endpoints.Gunyah;
using Firmament.Gunyah;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Gunyah;

/// <summary>The RM's lifecycle and console through the guest-side clients, and the clients' bounded waits.</summary>
public class RmAndClientTests
{
    [Fact]
    public void Loader_CreateRunExitDestroy_LeavesNothingBehind()
    {
        VcpuExit exit = default;
        RmError destroyed = default;
        var hostCapsBefore = -1;
        var hostCapsAfter = -1;
        Platform? platform = null;
        platform = GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                hostCapsBefore = CapCount();
                var vm = await GunyahRig.StartGuestAsync(loader);
                vm.Vmid.ShouldBe((ushort)ResourceManager.FirstDynamicVmid);
                exit = await loader.RunAsync(vm);
                destroyed = await loader.DestroyAsync(vm);
                hostCapsAfter = CapCount();
                (await rm.GetStateAsync(vm.Vmid)).Error.ShouldBe(RmError.VmidInvalid);
            },
            async guest =>
            {
                var info = GunyahRig.BootInfo(guest);
                var rm = new RmClient(new MsgqueueClient(new GunyahCaller(guest.Conduit), guest.Memory, GunyahRig.Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap));
                await rm.ExitAsync(exitFlags: 1, exitCode: 2);
                throw new InvalidOperationException("VM_EXIT returned to the guest");
            });

        exit.Reason.ShouldBe(VcpuExitReason.Exited);
        (exit.ExitType, exit.ExitReason).ShouldBe(((ushort)VmExitType.VmExit, 0x0002_0001u));
        destroyed.ShouldBe(RmError.Ok);
        hostCapsAfter.ShouldBe(hostCapsBefore);
        platform!.Gunyah!.Vm(0x80).ShouldBeNull();
        platform.TryGetPartition("guest80", out _).ShouldBeFalse();
        platform.Hypervisor!.Endpoint(new global::Firmament.Abi.Ffa.EndpointId(0x80)).ShouldBeNull();

        int CapCount() => GunyahRig.Current!.Gunyah!.Vm(3)!.Cspace.Count;
    }

    [Fact]
    public void Lifecycle_WrongStatesAndOwners_AreRefusedWithTheirRmErrors()
    {
        var errors = new List<RmError>();
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var (_, vm) = await loader.CreateVmAsync();
                var vmid = vm!.Vmid;
                errors.Add(await rm.InitAsync(vmid));          // LOAD: VM_STATE
                errors.Add(await rm.ResetAsync(vmid));         // LOAD: VM_STATE
                errors.Add(await rm.ConfigImageAsync(vmid, 0));
                errors.Add(await rm.ConfigImageAsync(vmid, 0)); // INIT: VM_STATE
                errors.Add(await rm.InitAsync(vmid));
                errors.Add(await rm.DeallocateAsync(vmid));    // READY: VM_STATE
                errors.Add(await rm.StopAsync(vmid, force: true)); // READY: VM_STATE
                errors.Add(await rm.StartAsync(vmid));
                errors.Add(await rm.StartAsync(vmid));         // RUNNING: VM_STATE
                errors.Add(await rm.ResetAsync(vmid));         // RUNNING: VM_STATE
                errors.Add(await rm.StopAsync(vmid, force: true));
                errors.Add(await rm.ResetAsync(vmid));
                errors.Add(await rm.DeallocateAsync(vmid));
                errors.Add(await rm.DeallocateAsync(vmid));    // gone: VMID_INVALID
            },
            static _ => ValueTask.CompletedTask);

        errors.ShouldBe([
            RmError.VmState, RmError.VmState, RmError.Ok, RmError.VmState, RmError.Ok, RmError.VmState, RmError.VmState,
            RmError.Ok, RmError.VmState, RmError.VmState, RmError.Ok, RmError.Ok, RmError.Ok, RmError.VmidInvalid,
        ]);
    }

    [Fact]
    public void Lifecycle_StatusNotifications_FollowTheStateChanges()
    {
        var statuses = new List<RmVmState>();
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                rm.Observer = n =>
                {
                    if (n.Id == RmMessageId.VmStatusNotification)
                    {
                        statuses.Add((RmVmState)n.Payload[4]);
                    }
                };
                var vm = await GunyahRig.StartGuestAsync(loader);
                await loader.RunAsync(vm);
                await loader.DestroyAsync(vm);
            },
            static _ => ValueTask.CompletedTask);

        statuses.ShouldBe([RmVmState.Running, RmVmState.Exited, RmVmState.Reset]);
    }

    [Fact]
    public void Console_BothWays_CarriesTheBytesWithTheSendersId()
    {
        string fromGuest = string.Empty;
        string toGuest = string.Empty;
        RmError guestDenied = default;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                var console = new GunyahConsole(rm, vm.Vmid);
                (await console.OpenAsync()).ShouldBe(RmError.Ok);
                (await console.WriteAsync("to guest")).ShouldBe(RmError.Ok); // dropped: the guest has not opened its side
                await loader.RunAsync(vm);                                  // the guest opens and writes, then yields
                (await console.WriteAsync("hello guest")).ShouldBe(RmError.Ok);
                await loader.RunAsync(vm);
                await rm.PollAsync();
                fromGuest = console.Read();
            },
            async guest =>
            {
                var info = GunyahRig.BootInfo(guest);
                var hyp = new GunyahCaller(guest.Conduit);
                var rm = new RmClient(new MsgqueueClient(hyp, guest.Memory, GunyahRig.Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap));
                var console = new GunyahConsole(rm);
                guestDenied = await console.WriteAsync("too early");
                await console.OpenAsync();
                await console.WriteAsync(new string('x', 300) + "|end");
                await hyp.YieldAsync();
                await rm.PollAsync();
                rm.TakeNotification(out var chars).ShouldBeTrue();
                BinaryPrimitives.ReadUInt16LittleEndian(chars.Payload).ShouldBe((ushort)0); // from the owner
                toGuest = Encoding.UTF8.GetString(chars.Payload, 4, chars.Payload.Length - 4);
            });

        guestDenied.ShouldBe(RmError.Denied);
        fromGuest.ShouldBe(new string('x', 300) + "|end");
        toGuest.ShouldBe("hello guest");
    }

    [Fact]
    public void RmRequest_SpanningThreePackets_IsReassembledAndItsNotificationFragmented()
    {
        string received = string.Empty;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                var console = new GunyahConsole(rm, vm.Vmid);
                await console.OpenAsync();
                await loader.RunAsync(vm);
                await rm.PollAsync();
                received = console.Read();
            },
            async guest =>
            {
                var info = GunyahRig.BootInfo(guest);
                var hyp = new GunyahCaller(guest.Conduit);
                var rm = new RmClient(new MsgqueueClient(hyp, guest.Memory, GunyahRig.Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap));
                await rm.ConsoleOpenAsync();
                var text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 60).Select(static i => $"{i:D2}......")));
                (await rm.ConsoleWriteAsync(0, text)).ShouldBe(RmError.Ok); // 4 + 540 bytes: three request packets
                await hyp.YieldAsync();
            });

        received.ShouldBe(string.Concat(Enumerable.Range(0, 60).Select(static i => $"{i:D2}......")));
    }

    [Fact]
    public void RmMessages_OfTheMaximumSize_63Packets_CrossBothWays_AndOneByteMoreIsRefused()
    {
        var text = string.Concat(Enumerable.Range(0, RmRpc.MaxPayload).Select(static i => (char)('a' + (i % 26))))[..(RmRpc.MaxPayload - 4)];
        var received = string.Empty;
        RmCallResult tooLong = default;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                var console = new GunyahConsole(rm, vm.Vmid);
                await console.OpenAsync();
                await loader.RunAsync(vm);
                await rm.PollAsync();
                received = console.Read();
            },
            async guest =>
            {
                var info = GunyahRig.BootInfo(guest);
                var hyp = new GunyahCaller(guest.Conduit);
                var rm = new RmClient(new MsgqueueClient(hyp, guest.Memory, GunyahRig.Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap));
                await rm.ConsoleOpenAsync();
                (await rm.ConsoleWriteAsync(0, Encoding.ASCII.GetBytes(text))).ShouldBe(RmError.Ok); // 14 616 bytes: 63 packets
                tooLong = await rm.CallAsync(RmMessageId.VmConsoleWrite, new byte[RmRpc.MaxPayload + 1], Memory<byte>.Empty);
                await hyp.YieldAsync();
            });

        received.Length.ShouldBe(RmRpc.MaxPayload - 4);
        received.ShouldBe(text);
        tooLong.Error.ShouldBe(RmError.MsgInvalid);
    }

    [Fact]
    public void RmNotifications_BeyondTheQueueDepth_WaitForRoomAndArriveInOrder()
    {
        var lines = string.Empty;
        GunyahRig.HostAndGuest(
            async host =>
            {
                var (_, rm, loader) = GunyahRig.Connect(host);
                var vm = await GunyahRig.StartGuestAsync(loader);
                var console = new GunyahConsole(rm, vm.Vmid);
                await console.OpenAsync();
                await loader.RunAsync(vm); // the guest writes 20 lines: the host's queue holds 8
                await rm.PollAsync();
                lines = console.Read();
            },
            async guest =>
            {
                var info = GunyahRig.BootInfo(guest);
                var hyp = new GunyahCaller(guest.Conduit);
                var console = new GunyahConsole(new RmClient(new MsgqueueClient(hyp, guest.Memory, GunyahRig.Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap)));
                await console.OpenAsync();
                for (var i = 0; i < 20; i++)
                {
                    await console.WriteAsync($"{i};");
                }

                await hyp.YieldAsync();
            });

        lines.ShouldBe(string.Concat(Enumerable.Range(0, 20).Select(static i => $"{i};")));
    }

    [Fact]
    public void BlockingSend_ToAPeerThatNeverReceives_GivesUpAfterItsBudget_OrWhenCancelled()
    {
        MsgqueueSendOutcome timedOut = default;
        MsgqueueSendOutcome cancelled = default;
        MsgqueueReceiveOutcome nothing = default;
        var description = GunyahRig.Describe(
            new GunyahPlatform { Msgqueues = [new GunyahMsgqueueSpec("q", "vm1", "vm2", Depth: 1, MaxMsgSize: 8)] },
            1,
            GunyahRig.Vm("vm1", 1, null),
            GunyahRig.Vm("vm2", 2, null));
        PlatformDescription? withProgram = null;
        withProgram = description with
        {
            Partitions =
            [
                description.Partitions[0] with
                {
                    Program = async context =>
                    {
                        var platform = GunyahRig.Current!;
                        platform.TryGetCap("vm1", "q", out var tx).ShouldBeTrue();
                        var client = new MsgqueueClient(new GunyahCaller(context.Conduit), context.Memory, GunyahRig.Ram + 0x1000, 8, tx, CapId.Invalid);
                        (await client.TrySendAsync(new byte[] { 1 })).Error.ShouldBe(GunyahError.Ok);
                        timedOut = await client.SendAsync(new byte[] { 2 }, push: false, new WaitBudget(50));
                        using var source = new CancellationTokenSource();
                        await source.CancelAsync();
                        cancelled = await client.SendAsync(new byte[] { 3 }, push: false, new WaitBudget(50), source.Token);
                        var reader = new MsgqueueClient(new GunyahCaller(context.Conduit), context.Memory, GunyahRig.Ram + 0x1000, 8, CapId.Invalid, tx);
                        nothing = await reader.ReceiveAsync(new byte[8], new WaitBudget(3));
                    },
                },
                description.Partitions[1],
            ],
        };
        GunyahRig.Current = Platform.Build(withProgram);
        GunyahRig.Current.Boot();
        GunyahRig.Current.Run();

        timedOut.ShouldBe(new MsgqueueSendOutcome(GunyahError.MsgqueueFull, false, WaitOutcome.TimedOut));
        cancelled.Wait.ShouldBe(WaitOutcome.Cancelled);
        nothing.Error.ShouldBe(GunyahError.CspaceInsufficientRights); // a SEND cap cannot receive: no waiting on an error
        nothing.Wait.ShouldBe(WaitOutcome.Done);
        GunyahRig.Current = null;
    }


    [Fact]
    public void NativeConvention_ClientRoundTrip_MatchesSmccc()
    {
        HypervisorIdentifyResult native = default;
        HypervisorIdentifyResult smccc = default;
        GunyahError vmid = default;
        GunyahRig.HostAndGuest(
            async host =>
            {
                native = await new GunyahCaller(host.Conduit, GunyahConvention.Native).IdentifyAsync();
                smccc = await new GunyahCaller(host.Conduit).IdentifyAsync();
                var (_, rm, _) = GunyahRig.Connect(host, GunyahConvention.Native);
                var (error, id) = await rm.GetVmidAsync();
                error.ShouldBe(RmError.Ok);
                id.ShouldBe((ushort)3);
                vmid = GunyahError.Ok;
            },
            static _ => ValueTask.CompletedTask);

        native.ShouldBe(smccc);
        native.ApiInfo.Variant.ShouldBe(HypervisorVariant.Gunyah);
        native.Flags0.Has(ApiFeatures.Msgqueue | ApiFeatures.Doorbell | ApiFeatures.VcpuRun).ShouldBeTrue();
        vmid.ShouldBe(GunyahError.Ok);
    }

    [Fact]
    public void DemoPlatform_RunsTheSameTwice_AndTheHostSeesTheGuestsWords()
    {
        string Run()
        {
            var platform = Platform.Build(PlatformLoader.Load(Firmament.Tests.Scenarios.TestFiles.Example("gunyah.yaml")), new global::Firmament.Machine.TraceRecorder { Enabled = true });
            platform.Boot();
            platform.Run();
            return TraceExport.ToText(platform) + string.Join('\n', platform.Console.Select(static c => c.Text));
        }

        var first = Run();
        first.ShouldContain("the guest answered 'pong (18 bytes received)'");
        first.ShouldContain("[guest console] hello from VM 0x80, created by VM 0x3");
        first.ShouldContain("reset and deallocated: OK");
        Run().ShouldBe(first);
    }
}
