using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Gunyah;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Gunyah;

/// <summary>The hypervisor objects on their own: cspace IDs and lookups, queue and doorbell state against simple models.</summary>
public class ObjectTests
{
    [Fact]
    public void CapIds_AreDeterministicPerSeed_AndTheSameObjectHasUnrelatedIdsInTwoVms()
    {
        CapId Id(ulong seed, string vm)
        {
            var platform = Platform.Build(Describe(seed));
            platform.TryGetCap(vm, "q", out var cap).ShouldBeTrue();
            return cap;
        }

        Id(7, "vm1").ShouldBe(Id(7, "vm1"));
        Id(7, "vm1").ShouldNotBe(Id(8, "vm1"));
        Id(7, "vm1").ShouldNotBe(Id(7, "vm2"));
        var p = Platform.Build(Describe(7));
        p.TryGetCap("vm1", "q", out var send);
        p.TryGetCap("vm2", "q", out var receive);
        var vm1 = p.Gunyah!.Vm(1)!.Cspace;
        var vm2 = p.Gunyah!.Vm(2)!.Cspace;
        vm1.TryGet(send, out var a).ShouldBe(GunyahError.Ok);
        vm2.TryGet(receive, out var b).ShouldBe(GunyahError.Ok);
        a.Object.ShouldBeSameAs(b.Object);
        (a.Rights, b.Rights).ShouldBe(((uint)MsgqueueRights.Send, (uint)MsgqueueRights.Receive));
        vm2.TryGet(send, out _).ShouldNotBe(GunyahError.Ok); // vm1's ID means nothing in vm2's cspace
    }

    [Fact]
    public void Lookup_ChecksStateThenTypeThenRights()
    {
        var cspace = new Cspace("t", 1);
        var doorbell = new Doorbell("d");
        cspace.Add(doorbell, (uint)DoorbellRights.Send, master: false, out var cap).ShouldBe(GunyahError.Ok);
        cspace.Lookup<Msgqueue>(cap.Id, GunyahObjectType.Msgqueue, (uint)MsgqueueRights.Receive, out _).ShouldBe(GunyahError.CspaceWrongObjectType);
        cspace.Lookup<Doorbell>(cap.Id, GunyahObjectType.Doorbell, (uint)DoorbellRights.Receive, out _).ShouldBe(GunyahError.CspaceInsufficientRights);
        cspace.Lookup<Doorbell>(cap.Id, GunyahObjectType.Doorbell, (uint)DoorbellRights.Send, out var found).ShouldBe(GunyahError.Ok);
        found.ShouldBeSameAs(doorbell);
        cap.State = CapState.Revoked;
        cspace.Lookup<Msgqueue>(cap.Id, GunyahObjectType.Msgqueue, (uint)MsgqueueRights.Receive, out _).ShouldBe(GunyahError.CspaceCapRevoked);
        cspace.Encode(5).ShouldNotBe(cap.Id);
        cspace.Lookup<Doorbell>(cspace.Encode(5), GunyahObjectType.Doorbell, 0, out _).ShouldBe(GunyahError.CspaceCapNull);
    }

    [Fact]
    public void Cspace_Full_IsCspaceFull_AndRandomIdsNeverThrow()
    {
        var cspace = new Cspace("t", 3, maxCaps: 2);
        cspace.Add(new Doorbell("a"), 1, false, out _).ShouldBe(GunyahError.Ok);
        cspace.Add(new Doorbell("b"), 1, false, out _).ShouldBe(GunyahError.Ok);
        cspace.Add(new Doorbell("c"), 1, false, out _).ShouldBe(GunyahError.CspaceFull);
        cspace.Count.ShouldBe(2);
        var random = new DeterministicRandom(42);
        for (var i = 0; i < 10_000; i++)
        {
            var id = new CapId(random.NextUInt64());
            cspace.TryGet(id, out _).ShouldBeOneOf(GunyahError.ArgumentInvalid, GunyahError.CspaceCapNull, GunyahError.Ok);
        }
    }

    [Fact]
    public void Msgqueue_RandomSendsAndReceives_BehaveAsABoundedFifo()
    {
        var queue = new Msgqueue("q");
        queue.Configure(new MsgqueueCreateInfo(5, 32)).ShouldBe(GunyahError.Ok);
        queue.ActivateDetached();
        var model = new Queue<byte[]>();
        var random = new DeterministicRandom(9);
        var buffer = new byte[32];
        for (var step = 0; step < 5_000; step++)
        {
            if (random.Next(2) == 0)
            {
                var message = new byte[random.Next(32) + 1];
                message[0] = (byte)step;
                var error = queue.Send(message, push: false, out var notFull);
                if (model.Count == 5)
                {
                    error.ShouldBe(GunyahError.MsgqueueFull);
                }
                else
                {
                    error.ShouldBe(GunyahError.Ok);
                    model.Enqueue(message);
                    notFull.ShouldBe(model.Count < 5);
                }
            }
            else
            {
                var error = queue.Receive(buffer, out var size, out var notEmpty);
                if (model.Count == 0)
                {
                    error.ShouldBe(GunyahError.MsgqueueEmpty);
                }
                else
                {
                    error.ShouldBe(GunyahError.Ok);
                    var expected = model.Dequeue();
                    buffer.AsSpan(0, size).ToArray().ShouldBe(expected);
                    notEmpty.ShouldBe(model.Count > 0);
                }
            }

            queue.Count.ShouldBe(model.Count);
        }
    }

    [Fact]
    public void Msgqueue_LargestShape_255By1023_Works()
    {
        var queue = new Msgqueue("big");
        queue.Configure(new MsgqueueCreateInfo(255, 1023)).ShouldBe(GunyahError.Ok);
        queue.ActivateDetached();
        for (var i = 0; i < 255; i++)
        {
            queue.Send(new byte[1023], push: false, out _).ShouldBe(GunyahError.Ok);
        }

        queue.Send(new byte[1], push: false, out var notFull).ShouldBe(GunyahError.MsgqueueFull);
        notFull.ShouldBeFalse();
        queue.Send(new byte[1024], push: false, out _).ShouldBe(GunyahError.ArgumentSize);
    }

    [Fact]
    public void Doorbell_RandomOperations_MatchTheFlagModel()
    {
        var doorbell = new Doorbell("d");
        var random = new DeterministicRandom(5);
        ulong flags = 0, enable = ulong.MaxValue, ack = 0;
        for (var step = 0; step < 5_000; step++)
        {
            var value = random.NextUInt64() & 0xFF;
            switch (random.Next(4))
            {
                case 0:
                    doorbell.Send(value).ShouldBe(flags);
                    flags |= value;
                    if ((flags & enable) != 0)
                    {
                        flags &= ~ack;
                    }

                    break;
                case 1:
                    var error = doorbell.Receive(value, out var old);
                    error.ShouldBe(value == 0 ? GunyahError.ArgumentInvalid : GunyahError.Ok);
                    old.ShouldBe(flags);
                    flags &= ~value;
                    break;
                case 2:
                    var newEnable = random.NextUInt64() & 0xFF;
                    var was = (flags & enable) != 0;
                    doorbell.Mask(newEnable, value);
                    if ((flags & newEnable) != 0)
                    {
                        flags &= ~value;
                    }

                    _ = was;
                    (enable, ack) = (newEnable, value);
                    break;
                default:
                    if (random.Next(8) == 0)
                    {
                        doorbell.Reset();
                        (flags, enable, ack) = (0, ulong.MaxValue, 0);
                    }

                    break;
            }

            (doorbell.Flags, doorbell.EnableMask, doorbell.AckMask).ShouldBe((flags, enable, ack));
        }
    }

    [Fact]
    public void Hypercalls_MsgqueueAndDoorbellRoundTrips_AllocateNothing()
    {
        var platform = Platform.Build(Describe(0));
        var gunyah = platform.Gunyah!;
        var vm1 = platform["vm1"].Vcpus[0];
        var vm2 = platform["vm2"].Vcpus[0];
        platform.TryGetCap("vm1", "q", out var tx);
        platform.TryGetCap("vm2", "q", out var rx);
        platform.TryGetCap("vm1", "bell", out var ring);
        platform.TryGetCap("vm2", "bell", out var bell);
        var send = default(RegisterFrame);
        new MsgqueueSend(tx, 240, 0x4000_0000, MsgqueueSendOptions.None).Encode(ref send, GunyahConvention.Smccc);
        var receive = default(RegisterFrame);
        new MsgqueueReceive(rx, 0x4000_1000, 240).Encode(ref receive, GunyahConvention.Smccc);
        var ding = default(RegisterFrame);
        new DoorbellSend(ring, 1).Encode(ref ding, GunyahConvention.Smccc);
        var take = default(RegisterFrame);
        new DoorbellReceive(bell, ulong.MaxValue).Encode(ref take, GunyahConvention.Smccc);

        var wrong = 0;
        void Round()
        {
            var f = send;
            gunyah.Call(vm1, ref f);
            wrong += f.X0 == 0 ? 0 : 1;
            f = receive;
            gunyah.Call(vm2, ref f);
            wrong += f.X1 == 240 ? 0 : 1;
            f = ding;
            gunyah.Call(vm1, ref f);
            f = take;
            gunyah.Call(vm2, ref f);
            wrong += f.X1 == 1 ? 0 : 1;
        }

        for (var i = 0; i < 1_000; i++)
        {
            Round();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20_000; i++)
        {
            Round();
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
        wrong.ShouldBe(0);
    }

    [Fact]
    public void RmRoundTrip_OverTheLink_AllocatesNothing()
    {
        var platform = Platform.Build(Describe(0));
        var gunyah = platform.Gunyah!;
        var vm1 = platform["vm1"].Vcpus[0];
        platform.TryGetCap("vm1", "rm-tx", out var tx);
        platform.TryGetCap("vm1", "rm-rx", out var rx);
        platform["vm1"].Memory.TryWrite(0x4000_2000, [0x21, 0x01, 0x00, 0x00, 0x24, 0x00, 0x00, 0x56], out _).ShouldBeTrue();
        var send = default(RegisterFrame);
        new MsgqueueSend(tx, 8, 0x4000_2000, MsgqueueSendOptions.Push).Encode(ref send, GunyahConvention.Smccc);
        var receive = default(RegisterFrame);
        new MsgqueueReceive(rx, 0x4000_3000, 240).Encode(ref receive, GunyahConvention.Smccc);

        var wrong = 0;
        void Round()
        {
            var f = send;
            gunyah.Call(vm1, ref f);
            f = receive;
            gunyah.Call(vm1, ref f);
            wrong += f.X1 == 16 ? 0 : 1;
        }

        for (var i = 0; i < 1_000; i++)
        {
            Round();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20_000; i++)
        {
            Round();
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
        wrong.ShouldBe(0);
        platform.ResourceManager!.Link(1)!.Requests.ShouldBe(21_000);
    }

    internal static PlatformDescription Describe(ulong seed) => GunyahRig.Describe(
        new GunyahPlatform
        {
            Primary = "vm1",
            Msgqueues = [new GunyahMsgqueueSpec("q", "vm1", "vm2", 8, 240)],
            Doorbells = [new GunyahDoorbellSpec("bell", ["vm1"], "vm2")],
        },
        1,
        GunyahRig.Vm("vm1", 1, null),
        GunyahRig.Vm("vm2", 2, null)) with { Seed = seed };
}
