using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

public class IndirectMessagingTests
{
    private static readonly byte[] Payload = "ping"u8.ToArray();

    /// <summary>Writes a message into the caller's TX buffer (header in <paramref name="version"/>'s layout) and sends it.</summary>
    private static async ValueTask<RegisterFrame> Send2Async(EndpointContext c, ushort from, ushort to, FfaVersion version, byte[]? payload = null, uint w1 = 0, uint w2 = 0)
    {
        payload ??= Payload;
        var header = IndirectMessageHeader.For(version, new EndpointId(from), new EndpointId(to), (uint)payload.Length);
        var size = IndirectMessageHeader.SizeFor(version);
        var bytes = new byte[size + payload.Length];
        header.TryWrite(bytes, version, out _);
        payload.CopyTo(bytes, size);
        c.Memory.TryWrite(c.Buffers.Tx, bytes, out _);
        return await c.Call(Rig.Id32(FfaFunction.MsgSend2), w1, w2);
    }

    [Fact]
    public void VmToVm_LandsInTheReceiversRxBuffer_InItsLayout_AndTheHypervisorBitIsPending()
    {
        var answers = new List<RegisterFrame>();
        byte[] rx = [];
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                await DiscoveryTests.MapAsync(c);
                answers.Add(await Rig.UntilNotBusy(() => Send2Async(c, 1, 2, FfaVersion.V1_2)));
                answers.Add(await Send2Async(c, 1, 2, FfaVersion.V1_2));
            }),
            Rig.Vm("vm2", 2, async c =>
            {
                await c.Call(Rig.Id32(FfaFunction.Version), FfaVersion.V1_1.Encode());
                await DiscoveryTests.MapAsync(c);
                await c.Call(Rig.Id32(FfaFunction.MsgWait), 0, 1);
            }, version: FfaVersion.V1_1));
        Rig.ErrorOf(answers[0]).ShouldBeNull();
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Busy); // the first message is still unread
        var vm2 = platform.Hypervisor!.Endpoint(new EndpointId(2))!;
        vm2.Mailbox.RxOwner.ShouldBe(RxOwner.Endpoint);
        vm2.HypervisorFrameworkPending.ShouldBe(1u);
        rx = new byte[64];
        platform["vm2"].Memory.TryRead(platform.BuffersOf(new EndpointId(2)).Rx, rx, out _);
        IndirectMessageHeader.TryRead(rx, FfaVersion.V1_1, out var header, out _).ShouldBeTrue();
        header.Offset.ShouldBe(20u); // rewritten for a v1.1 receiver
        header.Sender.ShouldBe(new EndpointId(1));
        header.Payload(rx).ToArray().ShouldBe(Payload);
    }

    [Fact]
    public void VmToSp_IsForwarded_AndTheSpReadsIt()
    {
        var answers = new List<RegisterFrame>();
        Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                await DiscoveryTests.MapAsync(c);
                answers.Add(await Send2Async(c, 1, 0x8001, FfaVersion.V1_2));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, global::Firmament.Endpoints.Samples.SecurePartitions.ReadMailbox));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        Rig.ErrorOf(answers[0]).ShouldBeNull();
        answers[1].X4.ShouldBe((ulong)Payload.Length);
        answers[1].X5.ShouldBe((ulong)Payload.Sum(static b => b));
    }

    [Fact]
    public void SpToVm_GoesIntoTheVmsForwardedBuffer_AndTheSpmBitIsPendingAtTheSpmc()
    {
        var sent = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                await DiscoveryTests.MapAsync(c);
                await c.Call(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, 1);
            }),
            Rig.Sp("sp1", 0x8001, async c =>
            {
                await DiscoveryTests.MapAsync(c);
                var request = await c.Call(Rig.Id32(FfaFunction.MsgWait));
                sent.Add(await Send2Async(c, 0x8001, 1, FfaVersion.V1_2));
                await c.Call(Rig.Id64(FfaFunction.MsgSendDirectResp), 0x8001_0001);
            }));
        Rig.ErrorOf(sent[0]).ShouldBeNull();
        var vmAtSpmc = platform.Spmc!.Endpoint(new EndpointId(1))!;
        vmAtSpmc.Mailbox.RxOwner.ShouldBe(RxOwner.Endpoint);
        vmAtSpmc.SpmFrameworkPending.ShouldBe(1u);
        var rx = new byte[64];
        platform["vm1"].Memory.TryRead(platform.BuffersOf(new EndpointId(1)).Rx, rx, out _);
        IndirectMessageHeader.TryRead(rx, FfaVersion.V1_2, out var header, out _).ShouldBeTrue();
        header.Sender.ShouldBe(new EndpointId(0x8001));
    }

    [Theory]
    [InlineData("spoofed sender", FfaError.InvalidParameters)]
    [InlineData("to itself", FfaError.InvalidParameters)]
    [InlineData("empty", FfaError.InvalidParameters)]
    [InlineData("w1 names a VM", FfaError.InvalidParameters)]
    [InlineData("delay SRI from a VM", FfaError.InvalidParameters)]
    [InlineData("receiver without indirect messaging", FfaError.Denied)]
    [InlineData("receiver has no buffers", FfaError.Busy)]
    public void Send2_Misuse_GetsItsExactError_AndNothingIsDelivered(string what, FfaError expected)
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                await DiscoveryTests.MapAsync(c);
                answers.Add(what switch
                {
                    "spoofed sender" => await Send2Async(c, 2, 3, FfaVersion.V1_2),
                    "to itself" => await Send2Async(c, 1, 1, FfaVersion.V1_2),
                    "empty" => await Send2Async(c, 1, 2, FfaVersion.V1_2, []),
                    "w1 names a VM" => await Send2Async(c, 1, 2, FfaVersion.V1_2, w1: 0x0001_0000),
                    "delay SRI from a VM" => await Send2Async(c, 1, 2, FfaVersion.V1_2, w2: 2),
                    "receiver without indirect messaging" => await Send2Async(c, 1, 3, FfaVersion.V1_2),
                    _ => await Send2Async(c, 1, 4, FfaVersion.V1_2),
                });
            }),
            Rig.Vm("vm2", 2, async c => await DiscoveryTests.MapAsync(c)),
            Rig.Vm("vm3", 3, async c => await DiscoveryTests.MapAsync(c), PartitionProperties.AArch64),
            Rig.Vm("vm4", 4, null));
        Rig.ErrorOf(answers[0]).ShouldBe(expected);
        foreach (var id in new ushort[] { 2, 3 })
        {
            var endpoint = platform.Hypervisor!.Endpoint(new EndpointId(id))!;
            endpoint.Mailbox.RxOwner.ShouldBe(RxOwner.Manager);
            endpoint.HypervisorFrameworkPending.ShouldBe(0u);
        }
    }

    [Theory]
    [InlineData((ushort)2)]
    [InlineData((ushort)0x8001)]
    public void Send2_FromAVmWithoutIndirectMessaging_IsDenied_EvenToAnSp(ushort receiver)
    {
        // The hypervisor must refuse it itself: forwarded to the SPMC, the VM's properties are not known there.
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                await DiscoveryTests.MapAsync(c);
                answers.Add(await Send2Async(c, 1, receiver, FfaVersion.V1_2));
            }, PartitionProperties.SendsDirectRequests | PartitionProperties.AArch64),
            Rig.Vm("vm2", 2, async c => await DiscoveryTests.MapAsync(c)),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.Denied);
        platform.Hypervisor!.Endpoint(new EndpointId(2))!.Mailbox.RxOwner.ShouldBe(RxOwner.Manager);
        var sp1 = platform.Spmc!.Endpoint(new EndpointId(0x8001))!;
        sp1.Mailbox.RxOwner.ShouldBe(RxOwner.Manager);
        sp1.HypervisorFrameworkPending.ShouldBe(0u);
    }

    [Fact]
    public void Send2_FromAV10Caller_IsNotSupported()
    {
        var answers = new List<RegisterFrame>();
        Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                await c.Call(Rig.Id32(FfaFunction.Version), FfaVersion.V1_0.Encode());
                answers.Add(await c.Call(Rig.Id32(FfaFunction.MsgSend2)));
            }),
            Rig.Vm("vm2", 2, null));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.NotSupported);
    }

    [Fact]
    public void MsgWait_ReleasesTheRxBuffer_UnlessAskedToRetainIt()
    {
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                await DiscoveryTests.MapAsync(c);
                await Rig.UntilNotBusy(() => Send2Async(c, 1, 2, FfaVersion.V1_2));
                await Rig.UntilNotBusy(() => Send2Async(c, 1, 3, FfaVersion.V1_2));
            }),
            Rig.Vm("vm2", 2, c => WaitForMessage(c, retain: false)),
            Rig.Vm("vm3", 3, c => WaitForMessage(c, retain: true)));
        platform.Hypervisor!.Endpoint(new EndpointId(2))!.Mailbox.RxOwner.ShouldBe(RxOwner.Manager);
        platform.Hypervisor!.Endpoint(new EndpointId(3))!.Mailbox.RxOwner.ShouldBe(RxOwner.Endpoint);
        platform["vm2"].Vcpus[0].State.ShouldBe(global::Firmament.Machine.VcpuState.Waiting);

        // Polls its RX buffer (giving way with YIELD) until a message is there, then waits with or without retaining it.
        static async ValueTask WaitForMessage(EndpointContext c, bool retain)
        {
            await DiscoveryTests.MapAsync(c);
            var header = new byte[20];
            for (var i = 0; i < 200_000; i++)
            {
                c.Memory.TryRead(c.Buffers.Rx, header, out _);
                if (BitConverter.ToUInt32(header, 16) != 0)
                {
                    break;
                }

                await c.Call(Rig.Id32(FfaFunction.Yield));
            }

            await c.Call(Rig.Id32(FfaFunction.MsgWait), 0, retain ? 1u : 0u);
        }
    }
}
