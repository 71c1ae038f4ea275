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

public class DiscoveryTests
{
    private static RegisterFrame Version(FfaVersion v) => RegisterFrame.Of(Rig.Id32(FfaFunction.Version), v.Encode());

    /// <summary>Runs one VM program alone with an echo SP and returns what it recorded.</summary>
    private static (Platform Platform, List<RegisterFrame> Answers) RunVm(Func<EndpointContext, List<RegisterFrame>, ValueTask> body, Personality? personality = null)
    {
        var answers = new List<RegisterFrame>();
        var vm = Rig.Vm("vm1", 1, context => body(context, answers));
        var platform = Rig.Run(new PlatformDescription
        {
            Pcpus = 1,
            Personality = personality ?? Personality.Default,
            Partitions = [vm, Rig.Sp("sp1", 0x8001, Rig.EchoSp)],
        });
        return (platform, answers);
    }

    [Fact]
    public void Version_AnswersItsOwnVersionInBareW0()
    {
        var (_, answers) = RunVm(async (c, a) => a.Add(await c.CallAsync(Version(FfaVersion.V1_1))));
        answers[0].X0.ShouldBe(0x0001_0002UL);
        answers[0].X1.ShouldBe(0UL);
    }

    [Fact]
    public void Version_NewerMinor_DefaultAnswersOwnVersion_HafniumRefuses()
    {
        var newer = new FfaVersion(1, 3);
        var (_, byDefault) = RunVm(async (c, a) => a.Add(await c.CallAsync(Version(newer))));
        byDefault[0].W(0).ShouldBe(0x0001_0002u);

        var (_, hafnium) = RunVm(async (c, a) => a.Add(await c.CallAsync(Version(newer))), Personality.Hafnium);
        hafnium[0].W(0).ShouldBe(FfaVersion.NotSupported);
    }

    [Fact]
    public void Version_WithBit31Set_IsNotSupported_AndChangesNothing()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            a.Add(await c.Call(Rig.Id32(FfaFunction.Version), 0x8001_0002));
            a.Add(await c.CallAsync(Version(FfaVersion.V1_0)));
        });
        answers[0].W(0).ShouldBe(FfaVersion.NotSupported);
        answers[1].W(0).ShouldBe(0x0001_0002u);
        platform.Hypervisor!.Endpoint(new EndpointId(1))!.Version.ShouldBe(FfaVersion.V1_0);
    }

    [Fact]
    public void Version_LockedByTheFirstOtherCall_AnotherVersionIsRefused()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            a.Add(await c.CallAsync(Version(FfaVersion.V1_1)));
            a.Add(await c.Call(Rig.Id32(FfaFunction.IdGet)));
            a.Add(await c.CallAsync(Version(FfaVersion.V1_2)));
            a.Add(await c.CallAsync(Version(FfaVersion.V1_1)));
        });
        answers[2].W(0).ShouldBe(FfaVersion.NotSupported);
        answers[3].W(0).ShouldBe(0x0001_0002u);
        var endpoint = platform.Hypervisor!.Endpoint(new EndpointId(1))!;
        endpoint.Version.ShouldBe(FfaVersion.V1_1);
        endpoint.VersionLocked.ShouldBeTrue();
    }

    [Fact]
    public void Version_CallsTheHypervisorMakesForAVm_DoNotLockTheVmsVersionAtTheSpmc()
    {
        var (platform, _) = RunVm(async (c, a) =>
        {
            a.Add(await c.CallAsync(Version(FfaVersion.V1_2)));
            var buffers = c.Buffers;
            var map = default(RegisterFrame);
            new RxTxMap(true, buffers.Tx, buffers.Rx, buffers.Pages).Encode(ref map);
            a.Add(await c.CallAsync(map));
        });
        var atSpmc = platform.Spmc!.Endpoint(new EndpointId(1))!;
        atSpmc.Mailbox.IsMapped.ShouldBeTrue();
        atSpmc.VersionLocked.ShouldBeFalse();
    }

    [Fact]
    public void Xen_AVmCallBeforeVersion_IsNotSupported_AndDoesNotLockTheVersion()
    {
        var (platform, answers) = RunVm(
            async (c, a) =>
            {
                a.Add(await c.Call(Rig.Id32(FfaFunction.IdGet)));
                a.Add(await c.CallAsync(Version(FfaVersion.V1_1)));
                a.Add(await c.Call(Rig.Id32(FfaFunction.IdGet)));
            },
            Personality.Xen);
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.NotSupported);
        answers[1].W(0).ShouldBe(FfaVersion.V1_2.Encode());
        answers[2].W(2).ShouldBe(1u);
        platform.Hypervisor!.Endpoint(new EndpointId(1))!.Version.ShouldBe(FfaVersion.V1_1);
    }

    [Fact]
    public void Xen_TheSpmcUnderIt_ServesAnSpBeforeVersion()
    {
        // "VERSION first" is the Xen mediator's rule for its guests, not the SPMC's: an SP's first call is served.
        var answers = new List<RegisterFrame>();
        var sp = Rig.Sp("sp1", 0x8001, async c =>
        {
            answers.Add(await c.Call(Rig.Id32(FfaFunction.IdGet)));
            await c.Call(Rig.Id32(FfaFunction.MsgWait));
        });
        var platform = Rig.Run(new PlatformDescription { Pcpus = 1, Personality = Personality.Xen, Partitions = [sp] });
        Rig.ErrorOf(answers[0]).ShouldBeNull();
        answers[0].W(2).ShouldBe(0x8001u);
        platform["sp1"].Vcpus[0].State.ShouldBe(Firmament.Machine.VcpuState.Waiting);
    }

    [Fact]
    public void V11Abi_FromAV10Caller_IsNotSupported()
    {
        var (_, answers) = RunVm(async (c, a) =>
        {
            await c.CallAsync(Version(FfaVersion.V1_0));
            a.Add(await c.Call(Rig.Id32(FfaFunction.SpmIdGet)));
        });
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.NotSupported);
    }

    [Fact]
    public void Features_RxTxMap_ReportsFourKiBAlignmentAndTheMaximumForV12Callers()
    {
        var (_, answers) = RunVm(async (c, a) =>
        {
            await c.CallAsync(Version(FfaVersion.V1_2));
            a.Add(await c.Call(Rig.Id32(FfaFunction.Features), Rig.Id64(FfaFunction.RxTxMap)));
        });
        answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.Success));
        answers[0].W(2).ShouldBe(Personality.Default.MaxRxTxPages << 16);
    }

    [Theory]
    [InlineData(0x840000FFu)] // not a function
    [InlineData(0x84000084u)] // RX_ACQUIRE: the hypervisor's own, hidden from VMs
    [InlineData(0xC4000063u)] // VERSION has no SMC64 ID
    [InlineData(0x00000003u)] // MEI: managed exit is not built
    public void Features_ForWhatIsNotOffered_IsNotSupported(uint query)
    {
        var (_, answers) = RunVm(async (c, a) => a.Add(await c.Call(Rig.Id32(FfaFunction.Features), query)));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.NotSupported);
    }

    [Fact]
    public void IdGet_AndSpmIdGet_NameTheCallerAndTheSpmc()
    {
        var (_, answers) = RunVm(async (c, a) =>
        {
            a.Add(await c.Call(Rig.Id32(FfaFunction.IdGet)));
            a.Add(await c.Call(Rig.Id32(FfaFunction.SpmIdGet)));
        });
        answers[0].W(2).ShouldBe(1u);
        answers[1].W(2).ShouldBe(0x8000u);
    }

    [Fact]
    public void PartitionInfoGet_WritesVmsAndSpsIntoTheRxBuffer_AndHandsItToTheCaller()
    {
        byte[] rx = [];
        var (platform, answers) = RunVm(async (c, a) =>
        {
            await MapAsync(c);
            a.Add(await c.CallAsync(InfoGet(Uuid.Nil)));
            rx = new byte[4096];
            c.Memory.TryRead(c.Buffers.Rx, rx, out _);
            a.Add(await c.CallAsync(InfoGet(Uuid.Nil)));
        });
        answers[0].W(2).ShouldBe(2u); // vm1 itself (a v1.2 caller sees itself) and sp1
        answers[0].W(3).ShouldBe(24u);
        PartitionInfoDescriptors.TryRead(rx, 2, 24, out var list, out _).ShouldBeTrue();
        list[0].Id.ShouldBe(new EndpointId(1));
        list[1].Id.ShouldBe(new EndpointId(0x8001));
        list[1].Uuid.ShouldBe(Rig.SpUuid);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Busy); // the buffer is the caller's until released
        platform.Hypervisor!.Endpoint(new EndpointId(1))!.Mailbox.RxOwner.ShouldBe(RxOwner.Endpoint);
    }

    [Fact]
    public void PartitionInfoGet_CountOnly_LeavesTheRxBufferAlone()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            await MapAsync(c);
            var count = InfoGet(Uuid.Nil);
            count[5] = 1;
            a.Add(await c.CallAsync(count));
        });
        answers[0].W(2).ShouldBe(2u);
        platform.Hypervisor!.Endpoint(new EndpointId(1))!.Mailbox.RxOwner.ShouldBe(RxOwner.Manager);
    }

    [Fact]
    public void PartitionInfoGet_UnknownUuid_IsInvalidParameters_AndTheBufferStaysFree()
    {
        var (platform, answers) = RunVm(async (c, a) =>
        {
            await MapAsync(c);
            a.Add(await c.CallAsync(InfoGet(Uuid.Parse("99999999-0000-0000-0000-000000000000"))));
        });
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.InvalidParameters);
        platform.Hypervisor!.Endpoint(new EndpointId(1))!.Mailbox.RxOwner.ShouldBe(RxOwner.Manager);
    }

    [Fact]
    public void PartitionInfoGet_ByUuid_ListsOnlyThatPartition()
    {
        var (_, answers) = RunVm(async (c, a) =>
        {
            await MapAsync(c);
            a.Add(await c.CallAsync(InfoGet(Rig.SpUuid)));
        });
        answers[0].W(2).ShouldBe(1u);
    }

    [Fact]
    public void PartitionInfoGet_FromAV10Caller_Writes8ByteDescriptors_WithoutItsOwnEntry()
    {
        byte[] rx = new byte[4096];
        var (_, answers) = RunVm(async (c, a) =>
        {
            await c.CallAsync(Version(FfaVersion.V1_0));
            await MapAsync(c);
            a.Add(await c.CallAsync(InfoGet(Uuid.Nil)));
            c.Memory.TryRead(c.Buffers.Rx, rx, out _);
        });
        answers[0].W(2).ShouldBe(1u);
        answers[0].W(3).ShouldBe(0u); // v1.0 has no size in w3
        PartitionInfoDescriptors.TryRead(rx, 1, 8, out var list, out _).ShouldBeTrue();
        list[0].Id.ShouldBe(new EndpointId(0x8001));
        ((uint)list[0].Properties & ~7u).ShouldBe(0u); // v1.0 sees bits 2:0 only
    }

    [Fact]
    public void PartitionInfoGet_WithoutBuffers_IsBusy()
    {
        var (_, answers) = RunVm(async (c, a) => a.Add(await c.CallAsync(InfoGet(Uuid.Nil))));
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.Busy);
    }

    [Fact]
    public void PartitionInfoGetRegs_PacksDescriptorsInRegisters_AndRefusesTagsAndBadIndices()
    {
        var (_, answers) = RunVm(async (c, a) =>
        {
            a.Add(await c.CallAsync(Regs(0, 0)));
            a.Add(await c.CallAsync(Regs(0, 5)));
            a.Add(await c.CallAsync(Regs(2, 0)));
        });
        PartitionInfoGetRegsSuccess.TryDecode(answers[0], out var success, out _).ShouldBeTrue();
        success.LastIndex.ShouldBe((ushort)1);
        success.CurrentIndex.ShouldBe((ushort)1);
        success.TryRead(0, out var reader, out _).ShouldBeTrue();
        reader[1].Id.ShouldBe(new EndpointId(0x8001));
        reader[1].Uuid.ShouldBe(Rig.SpUuid);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Retry);
        Rig.ErrorOf(answers[2]).ShouldBe(FfaError.InvalidParameters);
    }

    internal static async ValueTask MapAsync(EndpointContext c)
    {
        var map = default(RegisterFrame);
        new RxTxMap(true, c.Buffers.Tx, c.Buffers.Rx, c.Buffers.Pages).Encode(ref map);
        var answer = await c.CallAsync(map);
        if (Rig.ErrorOf(answer) is { } error)
        {
            throw new InvalidOperationException($"RXTX_MAP failed: {error}");
        }
    }

    private static RegisterFrame InfoGet(Uuid uuid)
    {
        var frame = default(RegisterFrame);
        new PartitionInfoGet(uuid, PartitionInfoGetFlags.None).Encode(ref frame);
        return frame;
    }

    private static RegisterFrame Regs(ushort start, ushort tag)
    {
        var frame = default(RegisterFrame);
        new PartitionInfoGetRegs(Uuid.Nil, start, tag).Encode(ref frame);
        return frame;
    }
}
