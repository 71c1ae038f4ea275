using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Endpoints;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

public class CpuCyclesTests
{
    [Fact]
    public void NonSecureInterrupt_PreemptsTheSp_TheVmGetsFfaInterrupt_AndRunResumesItToItsResponse()
    {
        Platform? platform = null;
        var answers = new List<RegisterFrame>();
        platform = Rig.Boot(
            Rig.Vm("vm1", 1, async c =>
            {
                platform!.Spmc!.SignalNonSecureInterrupt(platform.Scheduler.Pcpus[0]);
                answers.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, SecurePartitions.WorkFirst, 42));
                answers.Add(await c.Call(Rig.Id32(FfaFunction.Run), answers[0].W(1)));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        platform.Run();
        answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.Interrupt));
        answers[0].W(1).ShouldBe(0x8001_0000u);
        answers[1].W(0).ShouldBe(Rig.Id64(FfaFunction.MsgSendDirectResp));
        answers[1].X4.ShouldBe(42UL);
        platform["sp1"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
    }

    [Fact]
    public void Run_OfAWaitingSp_ReturnsFfaRunToIt_AndMsgWaitGivesTheCpuBack()
    {
        var seen = new List<RegisterFrame>();
        var answers = new List<RegisterFrame>();
        Rig.Run(
            Rig.Vm("vm1", 1, async c => answers.Add(await c.Call(Rig.Id32(FfaFunction.Run), 0x8001_0000))),
            Rig.Sp("sp1", 0x8001, async c =>
            {
                seen.Add(await c.Call(Rig.Id32(FfaFunction.MsgWait)));
                seen.Add(await c.Call(Rig.Id32(FfaFunction.MsgWait)));
            }));
        seen[0].W(0).ShouldBe(Rig.Id32(FfaFunction.Run));
        seen[0].W(1).ShouldBe(0x8001_0000u);
        answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.MsgWait));
        answers[0].W(1).ShouldBe(0x8001_0000u);
    }

    [Fact]
    public void Run_OfAWaitingSpWithAPendingVirtualInterrupt_DeliversFfaInterruptWithTheId()
    {
        Platform? platform = null;
        var seen = new List<RegisterFrame>();
        var answers = new List<RegisterFrame>();
        platform = Rig.Boot(
            Rig.Vm("vm1", 1, async c =>
            {
                platform!.Spmc!.SignalVirtualInterrupt(platform["sp1"].Vcpus[0], 42);
                answers.Add(await c.Call(Rig.Id32(FfaFunction.Run), 0x8001_0000));
            }),
            Rig.Sp("sp1", 0x8001, async c =>
            {
                seen.Add(await c.Call(Rig.Id32(FfaFunction.MsgWait)));
                await c.Call(Rig.Id32(FfaFunction.MsgWait));
            }));
        platform.Run();
        seen[0].W(0).ShouldBe(Rig.Id32(FfaFunction.Interrupt));
        seen[0].W(2).ShouldBe(42u);
        answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.MsgWait));
        platform["sp1"].Vcpus[0].Interrupts.IsActive(42).ShouldBeTrue(); // taken; the SP ends it with its own EOI
    }

    [Theory]
    [InlineData(0x8001_0005u, FfaError.InvalidParameters)] // no vCPU 5
    [InlineData(0x8009_0000u, FfaError.InvalidParameters)] // no such SP
    [InlineData(0x0001_0000u, FfaError.InvalidParameters)] // itself
    public void Run_BadTargets_GetTheirExactError(uint target, FfaError expected)
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c => answers.Add(await c.Call(Rig.Id32(FfaFunction.Run), target))),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        Rig.ErrorOf(answers[0]).ShouldBe(expected);
        platform["sp1"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
    }

    [Fact]
    public void Run_OfAnMpSpVcpuFromAnotherPcpu_IsInvalidParameters()
    {
        var answers = new List<RegisterFrame>();
        Rig.Run(new PlatformDescription
        {
            Pcpus = 2,
            Partitions =
            [
                Rig.Vm("vm1", 1, async c => answers.Add(await c.Call(Rig.Id32(FfaFunction.Run), 0x8001_0001))),
                Rig.Sp("sp1", 0x8001, Rig.EchoSp, vcpus: 2),
            ],
        });
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.InvalidParameters); // vm1 runs on pCPU 0; vCPU 1 lives on pCPU 1
    }

    [Fact]
    public void FfaInterrupt_InvokedByAnEndpoint_IsDenied()
    {
        var answers = new List<RegisterFrame>();
        Rig.Run(Rig.Vm("vm1", 1, async c => answers.Add(await c.Call(Rig.Id32(FfaFunction.Interrupt)))));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.Denied);
    }

    [Fact]
    public void Yield_FromAVm_IsANoOp()
    {
        var answers = new List<RegisterFrame>();
        Rig.Run(Rig.Vm("vm1", 1, async c => answers.Add(await c.Call(Rig.Id32(FfaFunction.Yield)))));
        answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.Success));
    }

    [Fact]
    public void Yield_FromAnIdleSp_IsDenied()
    {
        var seen = new List<RegisterFrame>();
        Rig.Run(Rig.Vm("vm1", 1, null), Rig.Sp("sp1", 0x8001, async c =>
        {
            seen.Add(await c.Call(Rig.Id32(FfaFunction.Yield)));
            await c.Call(Rig.Id32(FfaFunction.MsgWait));
        }));
        Rig.ErrorOf(seen[0]).ShouldBe(FfaError.Denied);
    }
}
