using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Endpoints.Samples;
using Firmament.Machine;
using Firmament.Scenarios;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Emulation;

public class EmulatedEndpointTests
{
    [Fact]
    public void AManagedVm_TalksToAnEmulatedEchoSp_BothConventionsAndReq2()
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                answers.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, 11, 22, 33, 44, 55));
                answers.Add(await c.Call(Rig.Id32(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, 0xAAAA_BBBB, 2, 3, 4, 5));
                var req2 = RegisterFrame.Of(Rig.Id64(FfaFunction.MsgSendDirectReq2), 0x0001_8001, 0, 0);
                for (var i = 4; i < RegisterFrame.Count; i++)
                {
                    req2[i] = (ulong)i * 0x1111;
                }

                answers.Add(await c.CallAsync(req2));
            }),
            Guests.Sp("echo", 0x8001, "echo-sp"));

        answers.Count.ShouldBe(3);
        answers[0].W(0).ShouldBe(Rig.Id64(FfaFunction.MsgSendDirectResp));
        answers[0].W(1).ShouldBe(0x8001_0001u);
        answers[0].AsSpan()[3..8].ToArray().ShouldBe([11UL, 22, 33, 44, 55]);
        answers[1].W(0).ShouldBe(Rig.Id32(FfaFunction.MsgSendDirectResp));
        answers[1].X3.ShouldBe(0xAAAA_BBBBUL);
        answers[2].W(0).ShouldBe(Rig.Id64(FfaFunction.MsgSendDirectResp2));
        answers[2][17].ShouldBe(17UL * 0x1111);
        platform["echo"].IsAborted.ShouldBeFalse();
        platform["echo"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
        platform.Console.ShouldContain(l => l.Partition == "echo" && l.Text == "echo-sp: ready");
    }

    [Fact]
    public void AnEmulatedVm_CallsAManagedEchoSp_AndEveryAnswerChecksOut()
    {
        var platform = Rig.Run(
            Guests.Vm("ping", 1, "ping-vm", 0x8001, 50),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));

        platform.Console.Select(static l => l.Text).ShouldContain("ping: 50 of 50 echoed by 0x8001", StringComparer.Ordinal);
        platform["ping"].IsAborted.ShouldBeFalse();
        Guests.AllOff(platform["ping"]).ShouldBeTrue();
        platform.Hypervisor!.CallsByFunction[(int)FfaFunction.MsgSendDirectReq - 0x60].ShouldBe(50);
    }

    [Fact]
    public void TwoEmulatedEndpoints_TalkToEachOther_WithReq2()
    {
        var platform = Rig.Run(
            Guests.Vm("ping", 1, "ping-vm", 0x8001, 20, 1),
            Guests.Sp("echo", 0x8001, "echo-sp"));

        platform.Console.Select(static l => l.Text).ShouldContain("ping: 20 of 20 echoed by 0x8001", StringComparer.Ordinal);
        Guests.AllOff(platform["ping"]).ShouldBeTrue();
    }

    [Fact]
    public void FastCalls_AreServedInsideTheHook_WithoutStoppingTheCpu()
    {
        var platform = Rig.Run(Guests.Vm("loop", 1, "version-loop", 1000));

        platform.Console.Select(static l => l.Text).ShouldContain("version-loop: 1000 calls, version 0x10002", StringComparer.Ordinal);
        var backend = Guests.Backend(platform["loop"]);
        backend.FastCalls.ShouldBeGreaterThanOrEqualTo(1000);
        backend.Runs.ShouldBeLessThan(5);
    }
}

public class EmulationDeterminismTests
{
    [Fact]
    public void TheSameEmulatedPlatform_GivesTheSameTrace_EventForEvent()
    {
        string Run()
        {
            var platform = Rig.Run(
                new PlatformDescription
                {
                    Pcpus = 2,
                    Seed = 7,
                    Partitions =
                    [
                        Guests.Vm("ping", 1, "ping-vm", 0x8001, 30),
                        Guests.Vm("ping2", 2, "ping-vm", 0x8002, 30, 1),
                        Guests.Sp("echo", 0x8001, "echo-sp"),
                        Rig.Sp("managed", 0x8002, Rig.EchoSp, uuid: Uuid.Parse("22222222-2222-3333-4444-555555555555")),
                    ],
                });
            platform.Console.Count(static l => l.Text.StartsWith("ping: 30 of 30", StringComparison.Ordinal)).ShouldBe(2);
            return string.Join('\n', platform.Trace.Events.Select(static e => e.ToString()));
        }

        var first = Run();
        first.ShouldNotBeEmpty();
        Run().ShouldBe(first);
    }
}
