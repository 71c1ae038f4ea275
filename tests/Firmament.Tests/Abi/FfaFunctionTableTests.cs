using Firmament.Abi.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi;

public class FfaFunctionTableTests
{
    [Fact]
    public void Table_CoversEveryNumberFrom0x60To0x8E_InOrder()
    {
        FfaFunctions.All.Count.ShouldBe(0x8E - 0x60 + 1);
        for (var i = 0; i < FfaFunctions.All.Count; i++)
        {
            ((int)FfaFunctions.All[i].Function).ShouldBe(0x60 + i);
        }
    }

    [Theory]
    [InlineData(FfaFunction.Version, 0x84000063u, null)]
    [InlineData(FfaFunction.MemShare, 0x84000073u, 0xC4000073u)]
    [InlineData(FfaFunction.NotificationInfoGet, 0x84000083u, 0xC4000083u)]
    [InlineData(FfaFunction.MsgSendDirectReq2, null, 0xC400008Du)]
    [InlineData(FfaFunction.PartitionInfoGetRegs, null, 0xC400008Bu)]
    public void Ids_MatchTheSpec(FfaFunction function, uint? smc32, uint? smc64)
    {
        var info = FfaFunctions.Info(function)!;
        info.Smc32Id?.Value.ShouldBe(smc32!.Value);
        info.Smc64Id?.Value.ShouldBe(smc64!.Value);
        (info.Smc32Id is null).ShouldBe(smc32 is null);
        (info.Smc64Id is null).ShouldBe(smc64 is null);
    }

    [Theory]
    [InlineData(0x8400007Fu, true, FfaFunction.NotificationBind, false)]
    [InlineData(0xC400008Du, true, FfaFunction.MsgSendDirectReq2, true)]
    [InlineData(0x8400008Du, false, FfaFunction.MsgSendDirectReq2, false)] // REQ2 has no SMC32 ID
    [InlineData(0x04000063u, false, FfaFunction.Version, false)] // not a fast call
    [InlineData(0x84010063u, false, FfaFunction.Version, false)] // bits 23:16 MBZ
    [InlineData(0xC600800Fu, false, FfaFunction.Version, true)] // a Gunyah hypercall, not FF-A
    public void TryClassify_AcceptsOnlyIdsTheSpecDefines(uint w0, bool defined, FfaFunction function, bool is64)
    {
        FfaFunctions.TryClassify(w0, out var info, out var wide).ShouldBe(defined);
        wide.ShouldBe(is64);
        if (defined)
        {
            info.Function.ShouldBe(function);
        }
    }

    [Theory]
    [InlineData("FFA_NOTIFICATION_BIND", FfaFunction.NotificationBind, null)]
    [InlineData("mem_share_64", FfaFunction.MemShare, true)]
    [InlineData("FFA_MSG_SEND_DIRECT_REQ_32", FfaFunction.MsgSendDirectReq, false)]
    public void TryParseName_AcceptsSpecNamesWithOrWithoutPrefixAndSuffix(string name, FfaFunction function, bool? is64)
    {
        FfaFunctions.TryParseName(name, out var info, out var wide).ShouldBeTrue();
        info.Function.ShouldBe(function);
        wide.ShouldBe(is64);
    }
}
