using Firmament.Abi;
using Firmament.Abi.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Calls;

public class FfaDescriberTests
{
    private static readonly FfaVersion V12 = FfaVersion.V1_2;

    public static TheoryData<ulong[], string, string[]> FieldNames => new()
    {
        { [0x84000063, 0x10002], "FFA_VERSION", ["version", "major", "minor"] },
        { [0x84000064, 0x84000074, 2], "FFA_FEATURES", ["function_id", "input_properties"] },
        { [0x84000064, 2], "FFA_FEATURES", ["feature_id", "input_properties"] },
        { [0x84000069], "FFA_ID_GET", [] },
        { [0x84000068, 0, 0, 0, 0, 1], "FFA_PARTITION_INFO_GET", ["uuid_lo", "uuid_hi", "flags", "count_only"] },
        { [0xC400008B, 0, 0, 0], "FFA_PARTITION_INFO_GET_REGS", ["uuid_lo", "uuid_hi", "start_index", "tag"] },
        { [0xC4000066, 0x1000, 0x2000, 1], "FFA_RXTX_MAP", ["tx_address", "rx_address", "page_count"] },
        { [0x84000067, 0], "FFA_RXTX_UNMAP", ["vm_id"] },
        { [0x84000065, 0], "FFA_RX_RELEASE", ["vm_id"] },
        { [0x8400006F, 0x00028001, 0], "FFA_MSG_SEND_DIRECT_REQ", ["sender", "receiver", "flags", "framework", "payload0", "payload1", "payload2", "payload3", "payload4"] },
        { [0x84000070, 0x80010002, 0x80000009, 0x10002], "FFA_MSG_SEND_DIRECT_RESP", ["sender", "receiver", "flags", "framework", "message_type", "payload0", "payload1", "payload2", "payload3", "payload4"] },
        { [0x84000086, 0, 2], "FFA_MSG_SEND2", ["sender_vm", "flags"] },
        { [0x8400006B, 0, 1], "FFA_MSG_WAIT", ["flags"] },
        { [0x8400006D, 0x80010000], "FFA_RUN", ["endpoint", "vcpu"] },
        { [0x8400006C, 0x80010000, 5], "FFA_YIELD", ["endpoint", "vcpu", "timeout"] },
        { [0x84000062, 0x80010000, 5], "FFA_INTERRUPT", ["endpoint", "vcpu", "interrupt_id"] },
        { [0x8400008A, 2, 0x6968], "FFA_CONSOLE_LOG", ["char_count", "chars"] },
        { [0x8400007D, 2, 4], "FFA_NOTIFICATION_BITMAP_CREATE", ["vm_id", "vcpu_count"] },
        { [0x8400007F, 0x80010002, 0, 3], "FFA_NOTIFICATION_BIND", ["sender", "receiver", "flags", "bitmap"] },
        { [0x84000080, 0x80010002, 0, 3], "FFA_NOTIFICATION_UNBIND", ["sender", "receiver", "bitmap"] },
        { [0x84000081, 0x80010002, 0, 3], "FFA_NOTIFICATION_SET", ["sender", "receiver", "flags", "vcpu", "bitmap"] },
        { [0x84000082, 0x00010002, 0xF], "FFA_NOTIFICATION_GET", ["vcpu", "receiver", "flags"] },
        { [0xC4000073, 0x70, 0x70, 0, 0], "FFA_MEM_SHARE", ["total_length", "fragment_length", "address", "page_count"] },
        { [0x84000075, 0x70, 0x70], "FFA_MEM_RETRIEVE_RESP", ["total_length", "fragment_length"] },
        { [0x84000077, 1, 0, 1], "FFA_MEM_RECLAIM", ["handle", "flags"] },
        { [0x8400007A, 1, 0, 0x70, 0], "FFA_MEM_FRAG_RX", ["handle", "offset", "endpoint"] },
        { [0x8400007B, 1, 0, 0x70, 0], "FFA_MEM_FRAG_TX", ["handle", "fragment_length", "endpoint"] },
        { [0x84000089, 0x4000, 1, 5], "FFA_MEM_PERM_SET", ["address", "page_count", "permissions"] },
        { [0x84000060, 0, 0xFFFFFFFE], "FFA_ERROR", ["error"] },
        { [0x84000061, 0, 5], "FFA_SUCCESS", ["arg1", "arg2", "arg3", "arg4", "arg5", "arg6", "arg7"] },
    };

    [Theory]
    [MemberData(nameof(FieldNames))]
    public void Describe_NamesEveryFieldAfterTheSpec(ulong[] registers, string abi, string[] names)
    {
        var description = FfaDescriber.Describe(RegisterFrame.Of(registers), CallerKind.Sp, V12);
        description.Abi.ShouldBe(abi);
        description.Fields.Select(static f => f.Name).ShouldBe(names);
    }

    [Fact]
    public void NotificationBind_IsDescribedWithInterpretedEndpointsAndTheFullBitmap()
    {
        var description = Describe([0x8400007F, 0x80010002, 0, 3], CallerKind.Vm);
        description.Convention.ShouldBe("SMC32");
        description.FunctionId.ShouldBe(0x8400007Fu);
        Field(description, "sender").ShouldBe(DescribedField.Of("sender", 0x8001, "0x8001 (SP)"));
        Field(description, "receiver").ShouldBe(DescribedField.Of("receiver", 0x0002, "0x0002 (VM)"));
        Field(description, "flags").Text.ShouldBe("global");
        Field(description, "bitmap").ShouldBe(DescribedField.Of("bitmap", 3, "IDs 0, 1"));
        description.Warnings.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0x0000, "0x0000 (hypervisor)")]
    [InlineData(0x0001, "0x0001 (VM)")]
    [InlineData(0x8000, "0x8000 (SPMC)")]
    [InlineData(0x8001, "0x8001 (SP)")]
    [InlineData(0xFFFF, "0xFFFF (SPMD)")]
    public void FormatEndpoint_SaysWhatKindOfEndpointAnIdIs(int id, string text)
    {
        FfaDescriber.FormatEndpoint(new EndpointId((ushort)id)).ShouldBe(text);
    }

    [Fact]
    public void Features_InputPropertiesForAFunctionThatDefinesNone_AreFlagged()
    {
        Describe([0x84000064, 0x84000073, 1]).Warnings.ShouldBe(["w2: MBZ bits set (0x1)"]);
        var retrieve = Describe([0x84000064, 0x84000074, 2]);
        retrieve.Warnings.ShouldBeEmpty();
        Field(retrieve, "function_id").Text.ShouldBe("FFA_MEM_RETRIEVE_REQ_32");
        Field(retrieve, "input_properties").Text.ShouldBe("NS bit handling");
    }

    [Fact]
    public void Version_ShowsMajorMinorAndTheVersionAsText()
    {
        var description = Describe([0x84000063, 0x10002]);
        Field(description, "version").Text.ShouldBe("1.2");
        Field(description, "major").Value.ShouldBe(1UL);
        Field(description, "minor").Value.ShouldBe(2UL);
        description.Convention.ShouldBe("SMC32");
        description.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Version_WithBit31Set_IsFlaggedAsNotAVersion()
    {
        Describe([0x84000063, 0x80010002]).Warnings.ShouldBe(["bit 31 of the version is MBZ: not a version"]);
    }

    [Theory]
    [InlineData(0x00010002u, "1.2")]
    [InlineData(0xFFFFFFFFu, "NOT_SUPPORTED")]
    public void VersionReturn_IsRecognisedFromItsBareW0(uint w0, string text)
    {
        var description = Describe([w0]);
        description.Abi.ShouldBe("FFA_VERSION");
        Field(description, "version").Text.ShouldBe(text);
    }

    [Fact]
    public void Error_IsANegativeNumberWithItsSpecName()
    {
        var description = Describe([0x84000060, 0, 0xFFFFFFFE]);
        var error = Field(description, "error");
        error.Signed.ShouldBeTrue();
        error.SignedValue.ShouldBe(-2);
        error.Text.ShouldBe("INVALID_PARAMETERS");
        description.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void Error_WithACodeOutsideTheSpec_IsFlagged()
    {
        var description = Describe([0x84000060, 0, 0xFFFFFFF5]);
        Field(description, "error").SignedValue.ShouldBe(-11);
        description.Warnings.ShouldBe(["error code -11 is not one the spec defines (-1..-10)"]);
    }

    [Fact]
    public void MbzBits_AreFlaggedWithTheirRegisterAndBits()
    {
        Describe([0x8400007F, 0x80010002, 0x6, 3]).Warnings.ShouldBe(["w2: MBZ bits set (0x6)"]);
        Describe([0x84000082, 0x00010002, 0x1F]).Warnings.ShouldBe(["w2: MBZ bits set (0x10)"]);
        Describe([0x84000069, 0, 0, 0, 0, 0, 0, 0x80]).Warnings.ShouldBe(["w7: MBZ bits set (0x80)"]);
    }

    [Fact]
    public void MbzBits_InTheUpperHalfOfAnSmc64Word_AreFlagged()
    {
        Describe([0xC400006F, 0x1_0002_8001]).Warnings.ShouldBe(["x1: MBZ bits set (0x100000000)"]);
    }

    [Fact]
    public void Smc32Describe_IgnoresUpperHalves()
    {
        Describe([0x8400007F, 0xFFFF_0000_8001_0002, 0xFFFF_0000_0000_0000, 3]).Warnings.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0x8400007Fu)] // BIND
    [InlineData(0x84000080u)] // UNBIND
    [InlineData(0x84000081u)] // SET
    [InlineData(0x8400006Fu)] // DIRECT_REQ
    [InlineData(0xC400008Du)] // DIRECT_REQ2
    public void SenderEqualToReceiver_IsFlagged(uint w0)
    {
        Describe([w0, 0x80018001, 0, 1]).Warnings.ShouldContain(w => w.StartsWith("sender and receiver are both 0x8001", StringComparison.Ordinal));
    }

    [Fact]
    public void NotificationSet_WithVcpuIdButNoPerVcpuFlag_IsFlagged()
    {
        Describe([0x84000081, 0x80010002, 0x0003_0000, 1]).Warnings
            .ShouldBe(["w2[31:16] gives vCPU 3 but the per-vCPU flag (bit 0) is clear: the vCPU ID is MBZ"]);
    }

    [Theory]
    [InlineData(CallerKind.Vm, "per-vCPU flag from a VM: Xen supports only global notifications (DENIED); Hafnium >= 2.14 answers INVALID_PARAMETERS")]
    [InlineData(CallerKind.Sp, "per-vCPU flag from an SP: per-vCPU notifications are optional (Hafnium >= 2.14: INVALID_PARAMETERS; OP-TEE: DENIED)")]
    [InlineData(CallerKind.Hypervisor, "per-vCPU flag from the hypervisor: per-vCPU notifications are optional at the SPMC (Hafnium >= 2.14: INVALID_PARAMETERS)")]
    public void PerVcpuFlag_GetsANoteForTheCaller(CallerKind caller, string note)
    {
        Describe([0x8400007F, 0x80010002, 1, 1], caller).Warnings.ShouldBe([note]);
        Describe([0x84000081, 0x80010002, 0x0002_0001, 1], caller).Warnings.ShouldBe([note]);
    }

    [Fact]
    public void EmptyBitmap_IsFlaggedInBindUnbindAndSet()
    {
        const string empty = "the bitmap is empty: no notification ID is named (INVALID_PARAMETERS)";
        Describe([0x8400007F, 0x80010002]).Warnings.ShouldBe([empty]);
        Describe([0x84000080, 0x80010002]).Warnings.ShouldBe([empty]);
        Describe([0x84000081, 0x80010002]).Warnings.ShouldBe([empty]);
    }

    [Theory]
    [InlineData(0x84000065u, 0x0002u, "w1[15:0] names 0x0002: only the hypervisor sets it, to release a VM's RX buffer at the SPMC")]
    [InlineData(0x84000067u, 0x0002_0000u, "w1[31:16] names 0x0002: only the hypervisor sets it, to unmap a VM's buffers at the SPMC")]
    [InlineData(0x84000086u, 0x0002_0000u, "w1[31:16] names 0x0002: only the hypervisor sets it, when it forwards a VM's message to the SPMC")]
    public void VmIdFromANonHypervisorCaller_IsFlagged(uint w0, uint w1, string warning)
    {
        Describe([w0, w1], CallerKind.Vm).Warnings.ShouldBe([warning]);
        Describe([w0, w1], CallerKind.Sp).Warnings.ShouldBe([warning]);
        Describe([w0, w1], CallerKind.Hypervisor).Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void RxAcquire_FromANonHypervisorCaller_IsFlagged()
    {
        Describe([0x84000084, 2], CallerKind.Sp).Warnings.ShouldBe(["FFA_RX_ACQUIRE is the hypervisor's call to the SPMC; other callers get NOT_SUPPORTED"]);
        Describe([0x84000084, 2], CallerKind.Hypervisor).Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void DelaySriFlag_FromAVm_IsFlagged()
    {
        const string warning = "the delay-SRI flag is for SPs only; from a VM or the hypervisor it is INVALID_PARAMETERS (Hafnium)";
        Describe([0x84000086, 0, 2], CallerKind.Vm).Warnings.ShouldBe([warning]);
        Describe([0x84000081, 0x80010002, 2, 1], CallerKind.Vm).Warnings.ShouldBe([warning]);
        Describe([0x84000086, 0, 2], CallerKind.Sp).Warnings.ShouldBeEmpty();
        Describe([0x84000081, 0x80010002, 2, 1], CallerKind.Sp).Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void AbiNewerThanTheCallersVersion_IsFlagged()
    {
        FfaDescriber.Describe(RegisterFrame.Of(0x84000086), CallerKind.Sp, FfaVersion.V1_0).Warnings
            .ShouldBe(["FFA_MSG_SEND2 is v1.1; the caller negotiated 1.0"]);
        FfaDescriber.Describe(RegisterFrame.Of(0x84000086), CallerKind.Sp, FfaVersion.V1_1).Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void FlagNewerThanTheCallersVersion_IsFlagged()
    {
        FfaDescriber.Describe(RegisterFrame.Of(0x8400006B, 0, 1), CallerKind.Sp, FfaVersion.V1_1).Warnings
            .ShouldBe(["the retain-RX-buffer flag (w2 bit 0) is v1.2; the caller negotiated 1.1"]);
        FfaDescriber.Describe(RegisterFrame.Of(0x84000068, 0, 0, 0, 0, 1), CallerKind.Vm, FfaVersion.V1_0).Warnings
            .ShouldBe(["the count-only flag (w5 bit 0) is v1.1; the caller negotiated 1.0"]);
    }

    [Fact]
    public void LegacyAbi_FromAV11Caller_IsFlagged()
    {
        Describe([0x8400006A]).Warnings.ShouldBe(["FFA_MSG_POLL is legacy: removed in v1.1"]);
    }

    [Fact]
    public void Smc64OnlyAbi_WithTheSmc32Id_IsFlagged()
    {
        var description = Describe([0x8400008D, 0x00028001]);
        description.Abi.ShouldBe("FFA_MSG_SEND_DIRECT_REQ2");
        description.Convention.ShouldBe("SMC32");
        description.Warnings.ShouldBe(["FFA_MSG_SEND_DIRECT_REQ2 is SMC64 only; w0 uses the SMC32 ID"]);
    }

    [Fact]
    public void Smc32OnlyAbi_WithTheSmc64Id_IsFlagged()
    {
        var description = Describe([0xC400007F, 0x80010002, 0, 1]);
        description.Convention.ShouldBe("SMC64");
        description.Warnings.ShouldBe(["FFA_NOTIFICATION_BIND is SMC32 only in v1.2; w0 uses the SMC64 ID"]);
    }

    [Fact]
    public void FrameworkBitOnDirectReq2_IsFlagged()
    {
        Describe([0xC400008D, 0x00028001, 0x80000004]).Warnings
            .ShouldBe(["x2 looks like a framework-message flags word (0x80000004): REQ2 has no framework messages; x2/x3 are the UUID"]);
    }

    [Fact]
    public void DirectReq2_ShowsTheUuidAsTextOnBothHalves()
    {
        var description = Describe([0xC400008D, 0x00028001, 0x7766554433221100, 0xFFEEDDCCBBAA9988]);
        Field(description, "uuid_lo").ShouldBe(DescribedField.Of("uuid_lo", 0x7766554433221100, "00112233-4455-6677-8899-aabbccddeeff"));
        Field(description, "uuid_hi").ShouldBe(DescribedField.Of("uuid_hi", 0xFFEEDDCCBBAA9988, "00112233-4455-6677-8899-aabbccddeeff"));
        description.Fields.Count(static f => f.Name.StartsWith("payload", StringComparison.Ordinal)).ShouldBe(14);
    }

    [Fact]
    public void DirectResp2_WithNonZeroX2_IsFlagged()
    {
        Describe([0xC400008E, 0x80010002, 5]).Warnings.ShouldBe(["x2: MBZ bits set (0x5)"]);
    }

    [Fact]
    public void DirectReq_FromAnSpToTheNormalWorld_IsFlagged()
    {
        Describe([0x8400006F, 0x80010002], CallerKind.Sp).Warnings.ShouldBe(["SPs cannot send direct requests to normal-world endpoints"]);
        Describe([0x8400006F, 0x00028001], CallerKind.Vm).Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void FrameworkMessage_ShowsItsTypeAndVersionPayload()
    {
        var description = Describe([0x84000070, 0x8000FFFF, 0x80000009, 0x10002], CallerKind.Hypervisor);
        Field(description, "framework").Value.ShouldBe(1UL);
        Field(description, "message_type").ShouldBe(DescribedField.Of("message_type", 9, "FFA_VERSION response"));
        Field(description, "payload0").Text.ShouldBe("1.2");
    }

    [Fact]
    public void UnknownFunctionId_IsUnknownWithAWarning()
    {
        var description = Describe([0x84000091]);
        description.Abi.ShouldBe("UNKNOWN");
        description.Warnings.ShouldBe(["unknown function ID 0x84000091"]);
    }

    [Fact]
    public void Smc64Call_WithNonZeroX8ToX17_IsFlaggedForV12CallersOnly()
    {
        var frame = RegisterFrame.Of(0xC4000073, 0x70, 0x70, 0, 0, 0, 0, 0, 0, 0xAB);
        FfaDescriber.Describe(frame, CallerKind.Vm, FfaVersion.V1_2).Warnings
            .ShouldBe(["x9: MBZ bits set (0xAB) (v1.2: x8..x17 unused by FFA_MEM_SHARE are MBZ)"]);
        FfaDescriber.Describe(frame, CallerKind.Vm, FfaVersion.V1_1).Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void ConsoleLog_ShowsTheCharacters()
    {
        var description = Describe([0x8400008A, 4, 0x0A216968]);
        Field(description, "chars").Text.ShouldBe("hi!\\n");
        description.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void ConsoleLog_WithBytesPastTheCount_IsFlagged()
    {
        Describe([0x8400008A, 1, 0x6941]).Warnings.ShouldBe(["w2: MBZ bits set (0x6900)"]);
    }

    [Fact]
    public void MemTransaction_InTheTxBuffer_SaysSo()
    {
        var description = Describe([0xC4000073, 0x70, 0x70]);
        Field(description, "address").Text.ShouldBe("0: the TX buffer");
        Describe([0xC4000073, 0x70, 0x80]).Warnings.ShouldBe(["the fragment (128 bytes) is longer than the whole descriptor (112 bytes)"]);
    }

    [Fact]
    public void Reclaim_ShowsTheHandleAllocator()
    {
        Field(Describe([0x84000077, 1, 0x8000_0000]), "handle").Text.ShouldBe("allocated by the hypervisor");
        Field(Describe([0x84000077, 1, 0]), "handle").Text.ShouldBe("allocated by the SPMC");
    }

    [Fact]
    public void NotificationGetSuccess_ReadAsTheAnswerToGet_NamesEachBitmap()
    {
        var description = FfaDescriber.Describe(RegisterFrame.Of(0x84000061, 0, 1, 0, 4, 0, 1, 0), CallerKind.Sp, V12, FfaFunction.NotificationGet);
        description.Fields.Select(static f => f.Name).ShouldBe(["sp_bitmap", "vm_bitmap", "spm_bitmap", "hyp_bitmap"]);
        Field(description, "spm_bitmap").Text.ShouldBe("RX buffer full");
        Field(description, "vm_bitmap").Text.ShouldBe("ID 2");
    }

    [Fact]
    public void InfoGetSuccess_ReadAsTheAnswerToInfoGet_ListsEachEndpoint()
    {
        var description = FfaDescriber.Describe(
            RegisterFrame.Of(0xC4000061, 0, 0x1_8181, 0x0002_0000_0002_8001, 0x0001_8002), CallerKind.Hypervisor, V12, FfaFunction.NotificationInfoGet);
        Field(description, "more_pending").Value.ShouldBe(1UL);
        Field(description, "list_count").Value.ShouldBe(3UL);
        Field(description, "list0").Text.ShouldBe("0x8001 (SP): global");
        Field(description, "list1").Text.ShouldBe("0x0002 (VM): vCPU 0, 2");
        Field(description, "list2").Text.ShouldBe("0x8002 (SP): vCPU 1");
        description.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void PartitionInfoGetRegsSuccess_ReadAsItsAnswer_ShowsEachDescriptor()
    {
        var description = FfaDescriber.Describe(
            RegisterFrame.Of(0xC4000061, 0, 0x0018_0000_0000_0000, 0x00000733_0004_8001, 0x7766554433221100, 0xFFEEDDCCBBAA9988),
            CallerKind.Vm,
            V12,
            FfaFunction.PartitionInfoGetRegs);
        Field(description, "partition0_id").Text.ShouldBe("0x8001 (SP)");
        Field(description, "partition0_execution_contexts").Value.ShouldBe(4UL);
        Field(description, "partition0_uuid_lo").Text.ShouldBe("00112233-4455-6677-8899-aabbccddeeff");
        description.Warnings.ShouldBeEmpty();
    }

    private static CallDescription Describe(ulong[] registers, CallerKind caller = CallerKind.Sp) =>
        FfaDescriber.Describe(RegisterFrame.Of(registers), caller, V12);

    private static DescribedField Field(CallDescription description, string name) => description.Fields.Single(f => f.Name == name);
}
