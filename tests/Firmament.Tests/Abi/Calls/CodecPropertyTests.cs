using Firmament.Abi;
using Firmament.Abi.Ffa;
using FsCheck;
using FsCheck.Fluent;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Calls;

/// <summary>The codec properties, run for every typed call and return.</summary>
public class CodecPropertyTests
{
    [Fact]
    public void Cases_CoverEveryTypedCallAndReturn()
    {
        var types = typeof(FfaFunction).Assembly.GetTypes()
            .Where(static t => t.GetInterfaces().Any(static i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(Firmament.Abi.Ffa.Calls.IFfaMessage<>)))
            .Select(static t => t.Name)
            .Order(StringComparer.Ordinal)
            .ToArray();
        CodecCases.All.Select(static c => c.Name).Order(StringComparer.Ordinal).ToArray().ShouldBe(types);
    }

    [Theory]
    [MemberData(nameof(CodecCases.Names), MemberType = typeof(CodecCases))]
    public void EveryValue_EncodesAndDecodesBackToItself(string type) => CodecCases.Named(type).ValuesRoundTrip();

    [Theory]
    [MemberData(nameof(CodecCases.Names), MemberType = typeof(CodecCases))]
    public void ValidFrame_WithNoiseInIgnoredBits_DecodesToTheSameValueAndEncodesClean(string type) =>
        CodecCases.Named(type).IgnoredBitsAreIgnored();

    [Theory]
    [MemberData(nameof(CodecCases.Names), MemberType = typeof(CodecCases))]
    public void EveryAcceptedFrame_EncodesBackToItself(string type) => CodecCases.Named(type).AcceptedFramesRoundTrip();

    [Theory]
    [MemberData(nameof(CodecCases.Names), MemberType = typeof(CodecCases))]
    public void RandomFrames_NeverThrowInTryDecode(string type) => CodecCases.Named(type).RandomFramesNeverThrow();

    [Fact]
    public void RandomFrames_NeverThrowInDescribe()
    {
        var inputs = from frame in Gens.Frame(Gen.OneOf(Gens.FfaW0, Gens.U32, Gen.Elements(0xFFFF_FFFFu, 0x0001_0002u)))
                     from caller in Gen.Elements(CallerKind.Vm, CallerKind.Sp, CallerKind.Hypervisor)
                     from version in Gen.Elements(FfaVersion.V1_0, FfaVersion.V1_1, FfaVersion.V1_2)
                     from replyTo in Gen.Elements<FfaFunction?>([null, .. Enum.GetValues<FfaFunction>()])
                     select (frame, caller, version, replyTo);
        Check.One(
            Config.QuickThrowOnFailure.WithMaxTest(5000),
            Prop.ForAll(inputs.ToArbitrary(), static input =>
            {
                var description = FfaDescriber.Describe(input.frame, input.caller, input.version, input.replyTo);
                description.Abi.ShouldNotBeNullOrEmpty();
            }));
    }
}
