using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Calls;

/// <summary>Each refusal names the right register and the exact bits.</summary>
public class ViolationTests
{
    public static TheoryData<string, ulong[], AbiViolation> Refusals => new()
    {
        // Discovery
        { "VersionCall", [0x84000063, 0x8001_0002], AbiViolation.Mbz(1, 0x8000_0000) },
        { "VersionCall", [0x84000063, 0x0001_0002, 1], AbiViolation.Mbz(2, 1) },
        { "Features", [0x84000064, 0x0000_0101], AbiViolation.Mbz(1, 0x100) },
        { "Features", [0x84000064, 0x0000_0001, 0x2], AbiViolation.Mbz(2, 0x2) },
        { "Features", [0x84000064, 0x84000074, 0x2, 0x1], AbiViolation.Mbz(3, 0x1) },
        { "IdGet", [0x84000069, 0, 0, 0, 0, 0, 0, 0x10], AbiViolation.Mbz(7, 0x10) },
        { "PartitionInfoGet", [0x84000068, 0, 0, 0, 0, 0x3], AbiViolation.Mbz(5, 0x2) },
        { "PartitionInfoGetRegs", [0xC400008B, 0, 0, 0x1_0000_0000], AbiViolation.Mbz(3, 0x1_0000_0000) },

        // RX/TX
        { "RxTxMap", [0x84000066, 0x1000, 0x2000, 0x41], AbiViolation.Mbz(3, 0x40) },
        { "RxTxMap", [0xC4000066, 0x1000, 0x2000, 0x1_0000_0001], AbiViolation.Mbz(3, 0x1_0000_0000) },
        { "RxTxUnmap", [0x84000067, 0x0002_0001], AbiViolation.Mbz(1, 0x1) },
        { "RxRelease", [0x84000065, 0x0001_0002], AbiViolation.Mbz(1, 0x1_0000) },
        { "RxAcquire", [0x84000084, 0x0001_0002], AbiViolation.Mbz(1, 0x1_0000) },

        // Messaging
        { "MsgSendDirectReq", [0x8400006F, 0x0002_8001, 0x1], AbiViolation.Mbz(2, 0x1) },
        { "MsgSendDirectReq", [0x8400006F, 0x0002_8001, 0x8000_0104], AbiViolation.Mbz(2, 0x100) },
        { "MsgSendDirectReq", [0xC400006F, 0x1_0002_8001], AbiViolation.Mbz(1, 0x1_0000_0000) },
        { "MsgSendDirectResp", [0xC4000070, 0x8001_0002, 0x1_0000_0000], AbiViolation.Mbz(2, 0x1_0000_0000) },
        { "MsgSendDirectReq2", [0xC400008D, 0x8000_0000_0002_8001], AbiViolation.Mbz(1, 0x8000_0000_0000_0000) },
        { "MsgSendDirectResp2", [0xC400008E, 0x8001_0002, 0, 0x10], AbiViolation.Mbz(3, 0x10) },
        { "MsgSend2", [0x84000086, 0x0002_0001], AbiViolation.Mbz(1, 0x1) },
        { "MsgSend2", [0x84000086, 0, 0x3], AbiViolation.Mbz(2, 0x1) },
        { "MsgWait", [0x8400006B, 0x1], AbiViolation.Mbz(1, 0x1) },
        { "MsgWait", [0x8400006B, 0, 0x3], AbiViolation.Mbz(2, 0x2) },
        { "Yield", [0x8400006C, 0x8001_0000, 1, 2, 0x4], AbiViolation.Mbz(4, 0x4) },
        { "MsgSend", [0x8400006E, 0x0001_0002, 0x5], AbiViolation.Mbz(2, 0x5) },
        { "ConsoleLog", [0x8400008A, 0x100 | 1, 0x41], AbiViolation.Mbz(1, 0x100) },
        { "ConsoleLog", [0x8400008A, 25], AbiViolation.Range(1, 25) },
        { "ConsoleLog", [0x8400008A, 1, 0x6141], AbiViolation.Mbz(2, 0x6100) },
        { "ConsoleLog", [0xC400008A, 9, 0x6867666564636261, 0x6A69], AbiViolation.Mbz(3, 0x6A00) },

        // Notifications
        { "NotificationBitmapCreate", [0x8400007D, 0x0001_0002, 4], AbiViolation.Mbz(1, 0x1_0000) },
        { "NotificationBind", [0x8400007F, 0x8001_0002, 0x6, 0x3], AbiViolation.Mbz(2, 0x6) },
        { "NotificationBind", [0x8400007F, 0x8001_0002, 0, 0x3, 0, 0x1], AbiViolation.Mbz(5, 0x1) },
        { "NotificationUnbind", [0x8400007F + 1, 0x8001_0002, 0x1, 0x3], AbiViolation.Mbz(2, 0x1) },
        { "NotificationSet", [0x84000081, 0x8001_0002, 0x0005_0000, 0x3], AbiViolation.Mbz(2, 0x0005_0000) },
        { "NotificationSet", [0x84000081, 0x8001_0002, 0x0005_0005, 0x3], AbiViolation.Mbz(2, 0x4) },
        { "NotificationGet", [0x84000082, 0x0001_0002, 0x1F], AbiViolation.Mbz(2, 0x10) },
        { "NotificationInfoGet", [0xC4000083, 0x1], AbiViolation.Mbz(1, 0x1) },

        // Memory
        { "MemShare", [0xC4000073, 0x1_0000_0070, 0x70], AbiViolation.Mbz(1, 0x1_0000_0000) },
        { "MemShare", [0x84000073, 0x70, 0x70, 0, 0, 0x1], AbiViolation.Mbz(5, 0x1) },
        { "MemReclaim", [0x84000077, 1, 0, 0x7], AbiViolation.Mbz(3, 0x4) },
        { "MemFragRx", [0x8400007A, 1, 0, 0x10, 0x0002_0001], AbiViolation.Mbz(4, 0x1) },
        { "MemFragTx", [0x8400007B, 1, 0, 0x10, 0x0000_8000], AbiViolation.Mbz(4, 0x8000) },
        { "MemPermGet", [0x84000088, 0x4000, 0xFFFF_FFFF], AbiViolation.Range(2, 0xFFFF_FFFF) },
        { "MemPermSet", [0x84000089, 0x4000, 1, 0x2], AbiViolation.Reserved(3, 0x2) },
        { "MemPermSet", [0x84000089, 0x4000, 1, 0xB], AbiViolation.Mbz(3, 0x8) },

        // Returns
        { "VersionReturn", [0xFFFF_FFFD], AbiViolation.Reserved(0, 0xFFFF_FFFD) },
        { "VersionReturn", [0x0001_0002, 0x1], AbiViolation.Mbz(1, 0x1) },
        { "ErrorReturn", [0x84000060, 0x8001_0000, 0xFFFF_FFFE], AbiViolation.Mbz(1, 0x8001_0000) },
        { "ErrorReturn", [0x84000060, 0, 0xFFFF_FFFE, 0x5], AbiViolation.Mbz(3, 0x5) },
        { "IdGetSuccess", [0x84000061, 0, 0x1_8001], AbiViolation.Mbz(2, 0x1_0000) },
        { "FeaturesSuccess", [0x84000061, 0x1], AbiViolation.Mbz(1, 0x1) },
        { "MemSendSuccess", [0xC4000061, 0, 0x1_0000_0002, 0x1], AbiViolation.Mbz(2, 0x1_0000_0000) },
        { "PartitionInfoGetRegsSuccess", [0xC4000061, 0, 0x0018_0000_0003_0001], AbiViolation.Range(2, 0x3_0000) },
        { "PartitionInfoGetRegsSuccess", [0xC4000061, 0x1], AbiViolation.Mbz(1, 0x1) },
        { "MemPermGetSuccess", [0x84000061, 0, 0x2], AbiViolation.Reserved(2, 0x2) },
        { "NotificationGetSuccess", [0xC4000061, 0, 0x1_0000_0001], AbiViolation.Mbz(2, 0x1_0000_0000) },
    };

    public static TheoryData<string, ulong> WrongIds => new()
    {
        { "NotificationBind", 0x84000081 }, // a SET frame
        { "NotificationBind", 0xC400007F }, // BIND has no SMC64 ID
        { "MsgSendDirectReq2", 0x8400008D }, // REQ2 has no SMC32 ID
        { "PartitionInfoGetRegs", 0x8400008B },
        { "Run", 0xC400006D }, // the SMC64 RUN is v1.3
        { "ErrorReturn", 0xC4000060 },
        { "PartitionInfoGetRegsSuccess", 0x84000061 }, // x2 needs SUCCESS_64
        { "SuccessReturn", 0x04000061 }, // not a fast call
        { "MemShare", 0x85000073 }, // another owner
        { "IdGet", 0x84010069 }, // bits 23:16 MBZ
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Decode_OfABadFrame_NamesTheRegisterAndTheBits(string type, ulong[] registers, AbiViolation expected)
    {
        CodecCases.Named(type).Decode(RegisterFrame.Of(registers)).ShouldBe(expected);
    }

    [Theory]
    [MemberData(nameof(WrongIds))]
    public void Decode_OfAnotherFunctionOrConvention_IsWrongFunction(string type, ulong w0)
    {
        CodecCases.Named(type).Decode(RegisterFrame.Of(w0)).ShouldBe(AbiViolation.WrongFunction((uint)w0));
    }

    [Fact]
    public void Smc32Decode_IgnoresTheUpperHalvesOfEveryRegister()
    {
        var frame = RegisterFrame.Of(0xDEAD_0000_8400007F, 0xFFFF_FFFF_8001_0002, 0xFFFF_FFFF_0000_0000, 0x1_0000_0003, 0x2_0000_0000, 0xFFFF_FFFF_0000_0000);
        NotificationBind.TryDecode(frame, out var bind, out var violation).ShouldBeTrue(violation.ToString());
        bind.ShouldBe(new NotificationBind(new SenderReceiver(new EndpointId(0x8001), new EndpointId(0x0002)), NotificationBindFlags.None, new NotificationBitmap(3)));
    }

    [Fact]
    public void Smc64Decode_LeavesX8ToX17ToTheVersionDependentCheck()
    {
        var frame = RegisterFrame.Of(0xC4000073, 0x70, 0x70, 0, 0, 0, 0, 0, 0, 0xAB);
        MemShare.TryDecode(frame, out var share, out _).ShouldBeTrue();
        share.ShouldBe(new MemShare(true, MemoryTransaction.InTxBuffer(0x70)));

        FfaFrames.UnusedUpperRegistersAreZero(frame, 8, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Mbz(9, 0xAB));
        FfaFrames.UnusedUpperRegistersAreZero(frame, 10).ShouldBeTrue();
        FfaFrames.UnusedUpperRegistersAreZero(RegisterFrame.Of(0xC4000073, 0x70, 0x70), 8).ShouldBeTrue();
    }

    [Theory]
    [InlineData(7)]
    [InlineData(19)]
    public void UnusedUpperRegistersAreZero_OutsideX8ToX18_Throws(int firstUnused)
    {
        Should.Throw<ArgumentOutOfRangeException>(() => FfaFrames.UnusedUpperRegistersAreZero(default, firstUnused));
    }

    [Fact]
    public void ErrorReturn_WithACodeOutsideTheSpec_StillDecodes()
    {
        ErrorReturn.TryDecode(RegisterFrame.Of(0x84000060, 0, 0xFFFF_FFF5), out var error, out _).ShouldBeTrue();
        error.Code.ShouldBe(-11);
    }

    [Fact]
    public void PartitionInfoGetRegsSuccess_ReaderRefusesA48ByteDescriptorAndTooManyEntries()
    {
        var v13 = new PartitionInfoGetRegsSuccess(3, 1, 0, 48, default);
        v13.TryRead(0, out _, out var violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Range(2, 48UL << 48));

        var six = new PartitionInfoGetRegsSuccess(9, 5, 0, 24, default);
        six.TryRead(0, out _, out violation).ShouldBeFalse();
        violation.ShouldBe(AbiViolation.Range(2, 5UL << 16));
        six.TryRead(6, out _, out violation).ShouldBeFalse(); // start past current
        six.TryRead(1, out var reader, out _).ShouldBeTrue();
        reader.Count.ShouldBe(5);
    }

    [Fact]
    public void PartitionInfoRegsWriter_TakesFiveAndRefusesTheSixth()
    {
        var writer = default(PartitionInfoRegsWriter);
        for (var i = 0; i < 5; i++)
        {
            writer.TryAdd(new PartitionInfoRegsEntry(new EndpointId((ushort)(0x8001 + i)), 1, 0, Uuid.Nil)).ShouldBeTrue();
        }

        writer.TryAdd(new PartitionInfoRegsEntry(new EndpointId(0x8006), 1, 0, Uuid.Nil)).ShouldBeFalse();
        writer.Count.ShouldBe(5);
        var entries = new List<PartitionInfoRegsEntry>();
        new PartitionInfoGetRegsSuccess(4, 4, 0, 24, writer.ToDescriptors()).TryRead(0, out var reader, out _).ShouldBeTrue();
        foreach (var entry in reader)
        {
            entries.Add(entry);
        }

        entries.Select(static e => e.Id.Value).ShouldBe([(ushort)0x8001, (ushort)0x8002, (ushort)0x8003, (ushort)0x8004, (ushort)0x8005]);
    }

    [Fact]
    public void Encode_OfAValueTheWireCannotCarry_ThrowsAndLeavesTheFrameAsItWas()
    {
        Refused(new RxTxMap(false, 0x1_0000_0000, 0, 1));
        Refused(new RxTxMap(true, 0, 0, 64));
        Refused(new NotificationSet(default, NotificationSetFlags.None, 1, default));
        Refused(new NotificationBind(default, (NotificationBindFlags)2, default));
        Refused(new MsgSendDirectReq(false, default, (DirectMessageKind)1, default));
        Refused(new MsgSendDirectReq(false, default, DirectMessageKind.Partition, new DirectMessagePayload(0, 0, 0, 0, 0x1_0000_0000)));
        Refused(new SuccessReturn(false, default, 0, 0, 0, 0, 0, 0x1_0000_0000));
        Refused(new MemShare(false, new MemoryTransaction(0x70, 0x70, 0x1_0000_0000, 1)));
        Refused(new MemPermGet(false, 0, 0));
        Refused(new MemPermSet(false, 0, 1, new MemPermissions((MemDataAccess)2, Executable: false)));
        Refused(new ConsoleLog(false, new ConsoleLogText(new byte[25])));
        Refused(new VersionCall(new FfaVersion(0x8000, 0)));
        Refused(new Features(new FeatureQuery(1), 1));
        Refused(new PartitionInfoGetRegsSuccess(1, 2, 0, 24, default));
    }

    [Fact]
    public void NotificationGetSuccess_KeepsReservedFrameworkBits()
    {
        NotificationGetSuccess.TryDecode(RegisterFrame.Of(0x84000061, 0, 0, 0, 0, 0, 0x8000_0001, 0x2), out var success, out _).ShouldBeTrue();
        success.SpmFramework.ShouldBe((FrameworkNotifications)0x8000_0001);
        success.HypervisorFramework.ShouldBe((FrameworkNotifications)0x2);
    }

    [Fact]
    public void MsgSend_KeepsItsAttributeWordWhole()
    {
        MsgSend.TryDecode(RegisterFrame.Of(0x8400006E, 0x0001_0002, 0, 0x40, 0xFFFF_FFFF), out var send, out _).ShouldBeTrue();
        send.Attributes.ShouldBe(0xFFFF_FFFFu);
        send.Length.ShouldBe(0x40u);
    }

    private static void Refused<T>(T value)
        where T : struct, IFfaMessage<T>
    {
        var marker = RegisterFrame.Of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18);
        var frame = marker;
        try
        {
            value.Encode(ref frame);
            throw new ShouldAssertException($"{value} was encoded as {frame}");
        }
        catch (ArgumentOutOfRangeException)
        {
            frame.ShouldBe(marker);
        }
    }
}
