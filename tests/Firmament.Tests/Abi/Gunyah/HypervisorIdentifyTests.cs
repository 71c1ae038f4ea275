using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Gunyah;

public class HypervisorIdentifyTests
{
    [Fact]
    public void HypApiInfo_ForA64BitLittleEndianGunyah_IsVersion1Bit15AndVariant0x48()
    {
        var info = HypApiInfo.Create(HypervisorVariant.Gunyah);
        info.Value.ShouldBe(0x4800_0000_0000_8001UL);
        info.ApiVersion.ShouldBe((ushort)1);
        info.Is64Bit.ShouldBeTrue();
        info.IsBigEndian.ShouldBeFalse();
        info.Variant.ShouldBe(HypervisorVariant.Gunyah);
        info.ReservedBits.ShouldBe(0UL);
    }

    [Fact]
    public void HypApiInfo_ReadsEveryField()
    {
        var info = new HypApiInfo(0x5100_0012_3400_C001);
        info.ApiVersion.ShouldBe((ushort)1);
        info.IsBigEndian.ShouldBeTrue();
        info.Is64Bit.ShouldBeTrue();
        info.ReservedBits.ShouldBe(0x0000_0012_3400_0000UL);
        info.Variant.ShouldBe(HypervisorVariant.Qualcomm);
    }

    [Fact]
    public void ApiFlags0_KeepsFeaturesAndSchedulerApart()
    {
        var flags = HypApiFlags0.Create(ApiFeatures.Doorbell | ApiFeatures.Msgqueue | ApiFeatures.VcpuRun, SchedulerVariant.Fprr);
        flags.Value.ShouldBe(0x1000_0806UL);
        flags.Has(ApiFeatures.Msgqueue).ShouldBeTrue();
        flags.Has(ApiFeatures.Memextent).ShouldBeFalse();
        flags.Scheduler.ShouldBe(SchedulerVariant.Fprr);
        flags.Features.ShouldBe(ApiFeatures.Doorbell | ApiFeatures.Msgqueue | ApiFeatures.VcpuRun);
    }

    [Fact]
    public void ApiFeatures_UseTheLinuxBitNumbers()
    {
        ((ulong)ApiFeatures.Doorbell).ShouldBe(1UL << 1);
        ((ulong)ApiFeatures.Msgqueue).ShouldBe(1UL << 2);
        ((ulong)ApiFeatures.Vcpu).ShouldBe(1UL << 5);
        ((ulong)ApiFeatures.Memextent).ShouldBe(1UL << 6);
    }

    [Fact]
    public void CallUid_ReturnsTheGunyahUuidAsFourLittleEndianWords()
    {
        GunyahUid.Uuid.ToString().ShouldBe("c1d58fcd-a453-5fdb-9265-ce36673d5f14");
        var frame = default(RegisterFrame);
        CallUidResult.Gunyah.Encode(ref frame, GunyahConvention.Smccc);
        frame.AsReadOnlySpan()[..4].ToArray().ShouldBe([0xcd8fd5c1UL, 0xdb5f53a4UL, 0x36ce6592UL, 0x145f3d67UL]);

        CallUidResult.TryDecode(frame, GunyahConvention.Smccc, out var back, out _).ShouldBeTrue();
        back.IsGunyah.ShouldBeTrue();
    }

    [Fact]
    public void CallUid_ReadsOnlyTheLow32BitsOfEachRegister()
    {
        var frame = RegisterFrame.Of(0xFFFF_0000_cd8f_d5c1, 0x1_db5f_53a4, 0x36ce_6592, 0x8000_0000_145f_3d67);
        CallUidResult.TryDecode(frame, GunyahConvention.Smccc, out var result, out _).ShouldBeTrue();
        result.IsGunyah.ShouldBeTrue();
    }

    [Fact]
    public void CallUid_FromQualcommsBuild_IsNotGunyahsUuid()
    {
        var frame = RegisterFrame.Of(0x19bd54bd, 0x0b37571b, 0x946f609b, 0x54539de6);
        CallUidResult.TryDecode(frame, GunyahConvention.Smccc, out var result, out _).ShouldBeTrue();
        result.IsGunyah.ShouldBeFalse();
        result.Uid.ShouldBe(GunyahUid.QualcommUuid);
    }

    [Fact]
    public void Identify_HasNoInputsAndNoReservedSlot_AndAnswersWithoutAnErrorWord()
    {
        var frame = RegisterFrame.Of(0xC6008000, 0xDEAD, 0xBEEF);
        HypervisorIdentify.TryDecode(frame, GunyahConvention.Smccc, out _, out var violation).ShouldBeTrue(violation.ToString());

        var result = new HypervisorIdentifyResult(
            HypApiInfo.Create(HypervisorVariant.Gunyah),
            HypApiFlags0.Create(ApiFeatures.PartitionCspace | ApiFeatures.Doorbell, SchedulerVariant.Trivial),
            ApiFlags1.Sve,
            0);
        var ret = default(RegisterFrame);
        result.Encode(ref ret, GunyahConvention.Native);
        ret.X0.ShouldBe(0x4800_0000_0000_8001UL);
        ret.X1.ShouldBe(0x3UL);
        ret.X2.ShouldBe(1UL);
        HypervisorIdentifyResult.TryDecode(ret, GunyahConvention.Native, out var back, out _).ShouldBeTrue();
        back.ShouldBe(result);
    }
}
