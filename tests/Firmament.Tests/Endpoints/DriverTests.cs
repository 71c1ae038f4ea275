using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Endpoints;
using Firmament.Endpoints.Driver;
using Firmament.Scenarios;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Endpoints;

public class DriverTests
{
    private sealed class Client(Uuid uuid) : IFfaClientDriver
    {
        public List<FfaDevice> Probed { get; } = [];

        public string Name => "test-client";

        public IReadOnlyList<Uuid> Uuids => [uuid];

        public bool Probe(FfaDevice device)
        {
            Probed.Add(device);
            return true;
        }
    }

    [Fact]
    public void Probe_NegotiatesMapsAndDiscovers_ADevicePerPartitionUuid_AndMatchesClientsByUuid()
    {
        FfaDriver? driver = null;
        var client = new Client(Rig.SpUuid);
        var bound = -1;
        var second = Uuid.Parse("33333333-0000-0000-0000-000000000000");
        var multi = Rig.Sp("sp2", 0x8002, Rig.EchoSp) with { Uuids = [second, Uuid.Parse("44444444-0000-0000-0000-000000000000")] };
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var (status, d) = await FfaDriver.ProbeAsync(c);
                status.IsOk.ShouldBeTrue();
                driver = d;
                bound = d!.Register(client);
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
            multi);
        driver!.Version.ShouldBe(FfaVersion.V1_2);
        driver.Id.ShouldBe(new EndpointId(1));
        driver.Devices.Select(static d => (d.Id.Value, d.Uuid)).ShouldBe([(0x8001, Rig.SpUuid), (0x8002, second), (0x8002, Uuid.Parse("44444444-0000-0000-0000-000000000000"))]);
        bound.ShouldBe(1);
        client.Probed.Single().Id.ShouldBe(new EndpointId(0x8001));
        driver.Devices[0].Driver.ShouldBe(client);
        platform.Hypervisor!.Endpoint(new EndpointId(1))!.Mailbox.RxOwner.ShouldBe(global::Firmament.Ffa.RxOwner.Manager); // released after discovery
    }

    [Fact]
    public void Probe_DowngradesToAnOlderPartitionManager_AndSaysSo()
    {
        FfaVersion? negotiated = null;
        Rig.Run(Rig.Vm("vm1", 1, async c =>
        {
            var (_, d) = await FfaDriver.ProbeAsync(c, new FfaVersion(1, 5));
            negotiated = d?.Version;
        }));
        negotiated.ShouldBe(FfaVersion.V1_2);
    }

    [Fact]
    public void SyncSendReceive_RunsThePartitionAgainAfterAYield_UntilItAnswers()
    {
        DirectResponse response = default;
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var (_, d) = await FfaDriver.ProbeAsync(c);
                response = await d!.Messaging.SyncSendReceiveAsync(d.Devices[0], new DirectMessagePayload(Firmament.Endpoints.Samples.SecurePartitions.YieldFirst, 9, 0, 0, 0));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        response.IsOk.ShouldBeTrue();
        response[4].ShouldBe(9UL);
        platform.Spmc!.CallsByFunction[(int)FfaFunction.Yield - 0x60].ShouldBe(1);
        platform.Spmc.CallsByFunction[(int)FfaFunction.Run - 0x60].ShouldBe(1);
    }

    [Fact]
    public void IndirectSend_AndReceive_RoundTripThroughTheBuffers()
    {
        (FfaStatus Status, EndpointId Sender, byte[] Payload) received = default;
        Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var (_, d) = await FfaDriver.ProbeAsync(c);
                (await Rig.UntilNotBusy(async () =>
                {
                    var status = await d!.Messaging.IndirectSendAsync(new EndpointId(2), "abc"u8.ToArray());
                    var frame = default(RegisterFrame);
                    if (!status.IsOk)
                    {
                        new ErrorReturn(status.Error!.Value).Encode(ref frame);
                    }

                    return frame;
                })).ShouldNotBe(default);
            }),
            Rig.Vm("vm2", 2, async c =>
            {
                var (_, d) = await FfaDriver.ProbeAsync(c);
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

                received = await d!.Messaging.ReceiveIndirectAsync();
            }));
        received.Status.IsOk.ShouldBeTrue();
        received.Sender.ShouldBe(new EndpointId(1));
        received.Payload.ShouldBe("abc"u8.ToArray());
    }
}
