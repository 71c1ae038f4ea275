using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

/// <summary>
/// Random frames from a VM and an SP — any FF-A function ID, random registers — against a booted platform: the
/// platform never throws, every call gets an answer or blocks, and the managers' bookkeeping stays consistent.
/// </summary>
public class RandomCallTests
{
    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void RandomFrames_NeverCrashThePlatform(ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var answered = 0;

        RegisterFrame NextFrame()
        {
            var frame = default(RegisterFrame);
            var function = (ushort)(0x60 + random.Next(0x2F));
            frame[0] = (random.Next(2) == 0 ? 0x8400_0000u : 0xC400_0000u) | function;
            for (var i = 1; i < 8; i++)
            {
                frame[i] = random.Next(4) switch
                {
                    0 => 0,
                    1 => (ulong)random.Next(0x10000),
                    2 => random.NextUInt64(),
                    _ => 0x0001_8001, // a plausible sender/receiver or target
                };
            }

            // Never a blocking wait from the VM (it would wait forever); the SP's MSG_WAIT is how it yields.
            return frame;
        }

        async ValueTask Fuzz(Firmament.Endpoints.EndpointContext c, int calls)
        {
            for (var i = 0; i < calls; i++)
            {
                var frame = NextFrame();
                if (frame.W(0) == Rig.Id32(FfaFunction.MsgWait) && c.Vcpu.Endpoint == new EndpointId(1))
                {
                    continue;
                }

                await c.CallAsync(frame);
                answered++;
            }
        }

        var platform = Rig.Run(
            Rig.Vm("vm1", 1, c => Fuzz(c, 2_000)),
            Rig.Vm("vm2", 2, global::Firmament.Endpoints.Samples.NormalWorld.Server, Rig.VmDefaults | Firmament.Abi.Ffa.Descriptors.PartitionProperties.ReceivesDirectRequests),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
            Rig.Sp("sp2", 0x8002, async c =>
            {
                await c.Call(Rig.Id32(FfaFunction.MsgWait));
                await Fuzz(c, 2_000);
            }, uuid: Uuid.Parse("22222222-0000-0000-0000-000000000000")));

        answered.ShouldBeGreaterThan(100, "the fuzzers should get far before a call blocks for good");
        foreach (var partition in platform.Partitions.Where(static p => !p.IsAborted))
        {
            foreach (var vcpu in partition.Vcpus)
            {
                vcpu.State.ShouldNotBe(VcpuState.Running); // nothing is left running after the scheduler stopped
            }
        }

        platform.Scheduler.Pcpus.ShouldAllBe(static p => p.Current == null || p.Current.State != VcpuState.Ready);
    }
}
