using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;
using FsCheck;
using FsCheck.Fluent;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Gunyah;

public class GunyahDescriberTests
{
    [Fact]
    public void Describe_MsgqueueSendOverSmccc_NamesTheCallAndEveryField()
    {
        var frame = RegisterFrame.Of(0xC600801B, 0x8A3F, 240, 0x8000_1000, 1, 0);

        var d = GunyahDescriber.Describe(frame);

        d.Abi.ShouldBe("GH_MSGQUEUE_SEND");
        d.FunctionId.ShouldBe(0xC600801Bu);
        d.Convention.ShouldBe("HVC64 (SMCCC)");
        d.Fields.Select(static f => (f.Name, f.Value)).ShouldBe(
            [("cap", 0x8A3FUL), ("size", 240UL), ("buffer", 0x8000_1000UL), ("flags", 1UL), ("push", 1UL)]);
        d.Fields.Single(static f => f.Name == "flags").Text.ShouldBe("PUSH");
        d.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void DescribeNative_ReadsArgumentsFromX0_AndNamesTheImmediate()
    {
        var frame = RegisterFrame.Of(0x8A3F, 240, 0x8000_1000, 0, 0);

        var d = GunyahDescriber.DescribeNative(0x601B, frame);

        d.Abi.ShouldBe("GH_MSGQUEUE_SEND");
        d.Convention.ShouldBe("HVC #0x601B");
        d.FunctionId.ShouldBe(0xC600801Bu);
        d.Fields.Select(static f => (f.Name, f.Value)).ShouldBe(
            [("cap", 0x8A3FUL), ("size", 240UL), ("buffer", 0x8000_1000UL), ("flags", 0UL), ("push", 0UL)]);
        d.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Describe_NonZeroReservedSlot_Warns()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008014, 3, 0x55));
        d.Abi.ShouldBe("GH_DOORBELL_RESET");
        d.Warnings.ShouldBe(["x2: reserved, must be zero (0x55)"]);
    }

    [Fact]
    public void Describe_SendFlagsWithReservedBits_WarnsAboutTheMbzBits()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC600801B, 1, 8, 0x1000, 0x3, 0));
        d.Warnings.ShouldBe(["x4 (flags) bits 63:1: MBZ bits set (0x2)"]);
    }

    [Fact]
    public void Describe_DoorbellReceiveWithZeroClearFlags_Warns()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008013, 3, 0, 0));
        d.Abi.ShouldBe("GH_DOORBELL_RECEIVE");
        d.Fields.Select(static f => f.Name).ShouldBe(["cap", "clear_flags"]);
        d.Warnings.Single().ShouldContain("clear_flags is zero");
    }

    [Fact]
    public void Describe_DoorbellMask_NamesBothMasks()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008015, 3, 1, 1, 0));
        d.Fields.Select(static f => (f.Name, f.Value)).ShouldBe([("cap", 3UL), ("enable_mask", 1UL), ("ack_mask", 1UL)]);
        d.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Describe_ConfigureSendWithADelay_WarnsThatDelaysAreUnimplemented()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC600801F, 3, 4, 100, ulong.MaxValue));
        d.Fields.Select(static f => f.Name).ShouldBe(["cap", "threshold", "delay"]);
        d.Fields.Single(static f => f.Name == "delay").SignedValue.ShouldBe(100);
        d.Warnings.Single().ShouldContain("delay must be -1");
    }

    [Fact]
    public void Describe_ConfigureReceiveWithDefaults_ShowsMinusOneAndNoWarning()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008020, 3, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue));
        d.Fields.Single(static f => f.Name == "threshold").ShouldBe(DescribedField.OfSigned("threshold", -1, "unchanged"));
        d.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Describe_ConfigureReceiveWithReservedSlotNotMinusOne_Warns()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008020, 3, 1, ulong.MaxValue, 0));
        d.Warnings.ShouldBe(["x4: reserved, must be -1 (0x0)"]);
    }

    [Fact]
    public void Describe_MsgqueueConfigure_SplitsCreateInfoAndWarnsOnRangeAndMbz()
    {
        var ok = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008021, 3, 0x00F0_0008, 0));
        ok.Fields.Select(static f => (f.Name, f.Value)).ShouldBe([("cap", 3UL), ("queue_depth", 8UL), ("max_msg_size", 240UL)]);
        ok.Warnings.ShouldBeEmpty();

        var bad = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008021, 3, 0x1_0400_0000, 0));
        bad.Warnings.Count.ShouldBe(3);
        bad.Warnings[0].ShouldBe("x2 (create_info) bits 63:32: MBZ bits set (0x100000000)");
        bad.Warnings.ShouldContain(static w => w.StartsWith("queue_depth 0 is outside 1..255", StringComparison.Ordinal));
        bad.Warnings.ShouldContain(static w => w.StartsWith("max_msg_size 1024 is outside 1..1023", StringComparison.Ordinal));
    }

    [Fact]
    public void Describe_BindVirq_SplitsVirqAndTargetVcpu()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008018, 0x10, 0x20, 0x0300_03C0, 0));
        d.Abi.ShouldBe("GH_MSGQUEUE_BIND_RECEIVE_VIRQ");
        d.Fields.Select(static f => (f.Name, f.Value)).ShouldBe([("cap", 0x10UL), ("vic", 0x20UL), ("virq", 960UL), ("target_vcpu", 3UL)]);
        d.Fields.Single(static f => f.Name == "virq").Text.ShouldBe("SPI 928");
        d.Warnings.ShouldBeEmpty();

        GunyahDescriber.Describe(RegisterFrame.Of(0xC6008010, 1, 2, 0xF_0000_03C0, 0)).Warnings
            .ShouldBe(["x3 (virq_info) bits 63:32: MBZ bits set (0xF00000000)"]);
    }

    [Fact]
    public void Describe_VcpuRun_NamesTheResumeData()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC6008065, 7, 0xAB, 0, 0, 0));
        d.Abi.ShouldBe("GH_VCPU_RUN");
        d.Fields.Select(static f => f.Name).ShouldBe(["cap", "resume_data0", "resume_data1", "resume_data2"]);
    }

    [Fact]
    public void Describe_InvalidCap_SaysSo()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC600801D, ulong.MaxValue, 0));
        d.Fields.Single().Text.ShouldBe("CSPACE_CAP_INVALID");
    }

    [Fact]
    public void Describe_CallUid_IsGhCallUid()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0x8600FF01));
        d.Abi.ShouldBe("GH_CALL_UID");
        d.Convention.ShouldBe("HVC32 (SMCCC)");
        d.Warnings.ShouldBeEmpty();
        GunyahDescriber.Describe(RegisterFrame.Of(0x8600FF03)).Abi.ShouldBe("GH_REVISION");
    }

    [Theory]
    [InlineData(0xC6008016u, "unknown hypercall number 0x16: reserved (doorbell halt)")]
    [InlineData(0xC6008070u, "unknown hypercall number 0x70: not a hypercall")]
    [InlineData(0x8600801Bu, "bit 30 (SMC64) is clear")]
    [InlineData(0x4600801Bu, "bit 31 (fast call) is clear")]
    [InlineData(0xC600001Bu, "platform call")]
    [InlineData(0x84000063u, "owner 4 is not 6")]
    public void Describe_UnknownOrMalformedIds_AreUnknownWithThePreciseReason(uint w0, string reason)
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(w0));
        d.Abi.ShouldBe("UNKNOWN");
        d.FunctionId.ShouldBe(w0);
        d.Warnings.Single().ShouldContain(reason);
    }

    [Fact]
    public void Describe_IdWithReservedBits_IsStillTheCall_WithAWarning()
    {
        var d = GunyahDescriber.Describe(RegisterFrame.Of(0xC602801D, 5, 0));
        d.Abi.ShouldBe("GH_MSGQUEUE_FLUSH");
        d.Warnings.Single().ShouldContain("reserved bits 23:17");
    }

    [Fact]
    public void DescribeNative_UnknownNumberAndForeignImmediate_Warn()
    {
        var unknown = GunyahDescriber.DescribeNative(0x601E, default);
        unknown.Abi.ShouldBe("UNKNOWN");
        unknown.Warnings.Single().ShouldContain("msgqueue halt");

        var foreign = GunyahDescriber.DescribeNative(0x0000, default);
        foreign.Abi.ShouldBe("UNKNOWN");
        foreign.FunctionId.ShouldBe(0u);
        foreign.Warnings.Single().ShouldContain("outside Gunyah's immediates");
    }

    [Fact]
    public void DescribeResult_VcpuRun_NamesTheStateAndTheError()
    {
        var d = GunyahDescriber.DescribeResult(GunyahHypercall.VcpuRun, RegisterFrame.Of(0, 4, 0x9000_0000, 4));
        d.Fields.Select(static f => (f.Name, f.Text)).ShouldBe(
            [("error", "OK"), ("state", "ADDRSPACE_VMMIO_READ"), ("state_data0", ""), ("state_data1", ""), ("state_data2", "")]);

        var full = GunyahDescriber.DescribeResult(GunyahHypercall.MsgqueueSend, RegisterFrame.Of(61, 0));
        full.Fields.Select(static f => (f.Name, f.Text)).ShouldBe([("error", "ERROR_MSGQUEUE_FULL"), ("not_full", "false")]);
    }

    [Fact]
    public void DescribeRmPacket_Request_ShowsHeaderFieldsAndMessageName()
    {
        byte[] packet = [0x21, 0x01, 0x07, 0x00, 0x81, 0x00, 0x00, 0x56, 0x00, 0x00, 0x00, 0x00];

        var d = GunyahDescriber.DescribeRmPacket(packet);

        d.Abi.ShouldBe("VM_CONSOLE_OPEN");
        d.FunctionId.ShouldBe(0x56000081u);
        d.Convention.ShouldBe("RM RPC REQUEST");
        d.Fields.Select(static f => (f.Name, f.Value)).ShouldBe(
        [
            ("version", 1UL), ("header_words", 2UL), ("type", 1UL), ("num_fragments", 0UL), ("seq", 7UL),
            ("msg_id", 0x56000081UL), ("payload_length", 4UL),
        ]);
        d.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void DescribeRmPacket_Reply_ShowsTheRmError()
    {
        byte[] packet = [0x21, 0x02, 0x07, 0x00, 0x83, 0x00, 0x00, 0x56, 0x03, 0x00, 0x00, 0x00];
        var d = GunyahDescriber.DescribeRmPacket(packet);
        d.Convention.ShouldBe("RM RPC REPLY");
        d.Fields.Last().ShouldBe(DescribedField.Of("error", 3, "DENIED"));

        GunyahDescriber.DescribeRmPacket(packet.AsSpan(0, 10)).Warnings.Single().ShouldContain("4-byte RM error");
    }

    [Fact]
    public void DescribeRmPacket_Notification_HasNoErrorWord()
    {
        byte[] packet = [0x21, 0x03, 0x00, 0x00, 0x80, 0x00, 0x10, 0x56, 0x00, 0x00, 0x01, 0x00, (byte)'x'];
        var d = GunyahDescriber.DescribeRmPacket(packet);
        d.Abi.ShouldBe("VM_CONSOLE_CHARS");
        d.Fields.ShouldNotContain(static f => f.Name == "error");
        d.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void DescribeRmPacket_BadPackets_SayWhyReceiversDropThem()
    {
        GunyahDescriber.DescribeRmPacket([0x21, 0x01]).Warnings.Single().ShouldContain("shorter than the 8-byte header");
        GunyahDescriber.DescribeRmPacket([0x22, 0x01, 0, 0, 0x81, 0, 0, 0x56]).Warnings.Single().ShouldContain("API version 2");
        GunyahDescriber.DescribeRmPacket([0x21, 0xFD, 0, 0, 0x81, 0, 0, 0x56]).Warnings.Single().ShouldContain("num_fragments 63");
        GunyahDescriber.DescribeRmPacket([0x21, 0x01, 0, 0, 0, 0, 0, 0]).Warnings.Single().ShouldContain("message ID 0 is reserved");
        GunyahDescriber.DescribeRmPacket([0x21, 0x01, 0, 0, 0x80, 0, 0x10, 0x56]).Warnings.Single().ShouldContain("is a notification");
    }

    [Fact]
    public void Describers_OnRandomInput_NeverThrow()
    {
        Prop.ForAll(Arb.From(Gen.Zip(GunyahGen.Frame, Gen.Choose(0, 0xFFFF))), static c =>
        {
            var (frame, immediate) = c;
            _ = GunyahDescriber.Describe(frame);
            _ = GunyahDescriber.DescribeNative((ushort)immediate, frame);
            _ = GunyahDescriber.DescribeNative((ushort)(0x6000 | (immediate & 0x7F)), frame);
            foreach (var info in GunyahHypercalls.All)
            {
                _ = GunyahDescriber.Describe(GunyahGen.With(frame, 0, info.SmcccId));
                _ = GunyahDescriber.DescribeResult(info.Call, frame);
            }
        }).QuickCheckThrowOnFailure();

        Prop.ForAll(Arb.From(Gen.ArrayOf(Gen.Choose(0, 255).Select(static b => (byte)b))), static bytes =>
        {
            _ = GunyahDescriber.DescribeRmPacket(bytes);
        }).QuickCheckThrowOnFailure();
    }
}
