using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Calls;

public class NotificationInfoListTests
{
    private static readonly EndpointId Sp1 = new(0x8001);
    private static readonly EndpointId Sp2 = new(0x8002);
    private static readonly EndpointId Vm2 = new(0x0002);

    [Fact]
    public void InfoGet64_WithSeveralListsAndMorePending_PacksHeaderAndIdsFourPerRegister()
    {
        var writer = new NotificationInfoListWriter(is64: true);
        writer.TryAdd(Sp1, []).ShouldBeTrue();
        writer.TryAdd(Vm2, [0, 2]).ShouldBeTrue();
        writer.TryAdd(Sp2, [1]).ShouldBeTrue();
        var frame = Encode(writer.ToSuccess(morePending: true));

        // more pending (bit 0) | 3 lists (bits 11:7) | counts 0, 2, 1 from bit 12
        frame.ShouldBe(RegisterFrame.Of(0xC4000061, 0, 0x1_8181, 0x0002_0000_0002_8001, 0x0001_8002));
        Lists(frame).ShouldBe(["0x8001: global", "0x0002: vCPU 0, 2", "0x8002: vCPU 1"]);
    }

    [Fact]
    public void InfoGet32_WithTheSameLists_PacksIdsTwoPerRegisterInTheLowWords()
    {
        var writer = new NotificationInfoListWriter(is64: false);
        writer.TryAdd(Sp1, []).ShouldBeTrue();
        writer.TryAdd(Vm2, [0, 2]).ShouldBeTrue();
        writer.TryAdd(Sp2, [1]).ShouldBeTrue();
        var frame = Encode(writer.ToSuccess(morePending: false));

        frame.ShouldBe(RegisterFrame.Of(0x84000061, 0, 0x1_8180, 0x0002_8001, 0x0002_0000, 0x0001_8002));
        Lists(frame).ShouldBe(["0x8001: global", "0x0002: vCPU 0, 2", "0x8002: vCPU 1"]);
    }

    [Fact]
    public void Writer64_TakesTwentyIdsAndRefusesTheTwentyFirst()
    {
        var writer = new NotificationInfoListWriter(is64: true);
        for (var i = 0; i < 5; i++)
        {
            writer.TryAdd(new EndpointId((ushort)(0x8001 + i)), [0, 1, 2]).ShouldBeTrue();
        }

        writer.IdCount.ShouldBe(20);
        writer.TryAdd(Vm2, []).ShouldBeFalse();
        writer.Count.ShouldBe(5);
        writer.IdCount.ShouldBe(20);

        var frame = Encode(writer.ToSuccess(morePending: true));
        frame.X2.ShouldBe(1UL | (5UL << 7) | (0x3FFUL << 12));
        frame[7].ShouldBe(0x0002_0001_0000_8005UL);
        Lists(frame).Length.ShouldBe(5);
    }

    [Fact]
    public void Writer64_TakesTwentyGlobalLists()
    {
        var writer = new NotificationInfoListWriter(is64: true);
        for (var i = 0; i < 20; i++)
        {
            writer.TryAdd(new EndpointId((ushort)(i + 1)), []).ShouldBeTrue();
        }

        writer.TryAdd(Vm2, []).ShouldBeFalse();
        var frame = Encode(writer.ToSuccess(morePending: false));
        frame.X2.ShouldBe(20UL << 7);
        Lists(frame).Length.ShouldBe(20);
    }

    [Fact]
    public void Writer32_TakesTenIdsAndRefusesTheEleventh()
    {
        var writer = new NotificationInfoListWriter(is64: false);
        writer.TryAdd(Sp1, [0, 1, 2]).ShouldBeTrue();
        writer.TryAdd(Sp2, [3, 4, 5]).ShouldBeTrue();
        writer.TryAdd(Vm2, []).ShouldBeTrue();
        writer.TryAdd(new EndpointId(3), [7, 8]).ShouldBeFalse(); // needs 3 slots, 2 are left
        writer.TryAdd(new EndpointId(3), []).ShouldBeTrue();
        writer.IdCount.ShouldBe(10);
        writer.TryAdd(new EndpointId(4), []).ShouldBeFalse();

        var frame = Encode(writer.ToSuccess(morePending: true));
        frame.X2.ShouldBe(1UL | (4UL << 7) | (0b00_00_11_11UL << 12));
        frame[7].ShouldBe(0x0003_0002UL);
        Lists(frame).ShouldBe(["0x8001: vCPU 0, 1, 2", "0x8002: vCPU 3, 4, 5", "0x0002: global", "0x0003: global"]);
    }

    [Fact]
    public void Writer_RefusesFourVcpusInOneList()
    {
        var writer = new NotificationInfoListWriter(is64: true);
        writer.TryAdd(Sp1, [0, 1, 2, 3]).ShouldBeFalse();
        writer.Count.ShouldBe(0);
        writer.IdCount.ShouldBe(0);
    }

    [Fact]
    public void DefaultWriter_AcceptsNothing()
    {
        var writer = default(NotificationInfoListWriter);
        writer.TryAdd(Sp1, []).ShouldBeFalse();
    }

    [Fact]
    public void Reader_WithMoreIdsThanSmc32Carries_IsOutOfRangeInX2()
    {
        // 4 lists of 3 vCPUs: 16 slots, SMC32 has 10.
        var x2 = (4UL << 7) | (0xFFUL << 12);
        var frame = RegisterFrame.Of(0x84000061, 0, x2);
        NotificationInfoGetSuccess.TryDecode(frame, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Range(2, 0xFFUL << 12));
    }

    [Fact]
    public void Reader_WithMoreListsThanSmc32Carries_IsOutOfRangeInX2()
    {
        var frame = RegisterFrame.Of(0x84000061, 0, 11UL << 7);
        NotificationInfoGetSuccess.TryDecode(frame, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Range(2, 11UL << 7));
    }

    [Fact]
    public void Reader_WithCountsPastTheLastList_NamesThoseBits()
    {
        // One list, but a count for list 1 too.
        var frame = RegisterFrame.Of(0xC4000061, 0, (1UL << 7) | (1UL << 14), 0x8001);
        NotificationInfoGetSuccess.TryDecode(frame, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(2, 1UL << 14));
    }

    [Fact]
    public void Reader_WithAnIdPastTheLastSlot_NamesItsRegisterAndBits()
    {
        // One global list (1 slot); slot 5 (x4 bits 31:16) is not empty.
        var frame = RegisterFrame.Of(0xC4000061, 0, 1UL << 7, 0x8001, 0x0007_0000);
        NotificationInfoGetSuccess.TryDecode(frame, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(4, 0x0007_0000));
    }

    [Fact]
    public void Reader_WithReservedHeaderBits_NamesThem()
    {
        var frame = RegisterFrame.Of(0x84000061, 0, 0x2);
        NotificationInfoGetSuccess.TryDecode(frame, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(2, 0x2));
    }

    [Fact]
    public void Encode_ListsThatDoNotFitSmc32_Throws()
    {
        var writer = new NotificationInfoListWriter(is64: true);
        for (var i = 0; i < 4; i++)
        {
            writer.TryAdd(new EndpointId((ushort)(i + 1)), [0, 1, 2]).ShouldBeTrue();
        }

        var tooBig = new NotificationInfoGetSuccess(false, false, writer.ToLists());
        var frame = default(RegisterFrame);
        Should.Throw<ArgumentOutOfRangeException>(() => tooBig.Encode(ref frame));
    }

    private static RegisterFrame Encode(NotificationInfoGetSuccess success)
    {
        var frame = default(RegisterFrame);
        success.Encode(ref frame);
        return frame;
    }

    private static string[] Lists(in RegisterFrame frame)
    {
        NotificationInfoGetSuccess.TryDecode(frame, out var success, out var violation).ShouldBeTrue(violation.ToString());
        var lists = new List<string>();
        foreach (var list in success.Lists)
        {
            lists.Add(list.ToString());
        }

        return [.. lists];
    }
}
