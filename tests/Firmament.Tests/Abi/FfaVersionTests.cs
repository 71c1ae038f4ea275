using Firmament.Abi.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi;

public class FfaVersionTests
{
    [Theory]
    [InlineData(1, 0, 0x00010000u)]
    [InlineData(1, 1, 0x00010001u)]
    [InlineData(1, 2, 0x00010002u)]
    public void Encode_PutsMajorInBits30To16AndMinorInBits15To0(int major, int minor, uint word)
    {
        new FfaVersion((ushort)major, (ushort)minor).Encode().ShouldBe(word);
        FfaVersion.TryDecode(word, out var back).ShouldBeTrue();
        back.ShouldBe(new FfaVersion((ushort)major, (ushort)minor));
    }

    [Fact]
    public void TryDecode_WithBit31Set_IsNotAVersion()
    {
        FfaVersion.TryDecode(0x80010002, out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData(1, 2, 1, 0, true)]
    [InlineData(1, 2, 1, 2, true)]
    [InlineData(1, 1, 1, 2, false)] // a newer minor than the callee's
    [InlineData(2, 0, 1, 0, false)] // another major
    public void CanServe_FollowsTheCompatibilityRule(int calleeMajor, int calleeMinor, int callerMajor, int callerMinor, bool compatible)
    {
        new FfaVersion((ushort)calleeMajor, (ushort)calleeMinor)
            .CanServe(new FfaVersion((ushort)callerMajor, (ushort)callerMinor))
            .ShouldBe(compatible);
    }
}
