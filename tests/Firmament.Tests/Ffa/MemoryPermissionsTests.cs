using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Endpoints;
using Firmament.Ffa;
using Shouldly;
using Xunit;
using Stage2Access = global::Firmament.Machine.Stage2Access;

namespace Firmament.Tests.Ffa;

public class MemoryPermissionsTests
{
    private const ulong Ram = 0x1000_0000;

    private static RegisterFrame Get(ulong address, uint pages)
    {
        var frame = default(RegisterFrame);
        new MemPermGet(true, address, pages).Encode(ref frame);
        return frame;
    }

    private static RegisterFrame Set(ulong address, uint pages, MemDataAccess access, bool executable)
    {
        var frame = default(RegisterFrame);
        new MemPermSet(true, address, pages, new MemPermissions(access, executable)).Encode(ref frame);
        return frame;
    }

    private static string Show(in RegisterFrame answer) =>
        MemPermGetSuccess.TryDecode(answer, out var get, out _) && answer.W(2) != 0 ? get.Permissions.ToString() : Rig.ErrorOf(answer)?.Name() ?? "SUCCESS";

    [Fact]
    public void SEl0Sp_GetsAndSetsItsOwnPagesDuringInitialisation_AndIsDeniedAfter()
    {
        var log = new List<string>();
        var sp = Rig.Sp("sp1", 0x8001, async c =>
        {
            async ValueTask Do(string what, RegisterFrame frame) => log.Add($"{what}: {Show(await c.CallAsync(frame))}");
            await Do("get", Get(Ram, 2));
            await Do("set RO+X", Set(Ram + 0x1000, 1, MemDataAccess.ReadOnly, executable: true));
            await Do("get page 1", Get(Ram + 0x1000, 1));
            log.Add($"write page 1: {c.Memory.TryWrite(Ram + 0x1000, [1], out _)}");
            await Do("get pages 0-1 (mixed)", Get(Ram, 2));
            await Do("set RW+X", Set(Ram, 1, MemDataAccess.ReadWrite, executable: true));
            await Do("set unmapped", Set(0x7000_0000, 1, MemDataAccess.ReadOnly, executable: false));
            await Do("set misaligned", Set(Ram + 8, 1, MemDataAccess.ReadOnly, executable: false));
            await Do("set RX buffer", Set(c.Buffers.Rx, 1, MemDataAccess.ReadOnly, executable: false));
            var frame = await c.CallAsync(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait)));
            await Do("set after boot", Set(Ram, 1, MemDataAccess.ReadOnly, executable: false));
            var back = default(RegisterFrame);
            new MsgSendDirectResp(false, new SenderReceiver(new EndpointId(0x8001), new EndpointId(1)), DirectMessageKind.Partition, default).Encode(ref back);
            await c.CallAsync(back);
        }) with { ExceptionLevel = ExceptionLevel.SEl0 };
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                var frame = default(RegisterFrame);
                new MsgSendDirectReq(false, new SenderReceiver(new EndpointId(1), new EndpointId(0x8001)), DirectMessageKind.Partition, default).Encode(ref frame);
                await c.CallAsync(frame);
                log.Add($"vm1 perm get: {Rig.ErrorOf(await c.CallAsync(Get(0x4000_0000, 1)))?.Name()}");
            }),
            sp);
        log.ShouldBe([
            "get: RW, X",
            "set RO+X: SUCCESS",
            "get page 1: RO, X",
            "write page 1: False",
            "get pages 0-1 (mixed): INVALID_PARAMETERS",
            "set RW+X: INVALID_PARAMETERS",
            "set unmapped: INVALID_PARAMETERS",
            "set misaligned: INVALID_PARAMETERS",
            "set RX buffer: DENIED",
            "set after boot: DENIED",
            "vm1 perm get: NOT_SUPPORTED",
        ]);
        platform.Pages.CheckInvariants().ShouldBeNull();
        platform["sp1"].Memory.Stage2.TryGetEntry(Ram + 0x1000, out var entry).ShouldBeTrue();
        entry.Access.ShouldBe(Stage2Access.ReadExecute);
    }

    [Fact]
    public void SEl1Sp_IsNotServed_AndFeaturesAgree()
    {
        var log = new List<string>();
        Rig.Run(
            Rig.Vm("vm1", 1, null),
            Rig.Sp("sp1", 0x8001, async c =>
            {
                log.Add(Rig.ErrorOf(await c.CallAsync(Get(Ram, 1)))?.Name() ?? "SUCCESS");
                var features = default(RegisterFrame);
                new Features(FeatureQuery.Of(FfaFunction.MemPermSet), 0).Encode(ref features);
                log.Add(Rig.ErrorOf(await c.CallAsync(features))?.Name() ?? "SUCCESS");
                await c.CallAsync(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait)));
            }));
        log.ShouldBe(["NOT_SUPPORTED", "NOT_SUPPORTED"]);
    }
}
