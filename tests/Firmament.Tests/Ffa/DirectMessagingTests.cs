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

namespace Firmament.Tests.Ffa;

public class DirectMessagingTests
{
    private static RegisterFrame Req(bool is64, ushort sender, ushort receiver, ulong w2 = 0, ulong x3 = 0, ulong x4 = 0) =>
        RegisterFrame.Of(is64 ? Rig.Id64(FfaFunction.MsgSendDirectReq) : Rig.Id32(FfaFunction.MsgSendDirectReq), ((ulong)sender << 16) | receiver, w2, x3, x4);

    private static (Platform Platform, List<RegisterFrame> Answers) RunVm(Func<EndpointContext, List<RegisterFrame>, ValueTask> body, params PartitionConfig[] others)
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run([Rig.Vm("vm1", 1, context => body(context, answers)), .. others]);
        return (platform, answers);
    }

    [Fact]
    public void DirectReq64_VmToSp_IsEchoed_ThroughHypervisorAndSpmc()
    {
        var (platform, answers) = RunVm(async (c, a) => a.Add(await c.CallAsync(Req(true, 1, 0x8001, 0, 0x1122_3344_5566_7788, 9))), Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        answers[0].W(0).ShouldBe(Rig.Id64(FfaFunction.MsgSendDirectResp));
        answers[0].W(1).ShouldBe(0x8001_0001u);
        answers[0].X3.ShouldBe(0x1122_3344_5566_7788UL);
        answers[0].X4.ShouldBe(9UL);
        platform["sp1"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
        ((FfaVcpu)platform["sp1"].Vcpus[0].Owner!).Occupation.ShouldBe(Occupation.None);
    }

    [Fact]
    public void DirectReq32_CarriesOnlyTheLow32BitsOfThePayload()
    {
        var (_, answers) = RunVm(async (c, a) => a.Add(await c.CallAsync(Req(false, 1, 0x8001, 0, 0x1122_3344_5566_7788))), Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.MsgSendDirectResp));
        answers[0].X3.ShouldBe(0x5566_7788UL);
    }

    [Theory]
    [InlineData("spoofed sender", FfaError.InvalidParameters)]
    [InlineData("to itself", FfaError.InvalidParameters)]
    [InlineData("unknown receiver", FfaError.InvalidParameters)]
    [InlineData("partition message with w2 set", FfaError.InvalidParameters)]
    [InlineData("framework message from a VM", FfaError.InvalidParameters)]
    [InlineData("receiver does not take requests", FfaError.Denied)]
    public void DirectReq_Misuse_GetsItsExactError_AndTheSpStaysIdle(string what, FfaError expected)
    {
        var (platform, answers) = RunVm(
            async (c, a) => a.Add(await c.CallAsync(what switch
            {
                "spoofed sender" => Req(true, 2, 0x8001),
                "to itself" => Req(true, 1, 1),
                "unknown receiver" => Req(true, 1, 0x8009),
                "partition message with w2 set" => Req(true, 1, 0x8001, w2: 1),
                "framework message from a VM" => Req(true, 1, 0x8001, w2: 0x8000_0004),
                _ => Req(true, 1, 0x8002),
            })),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
            Rig.Sp("sp2", 0x8002, Rig.EchoSp, properties: PartitionProperties.AArch64, uuid: Uuid.Parse("22222222-0000-0000-0000-000000000000")));
        Rig.ErrorOf(answers[0]).ShouldBe(expected);
        platform["sp1"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
        platform["sp2"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
    }

    [Fact]
    public void DirectReq_FromAVmThatDoesNotSendRequests_IsDenied()
    {
        var answers = new List<RegisterFrame>();
        Rig.Run(
            Rig.Vm("vm1", 1, async c => answers.Add(await c.CallAsync(Req(true, 1, 0x8001))), properties: PartitionProperties.AArch64),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.Denied);
    }

    [Fact]
    public void DirectReq2_IsRoutedByUuid_AndCarriesFourteenPayloadRegistersEachWay()
    {
        var payload = new DirectMessage2Payload(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        var (_, answers) = RunVm(
            async (c, a) =>
            {
                foreach (var uuid in new[] { Rig.SpUuid, Uuid.Nil, Uuid.Parse("99999999-0000-0000-0000-000000000000") })
                {
                    var frame = default(RegisterFrame);
                    new MsgSendDirectReq2(new SenderReceiver(new EndpointId(1), new EndpointId(0x8001)), uuid, payload).Encode(ref frame);
                    a.Add(await c.CallAsync(frame));
                }
            },
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        MsgSendDirectResp2.TryDecode(answers[0], out var response, out _).ShouldBeTrue();
        response.Payload.ShouldBe(payload);
        response.Endpoints.ShouldBe(new SenderReceiver(new EndpointId(0x8001), new EndpointId(1)));
        MsgSendDirectResp2.TryDecode(answers[1], out _, out _).ShouldBeTrue(); // Nil is delivered as is
        Rig.ErrorOf(answers[2]).ShouldBe(FfaError.InvalidParameters);
    }

    [Fact]
    public void DirectReq_ToAPreemptedSp_IsBusy_AndRunResumesIt()
    {
        var (platform, answers) = RunVm(
            async (c, a) =>
            {
                a.Add(await c.CallAsync(Req(true, 1, 0x8001, 0, global::Firmament.Endpoints.Samples.SecurePartitions.YieldFirst)));
                a.Add(await c.CallAsync(Req(true, 1, 0x8001)));
                a.Add(await c.Call(Rig.Id32(FfaFunction.Run), 0x8001_0000));
            },
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.Yield));
        answers[0].W(1).ShouldBe(0x8001_0000u);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Busy);
        answers[2].W(0).ShouldBe(Rig.Id64(FfaFunction.MsgSendDirectResp)); // the response goes to whoever ran it
        answers[2].X3.ShouldBe(global::Firmament.Endpoints.Samples.SecurePartitions.YieldFirst);
        platform["sp1"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
    }

    [Fact]
    public void DirectReq_SpToSp_AndACycleBackToTheSender_IsDenied()
    {
        var seen = new List<RegisterFrame>();

        // sp1 forwards each request to sp2; sp2 tries to call back into sp1 (a cycle), then answers.
        async ValueTask Forwarder(EndpointContext c)
        {
            var frame = await c.Call(Rig.Id32(FfaFunction.MsgWait));
            while (true)
            {
                var inner = await c.CallAsync(Req(true, 0x8001, 0x8002, 0, frame.X3));
                frame = await c.CallAsync(RegisterFrame.Of(Rig.Id64(FfaFunction.MsgSendDirectResp), 0x8001_0001, 0, inner.X3 + 1));
            }
        }

        async ValueTask Callback(EndpointContext c)
        {
            var frame = await c.Call(Rig.Id32(FfaFunction.MsgWait));
            while (true)
            {
                seen.Add(await c.CallAsync(Req(true, 0x8002, 0x8001)));
                frame = await c.CallAsync(RegisterFrame.Of(Rig.Id64(FfaFunction.MsgSendDirectResp), 0x8002_8001, 0, frame.X3 * 10));
            }
        }

        var (_, answers) = RunVm(
            async (c, a) => a.Add(await c.CallAsync(Req(true, 1, 0x8001, 0, 4))),
            Rig.Sp("sp1", 0x8001, Forwarder),
            Rig.Sp("sp2", 0x8002, Callback, uuid: Uuid.Parse("22222222-0000-0000-0000-000000000000")));
        Rig.ErrorOf(seen[0]).ShouldBe(FfaError.Denied);
        answers[0].X3.ShouldBe(41UL);
    }

    [Fact]
    public void DirectReq_FromAnSpToAVm_IsInvalidParameters()
    {
        var seen = new List<RegisterFrame>();
        async ValueTask Sp(EndpointContext c)
        {
            await c.Call(Rig.Id32(FfaFunction.Version), FfaVersion.V1_2.Encode());
            seen.Add(await c.CallAsync(Req(true, 0x8001, 1)));
            await c.Call(Rig.Id32(FfaFunction.MsgWait));
        }

        Rig.Run(Rig.Vm("vm1", 1, null), Rig.Sp("sp1", 0x8001, Sp));
        Rig.ErrorOf(seen[0]).ShouldBe(FfaError.InvalidParameters);
    }

    [Theory]
    [InlineData("response to the wrong endpoint", FfaError.InvalidParameters)]
    [InlineData("RESP2 for a v1.0 request", FfaError.InvalidParameters)]
    [InlineData("MSG_WAIT instead of a response", FfaError.Denied)]
    public void DirectResp_Misuse_GetsItsExactError_AndTheRequestStaysOwed(string what, FfaError expected)
    {
        var seen = new List<RegisterFrame>();
        async ValueTask Sp(EndpointContext c)
        {
            var request = await c.Call(Rig.Id32(FfaFunction.MsgWait));
            var wrong = what switch
            {
                "response to the wrong endpoint" => RegisterFrame.Of(Rig.Id64(FfaFunction.MsgSendDirectResp), 0x8001_0002),
                "RESP2 for a v1.0 request" => RegisterFrame.Of(Rig.Id64(FfaFunction.MsgSendDirectResp2), 0x8001_0001),
                _ => RegisterFrame.Of(Rig.Id32(FfaFunction.MsgWait)),
            };
            seen.Add(await c.CallAsync(wrong));
            await c.Call(Rig.Id64(FfaFunction.MsgSendDirectResp), 0x8001_0001, 0, request.X3);
        }

        var (_, answers) = RunVm(async (c, a) => a.Add(await c.CallAsync(Req(true, 1, 0x8001, 0, 5))), Rig.Sp("sp1", 0x8001, Sp));
        Rig.ErrorOf(seen[0]).ShouldBe(expected);
        answers[0].X3.ShouldBe(5UL); // the right response still arrived
    }

    [Fact]
    public void DirectResp_WithoutARequest_IsDenied()
    {
        var seen = new List<RegisterFrame>();
        async ValueTask Sp(EndpointContext c)
        {
            seen.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectResp), 0x8001_0001));
            await c.Call(Rig.Id32(FfaFunction.MsgWait));
        }

        Rig.Run(Rig.Vm("vm1", 1, null), Rig.Sp("sp1", 0x8001, Sp));
        Rig.ErrorOf(seen[0]).ShouldBe(FfaError.Denied);
    }

    [Fact]
    public void DirectReq_VmToVm_IsHandledByTheHypervisor()
    {
        var (platform, answers) = RunVm(
            async (c, a) =>
            {
                // vm2 shares the pCPU and may not be waiting yet: BUSY until it is (a real driver retries too).
                var answer = await c.CallAsync(Req(true, 1, 2, 0, 77));
                for (var i = 0; i < 100_000 && Rig.ErrorOf(answer) == FfaError.Busy; i++)
                {
                    answer = await c.CallAsync(Req(true, 1, 2, 0, 77));
                }

                a.Add(answer);
            },
            Rig.Vm("vm2", 2, global::Firmament.Endpoints.Samples.NormalWorld.Server, PartitionProperties.ReceivesDirectRequests | PartitionProperties.AArch64));
        answers[0].W(1).ShouldBe(0x0002_0001u);
        answers[0].X3.ShouldBe(77UL);
        platform.Spmc!.CallsByFunction[(int)FfaFunction.MsgSendDirectReq - 0x60].ShouldBe(0);
    }

    [Fact]
    public void VmCreated_IsSentToSubscribedSps_AtBoot()
    {
        var seen = new List<RegisterFrame>();
        async ValueTask Sp(EndpointContext c)
        {
            var frame = await c.Call(Rig.Id32(FfaFunction.MsgWait));
            while (true)
            {
                seen.Add(frame);
                frame = await c.Call(Rig.Id32(FfaFunction.MsgSendDirectResp), 0x8001_0000, 0x8000_0005);
            }
        }

        var subscribed = Rig.Sp("sp1", 0x8001, Sp, properties: Rig.SpDefaults | PartitionProperties.InformedOfVmCreation);
        Rig.Run(Rig.Vm("vm1", 1, null), Rig.Vm("vm2", 2, null), subscribed, Rig.Sp("sp2", 0x8002, Rig.EchoSp, uuid: Uuid.Parse("22222222-0000-0000-0000-000000000000")));
        seen.Count.ShouldBe(2);
        seen[0].W(1).ShouldBe(0x0000_8001u); // from the hypervisor (0)
        seen[0].W(2).ShouldBe(0x8000_0004u);
        seen[0].W(5).ShouldBe(1u);
        seen[1].W(5).ShouldBe(2u);
    }

    [Fact]
    public void DestroyVm_SendsVmDestroyedToSubscribedSps_AndTheVmLeavesDiscovery()
    {
        var seen = new List<RegisterFrame>();
        async ValueTask Sp(EndpointContext c)
        {
            var frame = await c.Call(Rig.Id32(FfaFunction.MsgWait));
            while (true)
            {
                seen.Add(frame);
                frame = await c.Call(Rig.Id32(FfaFunction.MsgSendDirectResp), 0x8001_0000, frame.W(2) + 1);
            }
        }

        var subscribed = Rig.Sp("sp1", 0x8001, Sp, properties: Rig.SpDefaults | PartitionProperties.InformedOfVmDestruction);
        var platform = Rig.Run(Rig.Vm("vm1", 1, null), Rig.Vm("vm2", 2, null), subscribed);
        seen.ShouldBeEmpty(); // subscribed to destruction only
        platform.Hypervisor!.DestroyVm(new EndpointId(2)).ShouldBeTrue();
        platform.Run();
        seen.Count.ShouldBe(1);
        seen[0].W(2).ShouldBe(0x8000_0006u);
        seen[0].W(5).ShouldBe(2u);
        platform.Hypervisor.LocalPartition(new EndpointId(2)).ShouldBeNull();
        platform.Hypervisor.DestroyVm(new EndpointId(2)).ShouldBeFalse();
    }
}
