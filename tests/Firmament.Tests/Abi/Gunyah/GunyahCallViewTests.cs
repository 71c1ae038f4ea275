using Firmament.Abi;
using Firmament.Abi.Gunyah;
using FsCheck;
using FsCheck.Fluent;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Gunyah;

public class GunyahCallViewTests
{
    private static readonly Gen<ulong> U64 = GunyahGen.AnyU64;
    private static readonly Gen<CapId> Cap = GunyahGen.Cap;

    [Fact]
    public void DoorbellViews_RoundTripBothWays_InBothConventions()
    {
        CallRoundTrips(
            from d in Cap
            from v in Cap
            from q in GunyahGen.Virq
            select new DoorbellBindVirq(d, v, q));
        CallRoundTrips(Cap.Select(static c => new DoorbellUnbindVirq(c)));
        CallRoundTrips(Gen.Zip(Cap, U64, static (c, f) => new DoorbellSend(c, f)));
        CallRoundTrips(Gen.Zip(Cap, U64, static (c, f) => new DoorbellReceive(c, f)));
        CallRoundTrips(Cap.Select(static c => new DoorbellReset(c)));
        CallRoundTrips(
            from c in Cap
            from e in U64
            from a in U64
            select new DoorbellMask(c, e, a));
    }

    [Fact]
    public void MsgqueueViews_RoundTripBothWays_InBothConventions()
    {
        CallRoundTrips(
            from m in Cap
            from v in Cap
            from q in GunyahGen.Virq
            select new MsgqueueBindSendVirq(m, v, q));
        CallRoundTrips(
            from m in Cap
            from v in Cap
            from q in GunyahGen.Virq
            select new MsgqueueBindReceiveVirq(m, v, q));
        CallRoundTrips(Cap.Select(static c => new MsgqueueUnbindSendVirq(c)));
        CallRoundTrips(Cap.Select(static c => new MsgqueueUnbindReceiveVirq(c)));
        CallRoundTrips(
            from m in Cap
            from size in U64
            from buffer in U64
            from push in GunyahGen.Bool
            select new MsgqueueSend(m, size, buffer, push ? MsgqueueSendOptions.Push : MsgqueueSendOptions.None));
        CallRoundTrips(
            from m in Cap
            from buffer in U64
            from size in U64
            select new MsgqueueReceive(m, buffer, size));
        CallRoundTrips(Cap.Select(static c => new MsgqueueFlush(c)));
        CallRoundTrips(
            from m in Cap
            from t in GunyahGen.Register
            from d in GunyahGen.Register
            select new MsgqueueConfigureSend(m, t, d));
        CallRoundTrips(
            from m in Cap
            from t in GunyahGen.Register
            from d in GunyahGen.Register
            select new MsgqueueConfigureReceive(m, t, d));
        CallRoundTrips(
            from m in Cap
            from depth in Gen.Choose(0, 0xFFFF)
            from size in Gen.Choose(0, 0xFFFF)
            select new MsgqueueConfigure(m, new MsgqueueCreateInfo((ushort)depth, (ushort)size)));
    }

    [Fact]
    public void CspaceAndVcpuViews_RoundTripBothWays_InBothConventions()
    {
        CallRoundTrips(
            from s in Cap
            from c in Cap
            from d in Cap
            from r in GunyahGen.AnyU32
            select new CspaceCopyCapFrom(s, c, d, r));
        CallRoundTrips(Gen.Zip(Cap, Cap, static (s, c) => new CspaceDeleteCapFrom(s, c)));
        CallRoundTrips(Gen.Zip(Cap, Cap, static (s, c) => new CspaceRevokeCapFrom(s, c)));
        CallRoundTrips(Gen.Zip(Cap, Cap, static (s, c) => new CspaceRevokeCapsFrom(s, c)));
        CallRoundTrips(
            from c in Cap
            from r0 in U64
            from r1 in U64
            from r2 in U64
            select new VcpuRun(c, r0, r1, r2));
        CallRoundTrips(Gen.Constant(default(HypervisorIdentify)));
    }

    [Fact]
    public void ResultViews_RoundTripBothWays()
    {
        var error = GunyahGen.Error;
        ResultRoundTrips(error.Select(static e => new GunyahResult(e)));
        ResultRoundTrips(Gen.Zip(error, U64, static (e, f) => new DoorbellFlagsResult(e, f)));
        ResultRoundTrips(Gen.Zip(error, GunyahGen.Bool, static (e, b) => new MsgqueueSendResult(e, b)));
        ResultRoundTrips(
            from e in error
            from size in U64
            from more in GunyahGen.Bool
            select new MsgqueueReceiveResult(e, size, more));
        ResultRoundTrips(Gen.Zip(error, Cap, static (e, c) => new NewCapResult(e, c)));
        ResultRoundTrips(
            from e in error
            from state in Gen.Frequency((3, Gen.Elements(Enum.GetValues<VcpuRunState>())), (1, U64.Select(static v => (VcpuRunState)v)))
            from d0 in U64
            from d1 in U64
            from d2 in U64
            select new VcpuRunResult(e, state, d0, d1, d2));
        ResultRoundTrips(
            from info in U64
            from f0 in U64
            from f1 in U64
            from f2 in U64
            select new HypervisorIdentifyResult(new HypApiInfo(info), new HypApiFlags0(f0), (ApiFlags1)f1, f2));
        ResultRoundTrips(Gen.Zip(U64, U64, static (lo, hi) => new CallUidResult(new Uuid(lo, hi))));
        ResultRoundTrips(U64.Select(static v => new RevisionResult(new HypApiInfo(v))));
    }

    [Fact]
    public void RandomFrames_NeverThrow_AndDecodeLosslesslyWhenTheyDecode()
    {
        FramesDecodeLosslessly<DoorbellBindVirq>();
        FramesDecodeLosslessly<DoorbellUnbindVirq>();
        FramesDecodeLosslessly<DoorbellSend>();
        FramesDecodeLosslessly<DoorbellReceive>();
        FramesDecodeLosslessly<DoorbellReset>();
        FramesDecodeLosslessly<DoorbellMask>();
        FramesDecodeLosslessly<MsgqueueBindSendVirq>();
        FramesDecodeLosslessly<MsgqueueBindReceiveVirq>();
        FramesDecodeLosslessly<MsgqueueUnbindSendVirq>();
        FramesDecodeLosslessly<MsgqueueUnbindReceiveVirq>();
        FramesDecodeLosslessly<MsgqueueSend>();
        FramesDecodeLosslessly<MsgqueueReceive>();
        FramesDecodeLosslessly<MsgqueueFlush>();
        FramesDecodeLosslessly<MsgqueueConfigureSend>();
        FramesDecodeLosslessly<MsgqueueConfigureReceive>();
        FramesDecodeLosslessly<MsgqueueConfigure>();
        FramesDecodeLosslessly<CspaceCopyCapFrom>();
        FramesDecodeLosslessly<CspaceDeleteCapFrom>();
        FramesDecodeLosslessly<CspaceRevokeCapFrom>();
        FramesDecodeLosslessly<CspaceRevokeCapsFrom>();
        FramesDecodeLosslessly<VcpuRun>();
        FramesDecodeLosslessly<HypervisorIdentify>();
    }

    [Fact]
    public void RandomReturnFrames_NeverThrow()
    {
        Prop.ForAll(Arb.From(GunyahGen.Frame), static frame =>
        {
            _ = GunyahResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = DoorbellFlagsResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = MsgqueueSendResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = MsgqueueReceiveResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = NewCapResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = VcpuRunResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = HypervisorIdentifyResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = CallUidResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
            _ = RevisionResult.TryDecode(frame, GunyahConvention.Smccc, out _, out _);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void MsgqueueSend_Smccc_PutsArgumentsInX1ToX4AndZeroInX5()
    {
        var frame = default(RegisterFrame);
        new MsgqueueSend(new CapId(0x11), 240, 0x8000_1000, MsgqueueSendOptions.Push).Encode(ref frame, GunyahConvention.Smccc);
        frame.AsReadOnlySpan()[..6].ToArray().ShouldBe([0xC600801BUL, 0x11UL, 240UL, 0x8000_1000UL, 1UL, 0UL]);
    }

    [Fact]
    public void MsgqueueSend_Native_PutsArgumentsInX0ToX3AndZeroInX4()
    {
        var frame = RegisterFrame.Of(9, 9, 9, 9, 9, 9);
        new MsgqueueSend(new CapId(0x11), 240, 0x8000_1000, MsgqueueSendOptions.None).Encode(ref frame, GunyahConvention.Native);
        frame.AsReadOnlySpan()[..6].ToArray().ShouldBe([0x11UL, 240UL, 0x8000_1000UL, 0UL, 0UL, 9UL]);
    }

    [Theory]
    [InlineData(GunyahConvention.Smccc, 4)]
    [InlineData(GunyahConvention.Native, 3)]
    public void MsgqueueSend_WithReservedFlagBitsSet_IsAnMbzViolationInTheFlagsRegister(GunyahConvention convention, int flagsRegister)
    {
        var frame = default(RegisterFrame);
        new MsgqueueSend(new CapId(1), 8, 0x1000, MsgqueueSendOptions.Push).Encode(ref frame, convention);
        frame[flagsRegister] |= 0x8000_0000_0000_0002;

        MsgqueueSend.TryDecode(frame, convention, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(flagsRegister, 0x8000_0000_0000_0002));
    }

    [Theory]
    [InlineData(GunyahConvention.Smccc, 5)]
    [InlineData(GunyahConvention.Native, 4)]
    public void MsgqueueSend_WithNonZeroReservedSlot_IsAnMbzViolationInThatSlot(GunyahConvention convention, int slot)
    {
        var frame = default(RegisterFrame);
        new MsgqueueSend(new CapId(1), 8, 0x1000, MsgqueueSendOptions.None).Encode(ref frame, convention);
        frame[slot] = 0x40;

        MsgqueueSend.TryDecode(frame, convention, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(slot, 0x40));
    }

    [Fact]
    public void MsgqueueSend_RegistersAfterTheReservedSlot_AreNotRead()
    {
        var frame = default(RegisterFrame);
        new MsgqueueSend(new CapId(1), 8, 0x1000, MsgqueueSendOptions.None).Encode(ref frame, GunyahConvention.Smccc);
        frame[6] = 0xFFFF;
        frame[17] = 0xFFFF;
        MsgqueueSend.TryDecode(frame, GunyahConvention.Smccc, out _, out _).ShouldBeTrue();
    }

    [Theory]
    [InlineData(GunyahConvention.Smccc, 4)]
    [InlineData(GunyahConvention.Native, 3)]
    public void MsgqueueConfigureSend_ReservedSlotMustBeMinusOne(GunyahConvention convention, int slot)
    {
        var frame = default(RegisterFrame);
        new MsgqueueConfigureSend(new CapId(1), 3, MsgqueueThreshold.Unchanged).Encode(ref frame, convention);
        frame[slot].ShouldBe(ulong.MaxValue);
        frame[slot] = 0;

        MsgqueueConfigureSend.TryDecode(frame, convention, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Reserved(slot, 0));
    }

    [Fact]
    public void MsgqueueConfigureReceive_WithADelay_DecodesAndSaysTheDelayIsUnsupported()
    {
        // A delay other than -1 is a well-formed frame: the hypervisor answers ERROR_UNIMPLEMENTED.
        var frame = RegisterFrame.Of(0xC6008020, 5, 2, 1000, ulong.MaxValue);
        MsgqueueConfigureReceive.TryDecode(frame, GunyahConvention.Smccc, out var call, out _).ShouldBeTrue();
        call.ShouldBe(new MsgqueueConfigureReceive(new CapId(5), 2, 1000));
        call.IsDelaySupported.ShouldBeFalse();
    }

    [Fact]
    public void MsgqueueConfigure_PacksDepthAndSize_AndRejectsBits63To32()
    {
        new MsgqueueCreateInfo(8, 240).Pack().ShouldBe(0x00F0_0008UL);

        var frame = RegisterFrame.Of(0xC6008021, 7, 0x1_00F0_0008);
        MsgqueueConfigure.TryDecode(frame, GunyahConvention.Smccc, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(2, 0x1_0000_0000));
    }

    [Fact]
    public void MsgqueueConfigure_WithDepthOrSizeOutOfRange_StillDecodes()
    {
        var frame = RegisterFrame.Of(0xC6008021, 7, 0x0400_0100);
        MsgqueueConfigure.TryDecode(frame, GunyahConvention.Smccc, out var call, out _).ShouldBeTrue();
        call.CreateInfo.ShouldBe(new MsgqueueCreateInfo(256, 1024));
        call.CreateInfo.IsQueueDepthInRange.ShouldBeFalse();
        call.CreateInfo.IsMaxMsgSizeInRange.ShouldBeFalse();
    }

    [Theory]
    [InlineData(GunyahConvention.Smccc, 3)]
    [InlineData(GunyahConvention.Native, 2)]
    public void BindVirq_WithVirqInfoBits63To32Set_IsAnMbzViolation(GunyahConvention convention, int virqRegister)
    {
        var frame = default(RegisterFrame);
        new DoorbellBindVirq(new CapId(1), new CapId(2), new VirqInfo(960, 0)).Encode(ref frame, convention);
        frame[virqRegister].ShouldBe(960UL);
        frame[virqRegister] |= 0x1_0000_0000;

        DoorbellBindVirq.TryDecode(frame, convention, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(virqRegister, 0x1_0000_0000));
    }

    [Fact]
    public void VirqInfo_PacksVirqInBits23To0AndTargetVcpuIn31To24()
    {
        new VirqInfo(0x12_3456, 0xAB).Pack().ShouldBe(0xAB12_3456UL);
        VirqInfo.TryUnpack(0xAB12_3456, out var info, out _).ShouldBeTrue();
        info.ShouldBe(new VirqInfo(0x12_3456, 0xAB));
        Should.Throw<InvalidOperationException>(() => new VirqInfo(0x100_0000, 0).Pack());
    }

    [Fact]
    public void DoorbellReceive_WithZeroClearFlags_Decodes()
    {
        // Zero is refused by the call (ERROR_ARGUMENT_INVALID), not by the frame.
        var frame = RegisterFrame.Of(0xC6008013, 3, 0, 0);
        DoorbellReceive.TryDecode(frame, GunyahConvention.Smccc, out var call, out _).ShouldBeTrue();
        call.ClearFlags.ShouldBe(0UL);
    }

    [Fact]
    public void CspaceCopyCapFrom_WithRightsBits63To32Set_IsAnMbzViolation()
    {
        // A choice of this layer: cap_rights_t is 32 bits wide.
        var frame = RegisterFrame.Of(0xC6008023, 1, 2, 3, 0x1_0000_0003, 0);
        CspaceCopyCapFrom.TryDecode(frame, GunyahConvention.Smccc, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(4, 0x1_0000_0000));
    }

    [Fact]
    public void SmcccDecode_OfAnotherFunction_IsWrongFunction()
    {
        var frame = RegisterFrame.Of(0xC600801C, 1, 2, 3, 0, 0);
        MsgqueueSend.TryDecode(frame, GunyahConvention.Smccc, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.WrongFunction(0xC600801C));
    }

    [Fact]
    public void SmcccDecode_AcceptsTheSveHintAndIgnoresX0Bits63To32()
    {
        var frame = RegisterFrame.Of(0xFFFF_0000_C601_801B, 1, 8, 0x1000, 0, 0);
        MsgqueueSend.TryDecode(frame, GunyahConvention.Smccc, out var call, out _).ShouldBeTrue();
        call.ShouldBe(new MsgqueueSend(new CapId(1), 8, 0x1000, MsgqueueSendOptions.None));
    }

    [Fact]
    public void NativeDecode_ReadsArgumentsFromX0()
    {
        var frame = RegisterFrame.Of(7, 0xA, 0xB, 0xC, 0);
        VcpuRun.TryDecode(frame, GunyahConvention.Native, out var run, out _).ShouldBeTrue();
        run.ShouldBe(new VcpuRun(new CapId(7), 0xA, 0xB, 0xC));
    }

    [Fact]
    public void VcpuRunResult_CarriesPsciSystemResetAndItsResetType()
    {
        var frame = RegisterFrame.Of(0, 0x100, 0x8000_0000_0000_0000, 0);
        VcpuRunResult.TryDecode(frame, GunyahConvention.Smccc, out var result, out _).ShouldBeTrue();
        result.State.ShouldBe(VcpuRunState.PsciSystemReset);
        result.State.Name().ShouldBe("PSCI_SYSTEM_RESET");
        new PsciResetType(result.StateData0).IsSystemReset.ShouldBeTrue();
        PsciResetType.SystemReset2(1, smc64: true).Value.ShouldBe(0x4000_0000_0000_0001UL);
    }

    [Fact]
    public void MsgqueueSendResult_WithNotFullOtherThan0Or1_DoesNotDecode()
    {
        var frame = RegisterFrame.Of(0, 2);
        MsgqueueSendResult.TryDecode(frame, GunyahConvention.Smccc, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Range(1, 2));
    }

    [Fact]
    public void ResultDecode_WithAnErrorThatIsNotSignExtended_DoesNotDecode()
    {
        var frame = RegisterFrame.Of(0xFFFF_FFFF);
        GunyahResult.TryDecode(frame, GunyahConvention.Smccc, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Range(0, 0xFFFF_FFFF));
    }

    [Fact]
    public void MsgqueueFullResult_EncodesErrorAndNotFullFalse()
    {
        var frame = default(RegisterFrame);
        new MsgqueueSendResult(GunyahError.MsgqueueFull, false).Encode(ref frame, GunyahConvention.Smccc);
        frame.X0.ShouldBe(61UL);
        frame.X1.ShouldBe(0UL);
    }

    private static void CallRoundTrips<T>(Gen<T> values)
        where T : struct, IGunyahCallView<T>
    {
        var cases = from value in values
                    from convention in GunyahGen.Convention
                    from noise in GunyahGen.Frame
                    select (value, convention, noise);
        Prop.ForAll(Arb.From(cases), static c =>
        {
            var (value, convention, noise) = c;
            var frame = noise;
            value.Encode(ref frame, convention);
            T.TryDecode(frame, convention, out var back, out var violation).ShouldBeTrue($"{typeof(T).Name} {convention}: {violation}");
            back.ShouldBe(value);

            var again = frame;
            back.Encode(ref again, convention);
            again.ShouldBe(frame);
        }).QuickCheckThrowOnFailure();
    }

    private static void ResultRoundTrips<T>(Gen<T> values)
        where T : struct, IGunyahResultView<T>
    {
        var cases = Gen.Zip(values, GunyahGen.Convention);
        Prop.ForAll(Arb.From(cases), static c =>
        {
            var (value, convention) = c;
            var frame = default(RegisterFrame);
            value.Encode(ref frame, convention);
            T.TryDecode(frame, convention, out var back, out var violation).ShouldBeTrue($"{typeof(T).Name}: {violation}");
            back.ShouldBe(value);

            var again = default(RegisterFrame);
            back.Encode(ref again, convention);
            again.ShouldBe(frame);
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>
    /// Random frames for the call (x0 its ID, or not): decoding never throws, and a frame that decodes encodes back
    /// to itself, x0 aside (encode writes the canonical ID).
    /// </summary>
    private static void FramesDecodeLosslessly<T>()
        where T : struct, IGunyahCallView<T>
    {
        var cases = Gen.Zip(GunyahGen.FrameFor(T.Hypercall), GunyahGen.Convention);
        Prop.ForAll(Arb.From(cases), static c =>
        {
            var (frame, convention) = c;
            if (!T.TryDecode(frame, convention, out var value, out var violation))
            {
                violation.IsNone.ShouldBeFalse();
                return;
            }

            var expected = frame;
            if (convention == GunyahConvention.Smccc)
            {
                expected[0] = GunyahHypercalls.SmcccId(T.Hypercall);
            }

            var again = frame;
            value.Encode(ref again, convention);
            again.ShouldBe(expected, typeof(T).Name);
        }).QuickCheckThrowOnFailure();
    }
}
