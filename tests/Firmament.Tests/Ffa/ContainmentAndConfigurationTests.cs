using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

public class ContainmentAndConfigurationTests
{
    [Fact]
    public void AFaultingSp_IsAborted_ItsCallerGetsAborted_AndEveryoneElseRunsOn()
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                answers.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8002, 0, SecurePartitions.Crash));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8002, 0, 1));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, 3));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
            Rig.Sp("sp2", 0x8002, SecurePartitions.Faulty, uuid: NormalWorld.FaultyUuid));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.Aborted);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Aborted);
        answers[2].X3.ShouldBe(3UL);
        platform["sp2"].IsAborted.ShouldBeTrue();
        platform["sp2"].AbortReason!.ShouldContain("asked to crash");
        platform["sp2"].Vcpus[0].State.ShouldBe(VcpuState.Aborted);
        platform["vm1"].IsAborted.ShouldBeFalse();
        platform.Trace.Events.ShouldContain(e => e.Kind == TraceKind.Fault && e.Vcpu.Endpoint == new EndpointId(0x8002));
    }

    [Fact]
    public void AFaultingVm_IsContained_AndTheOtherVmFinishes()
    {
        var done = false;
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, _ => throw new InvalidOperationException("boom")),
            Rig.Vm("vm2", 2, async c =>
            {
                await c.Call(Rig.Id32(FfaFunction.IdGet));
                done = true;
            }));
        platform["vm1"].IsAborted.ShouldBeTrue();
        done.ShouldBeTrue();
    }

    [Fact]
    public void WithoutAHypervisor_TheKernelIsEndpointZero_AndTalksToTheSpmcDirectly()
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            PlatformRoles.KernelAndSpmc,
            1,
            Rig.Kernel(async c =>
            {
                answers.Add(await c.Call(Rig.Id32(FfaFunction.Version), FfaVersion.V1_2.Encode()));
                answers.Add(await c.Call(Rig.Id32(FfaFunction.IdGet)));
                await DiscoveryTests.MapAsync(c);
                answers.Add(await c.Call(Rig.Id32(FfaFunction.PartitionInfoGet)));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0000_8001, 0, 11));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        platform.Hypervisor.ShouldBeNull();
        answers[0].W(0).ShouldBe(0x0001_0002u);
        answers[1].W(2).ShouldBe(0u);
        answers[2].W(2).ShouldBe(1u);
        answers[3].X3.ShouldBe(11UL);
        platform.Spmc!.NormalWorldEndpoint.Mailbox.IsMapped.ShouldBeTrue();
    }

    [Fact]
    public void WithoutAnSpmc_VmsTalkToEachOther_AndSpmIdGetIsNotSupported()
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            PlatformRoles.HypervisorOnly,
            2,
            Rig.Vm("vm1", 1, async c =>
            {
                answers.Add(await c.Call(Rig.Id32(FfaFunction.SpmIdGet)));
                answers.Add(await Rig.UntilNotBusy(() => c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_0002, 0, 5)));
            }),
            Rig.Vm("vm2", 2, NormalWorld.Server, Rig.VmDefaults | Firmament.Abi.Ffa.Descriptors.PartitionProperties.ReceivesDirectRequests));
        platform.Spmc.ShouldBeNull();
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.NotSupported);
        answers[1].X3.ShouldBe(5UL);
    }

    [Fact]
    public void TheDefaultDemo_RunsToTheEnd_WithTheSameConsoleForTheSameSeed()
    {
        static IReadOnlyList<ConsoleLine> Run(ulong seed)
        {
            var platform = Platform.Build(DefaultPlatform.Create(seed));
            platform.Boot();
            platform.Run();
            return platform.Console;
        }

        var first = Run(7);
        first.ShouldContain(l => l.Text == "demo client done");
        Run(7).ShouldBe(first);
    }
}
