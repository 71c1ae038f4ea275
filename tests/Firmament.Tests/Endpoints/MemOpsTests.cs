using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Endpoints.Driver;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Endpoints;

public class MemOpsTests
{
    private const ulong Retrieve = 0x5245_5452; // "RETR": an SP that retrieves with the driver, relinquishes, answers the constituent count

    /// <summary>An SP on the driver: on a RETR request (word 1 handle, word 2 sender) it retrieves every fragment, relinquishes, and answers.</summary>
    private static async ValueTask RetrievingSp(EndpointContext context)
    {
        var (_, driver) = await FfaDriver.ProbeAsync(context);
        var frame = await context.CallAsync(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait)));
        while (MsgSendDirectReq.TryDecode(frame, out var request, out _))
        {
            var payload = request.Payload;
            if (payload.Arg0 == Retrieve)
            {
                var handle = new MemoryHandle(payload.Arg1);
                var (status, response) = await driver!.Memory.RetrieveAsync(handle, new EndpointId((ushort)payload.Arg2), [new EndpointMemoryAccess(driver.Id, MemoryAccessPermissions.Of(DataAccess.ReadOnly, InstructionAccess.NotSpecified))]);
                var first = new byte[4];
                if (response is not null)
                {
                    context.Memory.TryRead(response.Constituents[^1].Address, first, out _);
                }

                var relinquished = status.IsOk ? await driver.Memory.RelinquishAsync(handle) : status;
                payload = new DirectMessagePayload((ulong)(response?.Constituents.Count ?? -1), relinquished.IsOk ? 0UL : 1UL, BitConverter.ToUInt32(first), 0, 0);
            }

            new MsgSendDirectResp(request.Is64, new SenderReceiver(request.Endpoints.Receiver, request.Endpoints.Sender), DirectMessageKind.Partition, payload).Encode(ref frame);
            frame = await context.CallAsync(frame);
        }
    }

    [Fact]
    public void Share_OfMoreConstituentsThanATxBuffer_IsFragmented_AndTheBorrowersDriverGathersEveryFragment()
    {
        (FfaStatus Share, MemoryHandle Handle, DirectResponse Answer, FfaStatus Reclaim) result = default;
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                var ram = c.Memory.Stage2.Entries().First().Key << 12;
                c.Memory.TryWrite(ram + (251 * 4096), "last"u8, out _);
                var pages = Enumerable.Range(0, 252).Select(i => new MemoryRegionConstituent(ram + ((ulong)i * 4096), 1)).ToArray();
                var (status, handle) = await driver!.Memory.ShareAsync([new EndpointMemoryAccess(new EndpointId(0x8001), MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified))], pages);
                var answer = await driver.Messaging.SyncSendReceiveAsync(driver.Device(new EndpointId(0x8001))!, new DirectMessagePayload(Retrieve, handle.Value, 1, 0, 0));
                result = (status, handle, answer, await driver.Memory.ReclaimAsync(handle));
            }),
            Rig.Sp("sp1", 0x8001, RetrievingSp));
        result.Share.IsOk.ShouldBeTrue();
        result.Handle.IsHypervisorAllocated.ShouldBeFalse();
        result.Answer.IsOk.ShouldBeTrue();
        result.Answer[3].ShouldBe(252UL); // every constituent, over two RX fragments
        result.Answer[4].ShouldBe(0UL);   // relinquished
        result.Answer[5].ShouldBe(BitConverter.ToUInt32("last"u8)); // read through the SP's own map
        result.Reclaim.IsOk.ShouldBeTrue();
        platform.Spmc!.SharedMemory.ShouldBeEmpty();
        platform.Pages.CheckInvariants().ShouldBeNull();
    }

    private sealed class KernelClient(Uuid uuid) : IFfaClientDriver
    {
        public string Name => "kernel-side";

        public IReadOnlyList<Uuid> Uuids => [uuid];

        public bool Probe(FfaDevice device) => true;
    }

    [Fact]
    public void Userspace_SharesWithSeveralHandlesInOneCall_AndAClaimedPartitionIsAPermissionError()
    {
        var log = new List<string>();
        var otherUuid = Uuid.Parse("22222222-0000-0000-0000-000000000000");
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var (_, driver) = await FfaDriver.ProbeAsync(c);
                var user = new FfaUserspace(driver!);
                var (opened1, sp1) = user.Open(new EndpointId(0x8001));
                var (opened2, sp2) = user.Open(new EndpointId(0x8002));
                log.Add($"open {opened1} {opened2} self={user.Open(new EndpointId(1)).Handle == user.Self} unknown={user.Open(new EndpointId(0x8009)).Status}");
                var ram = c.Memory.Stage2.Entries().First().Key << 12;
                var (shared, handle) = await user.ShareAsync(ram, 2, sp1!, sp2!);
                log.Add($"share {shared} {platform(handle)}");
                var (withSelf, _) = await user.ShareAsync(ram + 0x4000, 1, sp1!, user.Self);
                log.Add($"share with self {withSelf}");
                var echo = await user.SendAsync(sp1!, new DirectMessagePayload(9, 0, 0, 0, 0));
                log.Add($"send {echo.Status} {echo[3]}");
                log.Add($"reclaim {await user.ReclaimAsync(handle)}");
                driver!.Register(new KernelClient(Rig.SpUuid)).ShouldBe(1);
                log.Add($"claimed: open {user.Open(new EndpointId(0x8001)).Status}, send {(await user.SendAsync(sp1!, default)).Status}, share {(await user.ShareAsync(ram, 1, sp1!)).Status}");

                static string platform(MemoryHandle h) => h.IsHypervisorAllocated ? "hypervisor" : "spmc";
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
            Rig.Sp("sp2", 0x8002, Rig.EchoSp, uuid: otherUuid));
        log.ShouldBe([
            "open SUCCESS SUCCESS self=True unknown=INVALID_PARAMETERS",
            "share SUCCESS spmc",
            "share with self INVALID_PARAMETERS",
            "send SUCCESS 9",
            "reclaim SUCCESS",
            "claimed: open DENIED, send DENIED, share DENIED",
        ]);
        platform.Spmc!.SharedMemory.ShouldBeEmpty();
    }
}
