using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

public class RxTxTests
{
    private static (Platform Platform, List<RegisterFrame> Answers) RunVm(Func<EndpointContext, List<RegisterFrame>, ValueTask> body)
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(Rig.Vm("vm1", 1, context => body(context, answers)), Rig.Sp("sp1", 0x8001, Rig.EchoSp));
        return (platform, answers);
    }

    private static RegisterFrame Map(ulong tx, ulong rx, uint pages)
    {
        var frame = default(RegisterFrame);
        new RxTxMap(true, tx, rx, pages).Encode(ref frame);
        return frame;
    }

    private static Mailbox VmMailbox(Platform platform) => platform.Hypervisor!.Endpoint(new EndpointId(1))!.Mailbox;

    [Fact]
    public void Map_TxInX1RxInX2_MapsAtTheHypervisorAndForwardsToTheSpmc()
    {
        RxTxBuffers buffers = default;
        var (platform, answers) = RunVm(async (c, a) =>
        {
            buffers = c.Buffers;
            a.Add(await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1)));
        });
        Rig.ErrorOf(answers[0]).ShouldBeNull();
        var mailbox = VmMailbox(platform);
        (mailbox.TxAddress, mailbox.RxAddress, mailbox.PageCount).ShouldBe((buffers.Tx, buffers.Rx, 1u));
        var atSpmc = platform.Spmc!.Endpoint(new EndpointId(1))!.Mailbox;
        atSpmc.IsMapped.ShouldBeTrue();
        platform["vm1"].Memory.Stage2.TryTranslate(buffers.Rx, global::Firmament.Machine.Stage2Access.Read, out var rxPa, out _).ShouldBeTrue();
        atSpmc.RxAddress.ShouldBe(rxPa); // the SPMC holds the physical address the hypervisor translated
    }

    public static TheoryData<string, FfaError> BadMaps() => new()
    {
        { "misaligned TX", FfaError.InvalidParameters },
        { "overlapping", FfaError.InvalidParameters },
        { "zero pages", FfaError.InvalidParameters },
        { "too many pages", FfaError.InvalidParameters },
        { "outside the VM's memory", FfaError.Denied },
    };

    [Theory]
    [MemberData(nameof(BadMaps))]
    public void Map_BadArguments_GetTheirExactError_AndNothingIsMapped(string what, FfaError expected)
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            var (tx, rx) = (c.Buffers.Tx, c.Buffers.Rx);
            var frame = what switch
            {
                "misaligned TX" => Map(tx + 8, rx, 1),
                "overlapping" => Map(tx, tx, 1),
                "zero pages" => Map(tx, rx, 0),
                "too many pages" => Map(tx, rx, Personality.Default.MaxRxTxPages + 1),
                _ => Map(0x7000_0000, rx, 1),
            };
            a.Add(await c.CallAsync(frame));
        });
        Rig.ErrorOf(answers[0]).ShouldBe(expected);
        VmMailbox(platform).IsMapped.ShouldBeFalse();
        platform.Spmc!.Endpoint(new EndpointId(1)).ShouldBeNull();
    }

    [Fact]
    public void Map_Twice_IsDenied_AndTheFirstMappingStays()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            a.Add(await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1)));
            a.Add(await c.CallAsync(Map(c.Buffers.Rx, c.Buffers.Tx, 1)));
        });
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Denied);
        VmMailbox(platform).TxAddress.ShouldBe(platform.BuffersOf(new EndpointId(1)).Tx);
    }

    [Fact]
    public void Unmap_Unmaps_HereAndAtTheSpmc_AndASecondUnmapIsInvalid()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            a.Add(await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1)));
            a.Add(await c.Call(Rig.Id32(FfaFunction.RxTxUnmap)));
            a.Add(await c.Call(Rig.Id32(FfaFunction.RxTxUnmap)));
        });
        Rig.ErrorOf(answers[1]).ShouldBeNull();
        Rig.ErrorOf(answers[2]).ShouldBe(FfaError.InvalidParameters);
        VmMailbox(platform).IsMapped.ShouldBeFalse();
        platform.Spmc!.Endpoint(new EndpointId(1))!.Mailbox.IsMapped.ShouldBeFalse();
    }

    [Fact]
    public void Unmap_NamingAVmFromAVm_IsInvalidParameters_AndTheBuffersStay()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1));
            a.Add(await c.Call(Rig.Id32(FfaFunction.RxTxUnmap), 0x0001_0000));
        });
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.InvalidParameters);
        VmMailbox(platform).IsMapped.ShouldBeTrue();
    }

    [Fact]
    public void RxRelease_OfABufferTheVmDoesNotOwn_IsDenied()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1));
            a.Add(await c.Call(Rig.Id32(FfaFunction.RxRelease)));
        });
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.Denied);
        VmMailbox(platform).RxOwner.ShouldBe(RxOwner.Manager);
    }

    [Fact]
    public void RxRelease_AfterPartitionInfo_GivesTheBufferBack_HereAndAtTheSpmc()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1));
            a.Add(await c.Call(Rig.Id32(FfaFunction.PartitionInfoGet)));
            a.Add(await c.Call(Rig.Id32(FfaFunction.RxRelease)));
            a.Add(await c.Call(Rig.Id32(FfaFunction.RxRelease)));
        });
        Rig.ErrorOf(answers[0]).ShouldBeNull();
        Rig.ErrorOf(answers[1]).ShouldBeNull();
        Rig.ErrorOf(answers[2]).ShouldBe(FfaError.Denied);
        VmMailbox(platform).RxOwner.ShouldBe(RxOwner.Manager);
        platform.Spmc!.Endpoint(new EndpointId(1))!.Mailbox.RxOwner.ShouldBe(RxOwner.Manager);
    }

    [Fact]
    public void RxRelease_NamingAVmFromAVm_IsInvalidParameters()
    {
        var (_, answers) = RunVm(async (c, a) =>
        {
            await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1));
            a.Add(await c.Call(Rig.Id32(FfaFunction.RxRelease), 2));
        });
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.InvalidParameters);
    }

    [Fact]
    public void RxAcquire_FromAVm_IsNotSupported()
    {
        var (_, answers) = RunVm(async (c, a) => a.Add(await c.Call(Rig.Id32(FfaFunction.RxAcquire), 1)));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.NotSupported);
    }

    [Fact]
    public void RxAcquire_AtTheSpmc_TakesAFreeVmBuffer_AndIsDeniedWhileTaken()
    {
        var platform = Rig.Run(Rig.Vm("vm1", 1, async c => await c.CallAsync(Map(c.Buffers.Tx, c.Buffers.Rx, 1))));
        var spmc = platform.Spmc!;
        var hypervisorVcpu = new global::Firmament.Machine.Vcpu(new global::Firmament.Machine.VcpuId(EndpointId.Hypervisor, 9), spmc, null!, 0);
        var acquire = RegisterFrame.Of(Rig.Id32(FfaFunction.RxAcquire), 1);
        spmc.CallFromNormalWorld(hypervisorVcpu, ref acquire);
        Rig.ErrorOf(acquire).ShouldBeNull();
        spmc.Endpoint(new EndpointId(1))!.Mailbox.RxOwner.ShouldBe(RxOwner.Hypervisor);
        var again = RegisterFrame.Of(Rig.Id32(FfaFunction.RxAcquire), 1);
        spmc.CallFromNormalWorld(hypervisorVcpu, ref again);
        Rig.ErrorOf(again).ShouldBe(FfaError.Denied);
        var unknown = RegisterFrame.Of(Rig.Id32(FfaFunction.RxAcquire), 7);
        spmc.CallFromNormalWorld(hypervisorVcpu, ref unknown);
        Rig.ErrorOf(unknown).ShouldBe(FfaError.InvalidParameters);
    }
}
