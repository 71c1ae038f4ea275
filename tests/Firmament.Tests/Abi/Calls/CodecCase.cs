using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using FsCheck;
using FsCheck.Fluent;
using Shouldly;

namespace Firmament.Tests.Abi.Calls;

/// <summary>One typed call or return, with a generator of its valid values: what the codec properties run over.</summary>
public abstract class CodecCase
{
    public abstract string Name { get; }

    /// <summary>value → frame → value, and the frame back again exactly.</summary>
    public abstract void ValuesRoundTrip();

    /// <summary>A valid frame with noise in the bits the convention ignores decodes to the same value, and encodes to the clean frame.</summary>
    public abstract void IgnoredBitsAreIgnored();

    /// <summary>Any frame the decoder accepts encodes back to itself (after the convention's normalisation).</summary>
    public abstract void AcceptedFramesRoundTrip();

    /// <summary>Random frames with this ABI's w0: TryDecode never throws.</summary>
    public abstract void RandomFramesNeverThrow();

    /// <summary>Decodes a frame and returns the violation (None when it decodes).</summary>
    public abstract AbiViolation Decode(in RegisterFrame frame);

    public override string ToString() => Name;
}

/// <summary>The case for one message type.</summary>
/// <param name="values">Valid values.</param>
/// <param name="usesUpperRegisters">The type owns x8..x17 in SMC64 (REQ2, RESP2, CONSOLE_LOG_64, PARTITION_INFO_GET_REGS's answer).</param>
/// <param name="w0">The w0 values to try random frames with; by default the IDs the type accepts.</param>
public sealed class CodecCase<T>(Gen<T> values, bool usesUpperRegisters = false, Gen<uint>? w0 = null) : CodecCase
    where T : struct, IFfaMessage<T>
{
    private const ulong UpperHalf = 0xFFFF_FFFF_0000_0000;

    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(200);

    public override string Name => typeof(T).Name;

    private Gen<uint> W0 => w0 ?? Gen.Elements(Ids().ToArray());

    public override void ValuesRoundTrip() => Check.One(Runs, Prop.ForAll(values.ToArbitrary(), static (T value) =>
    {
        var frame = default(RegisterFrame);
        value.Encode(ref frame);
        T.TryDecode(frame, out var back, out var violation).ShouldBeTrue($"{value} -> {frame}: {violation}");
        back.ShouldBe(value);
        var again = default(RegisterFrame);
        back.Encode(ref again);
        again.ShouldBe(frame);
    }));

    public override void IgnoredBitsAreIgnored()
    {
        var noisy = from value in values from noise in Gen.ArrayOf(Gens.U64, RegisterFrame.Count) select (value, noise);
        var upper = usesUpperRegisters;
        Check.One(Runs, Prop.ForAll(noisy.ToArbitrary(), pair =>
        {
            var (value, noise) = pair;
            var clean = default(RegisterFrame);
            value.Encode(ref clean);
            var frame = clean;
            var is64 = Is64(clean);
            frame[0] |= noise[0] & UpperHalf;
            for (var i = 1; i < RegisterFrame.Count; i++)
            {
                if (!is64)
                {
                    frame[i] |= i <= 7 ? noise[i] & UpperHalf : noise[i];
                }
                else if (i > 7 && !upper)
                {
                    frame[i] = noise[i];
                }
            }

            T.TryDecode(frame, out var back, out var violation).ShouldBeTrue($"{value} -> {frame}: {violation}");
            back.ShouldBe(value);
            var again = default(RegisterFrame);
            back.Encode(ref again);
            again.ShouldBe(clean);
        }));
    }

    public override void AcceptedFramesRoundTrip()
    {
        var upper = usesUpperRegisters;
        Check.One(Runs.WithMaxTest(1000), Prop.ForAll(Gens.Frame(W0).ToArbitrary(), frame =>
        {
            if (!T.TryDecode(frame, out var value, out _))
            {
                return;
            }

            var expected = frame;
            expected[0] &= 0xFFFF_FFFF;
            var is64 = Is64(expected);
            for (var i = 1; i < RegisterFrame.Count; i++)
            {
                if (!is64)
                {
                    expected[i] = i <= 7 ? expected[i] & 0xFFFF_FFFF : 0;
                }
                else if (i > 7 && !upper)
                {
                    expected[i] = 0;
                }
            }

            var encoded = default(RegisterFrame);
            value.Encode(ref encoded);
            encoded.ShouldBe(expected, $"decoded as {value}");
        }));
    }

    public override void RandomFramesNeverThrow() =>
        Check.One(Runs.WithMaxTest(500), Prop.ForAll(Gens.Frame(Gen.OneOf(W0, Gens.FfaW0, Gens.U32)).ToArbitrary(), static frame =>
        {
            T.TryDecode(frame, out _, out var violation).ShouldBe(violation.IsNone);
        }));

    public override AbiViolation Decode(in RegisterFrame frame)
    {
        var ok = T.TryDecode(frame, out var value, out var violation);
        ok.ShouldBe(violation.IsNone);
        if (!ok)
        {
            value.ShouldBe(default);
        }

        return violation;
    }

    /// <summary>The convention of an encoded frame: VERSION's bare return is always SMC32.</summary>
    private static bool Is64(in RegisterFrame frame) => T.Conventions != CallConventions.Smc32 && frame.Function.Is64;

    private static IEnumerable<uint> Ids()
    {
        if ((T.Conventions & CallConventions.Smc32) != 0)
        {
            yield return FfaFunctions.Id32(T.Abi);
        }

        if ((T.Conventions & CallConventions.Smc64) != 0)
        {
            yield return FfaFunctions.Id64(T.Abi);
        }
    }
}
