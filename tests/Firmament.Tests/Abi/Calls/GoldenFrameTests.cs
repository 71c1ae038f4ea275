using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Calls;

/// <summary>Frames worked out by hand from the packing rules, both ways.</summary>
public class GoldenFrameTests
{
    private static readonly EndpointId Sp1 = new(0x8001);
    private static readonly EndpointId Sp2 = new(0x8002);
    private static readonly EndpointId Vm2 = new(0x0002);

    [Fact]
    public void NotificationBind_PutsSenderHighReceiverLowAndBitmapLowWordFirst()
    {
        var bind = new NotificationBind(new SenderReceiver(Sp1, Vm2), NotificationBindFlags.None, new NotificationBitmap(0x3));
        Pins(bind, 0x8400007F, 0x80010002, 0, 0x3, 0);
    }

    [Fact]
    public void NotificationBind_WithHighNotificationIds_UsesW4()
    {
        var bind = new NotificationBind(new SenderReceiver(Sp1, Vm2), NotificationBindFlags.PerVcpu, NotificationBitmap.Of(63));
        Pins(bind, 0x8400007F, 0x80010002, 1, 0, 0x80000000);
    }

    [Fact]
    public void NotificationGet_PutsTheVcpuHighAndTheReceiverLow()
    {
        var get = new NotificationGet(1, Vm2, NotificationGetFlags.All);
        Pins(get, 0x84000082, 0x00010002, 0xF);
    }

    [Fact]
    public void NotificationSet_PutsTheReceiverVcpuInW2High()
    {
        var set = new NotificationSet(new SenderReceiver(Sp1, Sp2), NotificationSetFlags.PerVcpu | NotificationSetFlags.DelaySri, 5, new NotificationBitmap(0x1_0000_0001));
        Pins(set, 0x84000081, 0x80018002, 0x00050003, 1, 1);
    }

    [Fact]
    public void Run_PutsTheEndpointHighAndTheVcpuLow()
    {
        Pins(new Run(new TargetInfo(Sp1, 3)), 0x8400006D, 0x80010003);
    }

    [Fact]
    public void Yield_SplitsTheTimeoutLowWordFirst()
    {
        Pins(new Yield(new TargetInfo(Sp1, 0), 0x0000_0002_0000_0001), 0x8400006C, 0x80010000, 1, 2);
    }

    [Fact]
    public void Interrupt_CarriesTargetAndInterruptId()
    {
        Pins(new Interrupt(new TargetInfo(Sp2, 1), 5), 0x84000062, 0x80020001, 5);
    }

    [Fact]
    public void DirectReq2_PutsUuidByteZeroInBits7To0OfX2()
    {
        var uuid = Uuid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var req = new MsgSendDirectReq2(new SenderReceiver(Vm2, Sp1), uuid, new DirectMessage2Payload(0xA, 0xB));
        Pins(req, 0xC400008D, 0x00028001, 0x7766554433221100, 0xFFEEDDCCBBAA9988, 0xA, 0xB);
    }

    [Fact]
    public void DirectReq64_CarriesFullPayloadRegisters()
    {
        var req = new MsgSendDirectReq(true, new SenderReceiver(Vm2, Sp1), DirectMessageKind.Partition, new DirectMessagePayload(ulong.MaxValue, 2, 3, 4, 5));
        Pins(req, 0xC400006F, 0x00028001, 0, ulong.MaxValue, 2, 3, 4, 5);
    }

    [Fact]
    public void DirectReq_FrameworkVmCreated_HasBit31AndType4InW2()
    {
        var req = new MsgSendDirectReq(false, new SenderReceiver(EndpointId.Hypervisor, Sp1), DirectMessageKind.VmCreated, new DirectMessagePayload(0x10, 0, 2, 0, 0));
        Pins(req, 0x8400006F, 0x00008001, 0x80000004, 0x10, 0, 2);
        req.Kind.IsFramework().ShouldBeTrue();
        req.Kind.Type().ShouldBe((byte)4);
    }

    [Fact]
    public void PartitionInfoGet_PutsTheUuidInW1ToW4LittleEndian()
    {
        var uuid = Uuid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        Pins(new PartitionInfoGet(uuid, PartitionInfoGetFlags.CountOnly), 0x84000068, 0x33221100, 0x77665544, 0xBBAA9988, 0xFFEEDDCC, 1);
    }

    [Fact]
    public void PartitionInfoGetRegs_PutsStartIndexLowAndTagHighInX3()
    {
        var uuid = Uuid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        Pins(new PartitionInfoGetRegs(uuid, 5, 7), 0xC400008B, 0x7766554433221100, 0xFFEEDDCCBBAA9988, 0x0007_0005);
    }

    [Fact]
    public void Version_CarriesTheVersionInW1AndTheAnswerInBareW0()
    {
        Pins(new VersionCall(FfaVersion.V1_2), 0x84000063, 0x00010002);
        Pins(new VersionReturn(FfaVersion.V1_1), 0x00010001);
        Pins(VersionReturn.NotSupported, 0xFFFFFFFF);
    }

    [Fact]
    public void Error_CarriesTheCodeAsInt32InW2()
    {
        Pins(new ErrorReturn(FfaError.InvalidParameters), 0x84000060, 0, 0xFFFFFFFE);
    }

    [Fact]
    public void RxTxMap_PutsTxInW1AndRxInW2()
    {
        Pins(new RxTxMap(true, 0x8000_0000_1000, 0x8000_0000_2000, 1), 0xC4000066, 0x8000_0000_1000, 0x8000_0000_2000, 1);
    }

    [Fact]
    public void VmIds_SitInTheHalfTheirAbiNames()
    {
        Pins(new RxTxUnmap(Vm2), 0x84000067, 0x00020000);
        Pins(new RxRelease(Vm2), 0x84000065, 0x00000002);
        Pins(new RxAcquire(Vm2), 0x84000084, 0x00000002);
        Pins(new MsgSend2(Vm2, MsgSend2Flags.None), 0x84000086, 0x00020000);
        Pins(new NotificationBitmapCreate(Vm2, 4), 0x8400007D, 0x00000002, 4);
    }

    [Fact]
    public void MemoryHandles_TravelLowWordFirst()
    {
        var handle = new MemoryHandle(0x8000_0001_0000_0002);
        Pins(new MemReclaim(handle, MemReclaimFlags.ZeroMemory), 0x84000077, 0x2, 0x80000001, 1);
        Pins(new MemSendSuccess(false, handle), 0x84000061, 0, 0x2, 0x80000001);
        Pins(new MemFragRx(handle, 0x1000, Vm2), 0x8400007A, 0x2, 0x80000001, 0x1000, 0x00020000);
    }

    [Fact]
    public void MemShare64_ViaTxBuffer_LeavesAddressAndPageCountZero()
    {
        Pins(new MemShare(true, MemoryTransaction.InTxBuffer(0x70)), 0xC4000073, 0x70, 0x70, 0, 0);
    }

    [Fact]
    public void MemPermGet_CarriesPageCountMinusOne()
    {
        Pins(new MemPermGet(false, 0x4000, 1), 0x84000088, 0x4000, 0);
        Pins(new MemPermSet(false, 0x4000, 2, new MemPermissions(MemDataAccess.ReadOnly, Executable: false)), 0x84000089, 0x4000, 2, 7);
    }

    [Fact]
    public void ConsoleLog_PacksCharactersLittleEndianFromW2()
    {
        Pins(new ConsoleLog(false, ConsoleLogText.FromString("hi!\n")), 0x8400008A, 4, 0x0A216968);
        Pins(new ConsoleLog(true, ConsoleLogText.FromString("abcdefghi")), 0xC400008A, 9, 0x6867666564636261, 0x69);
    }

    [Fact]
    public void NotificationGetSuccess_PutsEachBitmapInItsRegisters()
    {
        var success = new NotificationGetSuccess(false, new NotificationBitmap(0x2_0000_0001), new NotificationBitmap(0x4), FrameworkNotifications.RxBufferFull, FrameworkNotifications.None);
        Pins(success, 0x84000061, 0, 1, 2, 4, 0, 1, 0);
    }

    [Fact]
    public void PartitionInfoGetRegsSuccess_PacksX2AndThreeRegistersPerDescriptor()
    {
        var writer = default(PartitionInfoRegsWriter);
        var uuid = Uuid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        writer.TryAdd(new PartitionInfoRegsEntry(Sp1, 4, 0x733, uuid)).ShouldBeTrue();
        writer.TryAdd(new PartitionInfoRegsEntry(Vm2, 1, 0x3, Uuid.Nil)).ShouldBeTrue();
        var success = new PartitionInfoGetRegsSuccess(2, 1, 9, 24, writer.ToDescriptors());
        Pins(success, 0xC4000061, 0, 0x0018_0009_0001_0002, 0x00000733_0004_8001, 0x7766554433221100, 0xFFEEDDCCBBAA9988, 0x00000003_0001_0002);

        success.TryRead(0, out var reader, out var violation).ShouldBeTrue(violation.ToString());
        reader.Count.ShouldBe(2);
        reader[0].ShouldBe(new PartitionInfoRegsEntry(Sp1, 4, 0x733, uuid));
        reader[1].ShouldBe(new PartitionInfoRegsEntry(Vm2, 1, 0x3, Uuid.Nil));
    }

    /// <summary>The value encodes to exactly these registers (the rest zero), and the frame decodes to the value.</summary>
    private static void Pins<T>(T value, params ulong[] registers)
        where T : struct, IFfaMessage<T>
    {
        var expected = RegisterFrame.Of(registers);
        var frame = default(RegisterFrame);
        value.Encode(ref frame);
        frame.ShouldBe(expected);
        T.TryDecode(expected, out var back, out var violation).ShouldBeTrue(violation.ToString());
        back.ShouldBe(value);
    }
}
