using Firmament.Abi;
using Firmament.Abi.Gunyah;
using FsCheck;
using FsCheck.Fluent;

namespace Firmament.Tests.Abi.Gunyah;

/// <summary>Generators for Gunyah values and frames.</summary>
internal static class GunyahGen
{
    /// <summary>Any 64-bit value, built from four 16-bit pieces so that every bit varies.</summary>
    public static Gen<ulong> AnyU64 { get; } =
        from a in Gen.Choose(0, 0xFFFF)
        from b in Gen.Choose(0, 0xFFFF)
        from c in Gen.Choose(0, 0xFFFF)
        from d in Gen.Choose(0, 0xFFFF)
        select ((ulong)(uint)a << 48) | ((ulong)(uint)b << 32) | ((ulong)(uint)c << 16) | (uint)d;

    /// <summary>A register value biased towards the edges: 0, 1, −1, −2, a 32-bit value, or anything.</summary>
    public static Gen<ulong> Register { get; } = Gen.Frequency(
        (2, Gen.Constant(0UL)),
        (1, Gen.Constant(1UL)),
        (1, Gen.Constant(ulong.MaxValue)),
        (1, Gen.Constant(ulong.MaxValue - 1)),
        (2, AnyU64.Select(static v => v & 0xFFFF_FFFF)),
        (3, AnyU64));

    public static Gen<uint> AnyU32 { get; } = AnyU64.Select(static v => (uint)v);

    public static Gen<CapId> Cap { get; } = Gen.Frequency((1, Gen.Constant(CapId.Invalid)), (5, AnyU64.Select(static v => new CapId(v))));

    public static Gen<VirqInfo> Virq { get; } =
        from virq in Gen.Choose(0, (int)VirqInfo.MaxVirq)
        from vcpu in Gen.Choose(0, 255)
        select new VirqInfo((uint)virq, (byte)vcpu);

    public static Gen<bool> Bool { get; } = Gen.Elements(false, true);

    public static Gen<GunyahConvention> Convention { get; } = Gen.Elements(GunyahConvention.Smccc, GunyahConvention.Native);

    public static Gen<GunyahError> Error { get; } = Gen.Frequency(
        (3, Gen.Elements(Enum.GetValues<GunyahError>())),
        (1, AnyU32.Select(static v => (GunyahError)(int)v)));

    /// <summary>A frame of edge-biased registers.</summary>
    public static Gen<RegisterFrame> Frame { get; } = Gen.ArrayOf(Register, RegisterFrame.Count).Select(static regs => RegisterFrame.Of(regs));

    /// <summary>
    /// A frame for one hypercall: x0 is its SMCCC ID (sometimes with the SVE hint, sometimes with upper bits set),
    /// sometimes another ID, and the rest edge-biased.
    /// </summary>
    public static Gen<RegisterFrame> FrameFor(GunyahHypercall call) =>
        from frame in Frame
        from x0 in Gen.Frequency(
            (6, Gen.Constant((ulong)GunyahHypercalls.SmcccId(call))),
            (1, Gen.Constant((ulong)(GunyahHypercalls.SmcccId(call) | GunyahHypercalls.SveHintBit))),
            (1, AnyU64.Select(v => (v & 0xFFFF_FFFF_0000_0000) | GunyahHypercalls.SmcccId(call))),
            (1, AnyU64.Select(static v => (ulong)(uint)v)))
        select With(frame, 0, x0);

    public static RegisterFrame With(RegisterFrame frame, int register, ulong value)
    {
        frame[register] = value;
        return frame;
    }
}
