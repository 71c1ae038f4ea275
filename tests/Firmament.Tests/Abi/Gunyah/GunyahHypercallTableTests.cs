using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Gunyah;

public class GunyahHypercallTableTests
{
    // Every number in reference §1.4 (0x08, 0x16 and 0x1E are reserved).
    private static readonly ushort[] ReferenceNumbers =
    [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1F, 0x20, 0x21,
        0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32,
        0x34, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x56, 0x57, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x60, 0x61, 0x62, 0x64, 0x65, 0x66, 0x68,
    ];

    [Fact]
    public void Table_HoldsExactlyTheReferenceNumbers_InOrder()
    {
        GunyahHypercalls.All.Select(static info => info.Number).ShouldBe(ReferenceNumbers);
        Enum.GetValues<GunyahHypercall>().Select(static call => (ushort)call).ShouldBe(ReferenceNumbers);
    }

    [Theory]
    [InlineData(GunyahHypercall.HypervisorIdentify, 0xC6008000u, 0x6000, "GH_HYPERVISOR_IDENTIFY")]
    [InlineData(GunyahHypercall.DoorbellSend, 0xC6008012u, 0x6012, "GH_DOORBELL_SEND")]
    [InlineData(GunyahHypercall.MsgqueueSend, 0xC600801Bu, 0x601B, "GH_MSGQUEUE_SEND")]
    [InlineData(GunyahHypercall.MsgqueueReceive, 0xC600801Cu, 0x601C, "GH_MSGQUEUE_RECEIVE")]
    [InlineData(GunyahHypercall.CspaceCopyCapFrom, 0xC6008023u, 0x6023, "GH_CSPACE_COPY_CAP_FROM")]
    [InlineData(GunyahHypercall.AddrspaceMap, 0xC600802Bu, 0x602B, "GH_ADDRSPACE_MAP")]
    [InlineData(GunyahHypercall.MemextentDonate, 0xC6008061u, 0x6061, "GH_MEMEXTENT_DONATE")]
    [InlineData(GunyahHypercall.VcpuRun, 0xC6008065u, 0x6065, "GH_VCPU_RUN")]
    [InlineData(GunyahHypercall.VcpuRunCheck, 0xC6008068u, 0x6068, "GH_VCPU_RUN_CHECK")]
    public void Ids_MatchTheGoldenValues(GunyahHypercall call, uint smcccId, int native, string specName)
    {
        var info = GunyahHypercalls.Info(call);
        info.SmcccId.ShouldBe(smcccId);
        info.NativeImmediate.ShouldBe((ushort)native);
        info.SpecName.ShouldBe(specName);
    }

    [Fact]
    public void EveryId_IsAFastSmc64VendorHypervisorCallInClass2()
    {
        foreach (var info in GunyahHypercalls.All)
        {
            var id = new FunctionId(info.SmcccId);
            id.IsFast.ShouldBeTrue();
            id.Is64.ShouldBeTrue();
            id.Owner.ShouldBe(SmcccOwner.VendorHypervisor);
            ((info.SmcccId >> 14) & 0b11).ShouldBe(0b10u);
            (info.SmcccId & 0x3FFF).ShouldBe(info.Number);
            info.SmcccId.ShouldBe(FunctionId.Fast(SmcccOwner.VendorHypervisor, (ushort)(0x8000 | info.Number), is64: true).Value);
            info.NativeImmediate.ShouldBe((ushort)(0x6000 + info.Number));
        }
    }

    [Fact]
    public void Lookups_ByNumberSmcccIdNativeImmediateAndName_AllFindTheSameRow()
    {
        foreach (var info in GunyahHypercalls.All)
        {
            GunyahHypercalls.TryGet(info.Number, out var byNumber).ShouldBeTrue();
            GunyahHypercalls.TryGetBySmcccId(info.SmcccId, out var byId).ShouldBeTrue();
            GunyahHypercalls.TryGetByNativeImmediate(info.NativeImmediate, out var byImmediate).ShouldBeTrue();
            GunyahHypercalls.TryParseName(info.SpecName, out var bySpecName).ShouldBeTrue();
            GunyahHypercalls.TryParseName(info.Name.ToLowerInvariant(), out var byHvcName).ShouldBeTrue();
            new[] { byNumber, byId, byImmediate, bySpecName, byHvcName }.ShouldAllBe(row => ReferenceEquals(row, info));
        }
    }

    [Theory]
    [InlineData(0x08)]
    [InlineData(0x16)]
    [InlineData(0x1E)]
    [InlineData(0x69)]
    [InlineData(0x1FF)]
    public void Lookups_OfReservedOrUnknownNumbers_FindNothing(int number)
    {
        GunyahHypercalls.TryGet((ushort)number, out _).ShouldBeFalse();
        GunyahHypercalls.TryGetByNativeImmediate((ushort)(0x6000 + number), out _).ShouldBeFalse();
        GunyahHypercalls.TryClassify(0xC6008000u | (uint)number, out _, out var problem).ShouldBeFalse();
        problem.ShouldBe(GunyahIdProblem.UnknownHypercall);
    }

    [Theory]
    [InlineData(0x5FFF)]
    [InlineData(0x6200)]
    [InlineData(0)]
    public void NativeImmediate_OutsideGunyahsRange_IsNotAHypercall(int immediate) =>
        GunyahHypercalls.TryGetByNativeImmediate((ushort)immediate, out _).ShouldBeFalse();

    [Theory]
    [InlineData(0xC600801Bu, GunyahIdProblem.None)]
    [InlineData(0xC601801Bu, GunyahIdProblem.None)] // SMCCC 1.3 SVE hint: accepted, as the hypervisor does
    [InlineData(0xC500801Bu, GunyahIdProblem.NotVendorHypervisor)]
    [InlineData(0x8400801Bu, GunyahIdProblem.NotVendorHypervisor)]
    [InlineData(0xC600001Bu, GunyahIdProblem.WrongCallClass)] // platform call class
    [InlineData(0xC600401Bu, GunyahIdProblem.WrongCallClass)] // class 0b01
    [InlineData(0xC600C01Bu, GunyahIdProblem.WrongCallClass)] // service class
    [InlineData(0x4600801Bu, GunyahIdProblem.NotFastCall)]
    [InlineData(0x8600801Bu, GunyahIdProblem.NotSmc64)]
    [InlineData(0xC602801Bu, GunyahIdProblem.ReservedBitsSet)]
    [InlineData(0xC6008016u, GunyahIdProblem.UnknownHypercall)]
    [InlineData(0xC6009000u, GunyahIdProblem.UnknownHypercall)]
    public void TryClassify_GivesThePreciseReason(uint w0, GunyahIdProblem expected)
    {
        GunyahHypercalls.TryClassify(w0, out var info, out var problem).ShouldBe(expected == GunyahIdProblem.None);
        problem.ShouldBe(expected);
        if (expected == GunyahIdProblem.None)
        {
            info.Call.ShouldBe(GunyahHypercall.MsgqueueSend);
        }
    }

    [Fact]
    public void ServiceCalls_HaveTheStandardIds()
    {
        GunyahServiceCalls.Id(GunyahServiceCall.CallUid).ShouldBe(0x8600FF01u);
        GunyahServiceCalls.Id(GunyahServiceCall.Revision).ShouldBe(0x8600FF03u);
        GunyahServiceCalls.Id(GunyahServiceCall.CallCount).ShouldBe(0x8600FF00u);
        GunyahServiceCalls.TryClassify(0x8600FF01, out var call).ShouldBeTrue();
        call.ShouldBe(GunyahServiceCall.CallUid);
        GunyahServiceCalls.Name(call).ShouldBe("GH_CALL_UID");
        GunyahServiceCalls.TryClassify(0xC600FF01, out _).ShouldBeFalse(); // the service class is SMC32 only
        GunyahServiceCalls.TryClassify(0x8600FF02, out _).ShouldBeFalse();
    }

    [Fact]
    public void Inputs_FollowTheReferenceForTheIpcCalls()
    {
        Names(GunyahHypercall.MsgqueueSend).ShouldBe(["cap", "size", "buffer", "flags"]);
        Names(GunyahHypercall.MsgqueueReceive).ShouldBe(["cap", "buffer", "buffer_size"]);
        Names(GunyahHypercall.DoorbellMask).ShouldBe(["cap", "enable_mask", "ack_mask"]);
        Names(GunyahHypercall.VcpuRun).ShouldBe(["cap", "resume_data0", "resume_data1", "resume_data2"]);
        GunyahHypercalls.Info(GunyahHypercall.MsgqueueReceive).Outputs.Select(static o => o.Name).ShouldBe(["error", "size", "not_empty"]);
        GunyahHypercalls.Info(GunyahHypercall.VcpuRun).Outputs.Select(static o => o.Name)
            .ShouldBe(["error", "state", "state_data0", "state_data1", "state_data2"]);
        GunyahHypercalls.Info(GunyahHypercall.HypervisorIdentify).Outputs.Select(static o => o.Name)
            .ShouldBe(["hyp_api_info", "api_flags0", "api_flags1", "api_flags2"]);

        static IEnumerable<string> Names(GunyahHypercall call) => GunyahHypercalls.Info(call).Inputs.Select(static i => i.Name);
    }

    [Theory]
    [InlineData(GunyahHypercall.HypervisorIdentify, GunyahReservedSlot.None, 0)]
    [InlineData(GunyahHypercall.MsgqueueSend, GunyahReservedSlot.Zero, 5)]
    [InlineData(GunyahHypercall.MsgqueueConfigureSend, GunyahReservedSlot.AllOnes, 4)]
    [InlineData(GunyahHypercall.MsgqueueConfigureReceive, GunyahReservedSlot.AllOnes, 4)]
    [InlineData(GunyahHypercall.VcpuSetAffinity, GunyahReservedSlot.AllOnes, 3)]
    [InlineData(GunyahHypercall.AddrspaceMap, GunyahReservedSlot.None, 7)]
    [InlineData(GunyahHypercall.VcpuRun, GunyahReservedSlot.Zero, 5)]
    public void ReservedSlot_FollowsTheHypercallDefinition(GunyahHypercall call, GunyahReservedSlot slot, int inputRegisters)
    {
        var info = GunyahHypercalls.Info(call);
        info.Reserved.ShouldBe(slot);
        info.InputRegisters.ShouldBe(inputRegisters);
    }

    [Fact]
    public void EveryCall_FitsItsArgumentsInX0ToX7_InBothConventions()
    {
        // SMCCC moves every argument up one register; x1..x7 must still hold them all.
        GunyahHypercalls.All.ShouldAllBe(static info => info.InputRegisters <= 7 && info.Outputs.Count <= 8);
    }
}
