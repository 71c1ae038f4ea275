using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;
using Samples = global::Firmament.Endpoints.Samples.SecurePartitions;

namespace Firmament.Tests.Ffa;

/// <summary>
/// No notification lost and none invented, under interleavings the seeded scheduler chooses: two VMs set IDs for a
/// two-vCPU VM (VM-to-VM, delivered by the hypervisor) and ask an SP to set others (SP-to-VM, through the SRI), on three
/// pCPUs under the random strategy, while the test takes the receiver's vCPUs offline and online between steps. The
/// receiver takes what its NPI brings with GET. Each ID is set exactly once (so the endpoints' own bookkeeping, which a
/// preemption may separate from the call it follows, cannot blame the platform for a legitimate second delivery):
/// a sender marks its ID outstanding before it sets it, and the receiver clears the mark when GET returns it. GET
/// returning an ID that is not outstanding is a phantom (invented, or delivered twice); an ID still outstanding when
/// everything has settled (all vCPUs online, nothing left to run) is lost.
/// </summary>
public sealed class NotificationInterleavingTests
{
    /// <summary>IDs each sender sets: half itself (VM-to-VM), half through the SP (SP-to-VM).</summary>
    private const int Sets = 16;

    public static TheoryData<ulong> Seeds()
    {
        var data = new TheoryData<ulong>();
        for (ulong seed = 1; seed <= 40; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void UnderAnySchedule_EveryIdSetIsTakenOnce_AndNothingIsInvented(ulong seed)
    {
        var outstanding = new bool[64];
        var phantoms = new List<int>();
        var taken = 0;
        var bound = false;
        var description = new PlatformDescription
        {
            Pcpus = 3,
            Seed = seed,
            Strategy = ScheduleStrategy.Random,
            Partitions =
            [
                Rig.Vm("vm1", 1, c => Sender(c, 1, 0, outstanding, () => bound, seed)),
                Rig.Vm("vm2", 2, c => Receiver(c, outstanding, phantoms, () => taken++, () => bound = true)) with { VcpuCount = 2 },
                Rig.Vm("vm3", 3, c => Sender(c, 3, 16, outstanding, () => bound, seed * 7)),
                Rig.Sp("sp1", 0x8001, Rig.EchoSp, properties: Rig.SpDefaults | PartitionProperties.ReceivesNotifications),
            ],
        };
        var platform = Platform.Build(description, new TraceRecorder { Enabled = false });
        platform.Boot();

        // Steps, with the receiver's vCPUs going offline and online at points the seed picks.
        var faults = new DeterministicRandom(seed ^ 0x5EED);
        var receiver = platform["vm2"];
        for (var step = 0; step < 20_000 && platform.Scheduler.Step(); step++)
        {
            if (faults.Next(8) == 0)
            {
                var vcpu = receiver.Vcpus[faults.Next(2)];
                platform.Hypervisor!.SetVcpuOnline(vcpu.Id, !vcpu.Online);
            }
        }

        foreach (var vcpu in receiver.Vcpus)
        {
            platform.Hypervisor!.SetVcpuOnline(vcpu.Id, true);
        }

        platform.Run();

        phantoms.ShouldBeEmpty($"seed {seed}: GET returned IDs nobody had set");
        Enumerable.Range(0, 64).Where(i => outstanding[i]).ShouldBeEmpty($"seed {seed}: set, never taken");
        taken.ShouldBeGreaterThan(0);
        platform.Hypervisor!.NotificationsOf(new EndpointId(2))!.AnyPending().ShouldBeFalse();
        platform.Spmc!.NotificationsOf(new EndpointId(2))!.AnyPending().ShouldBeFalse();
    }

    /// <summary>
    /// Sets each of the IDs <paramref name="first"/> .. +15 once, in a seeded order, for vm2: the first eight itself
    /// (VM-to-VM), the last eight by asking sp1 to set them (SP-to-VM), with busy work in between.
    /// </summary>
    private static async ValueTask Sender(EndpointContext c, ushort self, int first, bool[] outstanding, Func<bool> bound, ulong seed)
    {
        if (c.Vcpu.Index != 0)
        {
            return;
        }

        var random = new DeterministicRandom(seed);
        var order = Enumerable.Range(first, Sets).ToArray();
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        while (!bound())
        {
            await c.Call(Rig.Id32(FfaFunction.IdGet));
        }

        foreach (var id in order)
        {
            var viaSp = id - first >= Sets / 2;
            outstanding[id] = true; // before the SET: nobody can take it before it is set
            if (viaSp)
            {
                var request = default(RegisterFrame);
                new MsgSendDirectReq(true, new SenderReceiver(new EndpointId(self), new EndpointId(0x8001)), DirectMessageKind.Partition, new DirectMessagePayload(Samples.NotifyMe, (ulong)id, 0, 2, 0))
                    .Encode(ref request);
                var answer = await Rig.UntilNotBusy(() => c.CallAsync(request));
                Rig.ErrorOf(answer).ShouldBeNull();
                answer.X4.ShouldBe(0UL, $"sp1's SET of {id}");
            }
            else
            {
                var set = default(RegisterFrame);
                new NotificationSet(new SenderReceiver(new EndpointId(self), new EndpointId(2)), NotificationSetFlags.None, 0, NotificationBitmap.Of(id)).Encode(ref set);
                Rig.ErrorOf(await c.CallAsync(set)).ShouldBeNull();
            }

            for (var n = random.Next(4); n > 0; n--)
            {
                await c.Call(Rig.Id32(FfaFunction.IdGet));
            }
        }
    }

    /// <summary>vm2: vCPU 0 binds every ID (VMs 1 and 3, and sp1); each vCPU takes its NPI with GET and waits for the next.</summary>
    private static async ValueTask Receiver(EndpointContext c, bool[] outstanding, List<int> phantoms, Action onTaken, Action onBound)
    {
        var interrupts = c.Interrupts!;
        interrupts.Handle(5, async intid =>
        {
            var get = default(RegisterFrame);
            new NotificationGet(c.Vcpu.Index, c.Vcpu.Endpoint, NotificationGetFlags.All).Encode(ref get);
            var answer = await c.CallAsync(get);
            NotificationGetSuccess.TryDecode(answer, out var got, out _).ShouldBeTrue();
            for (var bits = got.SpBitmap.Bits | got.VmBitmap.Bits; bits != 0; bits &= bits - 1)
            {
                var id = System.Numerics.BitOperations.TrailingZeroCount(bits);
                if (!outstanding[id])
                {
                    phantoms.Add(id);
                }

                outstanding[id] = false;
                onTaken();
            }
        });
        if (c.Vcpu.Index == 0)
        {
            await Bind(c, 1, 0x0000_00FF);
            await Bind(c, 0x8001, 0xFF00_FF00);
            await Bind(c, 3, 0x00FF_0000);
            onBound();
        }

        while (true)
        {
            await interrupts.WaitForInterruptAsync();
        }
    }

    private static async ValueTask Bind(EndpointContext c, ushort sender, ulong bits)
    {
        var bind = default(RegisterFrame);
        new NotificationBind(new SenderReceiver(new EndpointId(sender), new EndpointId(2)), NotificationBindFlags.None, new NotificationBitmap(bits)).Encode(ref bind);
        Rig.ErrorOf(await c.CallAsync(bind)).ShouldBeNull();
    }
}
