using Firmament.Abi;
using Firmament.Abi.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi;

public class PackingTests
{
    [Fact]
    public void SenderReceiver_PutsSenderInBits31To16AndReceiverInBits15To0()
    {
        var packed = new SenderReceiver(new EndpointId(0x8001), new EndpointId(0x0002)).Pack();
        packed.ShouldBe(0x8001_0002u);
        SenderReceiver.Unpack(packed).ShouldBe(new SenderReceiver(new EndpointId(0x8001), new EndpointId(0x0002)));
    }

    [Fact]
    public void TargetInfo_PutsEndpointInBits31To16AndVcpuInBits15To0()
    {
        var packed = new TargetInfo(new EndpointId(0x8002), 3).Pack();
        packed.ShouldBe(0x8002_0003u);
        TargetInfo.Unpack(packed).ShouldBe(new TargetInfo(new EndpointId(0x8002), 3));
    }

    [Fact]
    public void NotificationBitmap_SplitsLowWordFirst()
    {
        var bitmap = new NotificationBitmap(0x8000_0001_0000_0003);
        bitmap.Low.ShouldBe(0x0000_0003u);
        bitmap.High.ShouldBe(0x8000_0001u);
        NotificationBitmap.FromHalves(bitmap.Low, bitmap.High).ShouldBe(bitmap);
        NotificationBitmap.Of(63).Bits.ShouldBe(1UL << 63);
    }

    [Fact]
    public void MemoryHandle_Bit63SaysTheHypervisorAllocatedIt()
    {
        new MemoryHandle(0x8000_0000_0000_0007).IsHypervisorAllocated.ShouldBeTrue();
        new MemoryHandle(0x0000_0000_0000_0007).IsHypervisorAllocated.ShouldBeFalse();
        MemoryHandle.Invalid.IsValid.ShouldBeFalse();
        MemoryHandle.FromHalves(0x1234_5678, 0x8000_0000).Value.ShouldBe(0x8000_0000_1234_5678UL);
    }

    [Theory]
    [InlineData(0x0000, false, false)]
    [InlineData(0x0001, false, true)]
    [InlineData(0x7FFF, false, false)]
    [InlineData(0x8000, true, false)]
    [InlineData(0x8001, true, false)]
    public void EndpointId_Bit15MarksTheSecureWorld(int id, bool secure, bool vm)
    {
        var endpoint = new EndpointId((ushort)id);
        endpoint.IsSecure.ShouldBe(secure);
        endpoint.IsVm.ShouldBe(vm);
    }

    [Fact]
    public void Uuid_KeepsRfc4122ByteOrder_Byte0InTheLowBitsOfTheFirstRegister()
    {
        // Cactus's UUID from TF-A-tests: 1e67b5b4-e14f-904a-13fb-1fb8cbdae1da.
        var uuid = Uuid.Parse("1e67b5b4-e14f-904a-13fb-1fb8cbdae1da");
        uuid.Low.ShouldBe(0x4A90_4FE1_B4B5_671EUL);
        uuid.High.ShouldBe(0xDAE1_DACB_B81F_FB13UL);
        var (w1, w2, w3, w4) = uuid.ToWords();
        (w1, w2, w3, w4).ShouldBe((0xB4B5_671Eu, 0x4A90_4FE1u, 0xB81F_FB13u, 0xDAE1_DACBu));
        Uuid.FromWords(w1, w2, w3, w4).ShouldBe(uuid);
        uuid.ToString().ShouldBe("1e67b5b4-e14f-904a-13fb-1fb8cbdae1da");
    }

    [Theory]
    [InlineData("")]
    [InlineData("1e67b5b4-e14f-904a-13fb-1fb8cbdae1d")]
    [InlineData("1e67b5b4-e14f-904a-13fb-1fb8cbdae1dz")]
    public void Uuid_TryParse_RejectsMalformedText(string text)
    {
        Uuid.TryParse(text, out _).ShouldBeFalse();
    }

    [Fact]
    public void RegisterFrame_W_IsTheLow32Bits_AndTruncateTo32ClearsUpperHalves()
    {
        var frame = RegisterFrame.Of(0xFFFF_FFFF_8400_0063, 0x1_0001_0002);
        frame.W(0).ShouldBe(0x8400_0063u);
        frame.W(1).ShouldBe(0x0001_0002u);
        frame.TruncateTo32();
        frame.X0.ShouldBe(0x8400_0063UL);
        frame.X1.ShouldBe(0x0001_0002UL);
        frame.ToString().ShouldBe("[0x84000063, 0x10002]");
    }
}
