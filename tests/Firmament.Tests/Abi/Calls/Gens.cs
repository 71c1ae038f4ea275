using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using FsCheck;
using FsCheck.Fluent;

namespace Firmament.Tests.Abi.Calls;

/// <summary>Generators for register values and the FF-A value types, biased towards the edges (0, all ones, small).</summary>
internal static class Gens
{
    private static readonly Gen<ulong> Word16 = Gen.Choose(0, 0xFFFF).Select(static x => (ulong)x);

    public static readonly Gen<ulong> U64 = Gen.Frequency(
        (1, Gen.Constant(0UL)),
        (1, Gen.Constant(ulong.MaxValue)),
        (2, Gen.Choose(0, 255).Select(static x => (ulong)x)),
        (6, from a in Word16 from b in Word16 from c in Word16 from d in Word16 select (a << 48) | (b << 32) | (c << 16) | d));

    public static readonly Gen<uint> U32 = U64.Select(static x => (uint)x);

    public static readonly Gen<ushort> U16 = U64.Select(static x => (ushort)x);

    public static readonly Gen<bool> Bool = Gen.Elements(false, true);

    public static readonly Gen<EndpointId> Endpoint = Gen.Frequency(
        (1, Gen.Elements<ushort>(0x0000, 0x0001, 0x0002, 0x7FFF, 0x8000, 0x8001, 0xFFFF)),
        (3, U16)).Select(static id => new EndpointId(id));

    public static readonly Gen<SenderReceiver> Endpoints =
        from s in Endpoint from r in Endpoint select new SenderReceiver(s, r);

    public static readonly Gen<TargetInfo> Target =
        from e in Endpoint from v in U16 select new TargetInfo(e, v);

    public static readonly Gen<Uuid> Uuid = from lo in U64 from hi in U64 select new Uuid(lo, hi);

    public static readonly Gen<NotificationBitmap> Bitmap = U64.Select(static b => new NotificationBitmap(b));

    public static readonly Gen<MemoryHandle> Handle = U64.Select(static h => new MemoryHandle(h));

    public static readonly Gen<FfaVersion> Version =
        from major in Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Choose(0, 0x7FFF))) from minor in U16 select new FfaVersion((ushort)major, minor);

    public static readonly Gen<MemPermissions> Permissions =
        from access in Gen.Elements(MemDataAccess.NoAccess, MemDataAccess.ReadWrite, MemDataAccess.ReadOnly)
        from executable in Bool
        select new MemPermissions(access, executable);

    /// <summary>A register value in a convention: 32 bits for SMC32.</summary>
    public static Gen<ulong> Reg(bool is64) => is64 ? U64 : U32.Select(static x => (ulong)x);

    /// <summary>A sparse register: mostly zero, so that random frames sometimes pass MBZ checks.</summary>
    public static readonly Gen<ulong> Sparse = Gen.Frequency((6, Gen.Constant(0UL)), (2, Gen.Choose(0, 255).Select(static x => (ulong)x)), (2, U64));

    /// <summary>
    /// A frame with the given w0 and random registers: dense, or sparse and often zero past a random register, so
    /// that decoders with MBZ checks accept a fair share of them.
    /// </summary>
    public static Gen<RegisterFrame> Frame(Gen<uint> w0) =>
        from id in w0
        from upper in Gen.Frequency((3, Gen.Constant(0UL)), (1, U64))
        from dense in Bool
        from used in Gen.Frequency((1, Gen.Constant(RegisterFrame.Count - 1)), (2, Gen.Choose(0, RegisterFrame.Count - 1)))
        from registers in Gen.ArrayOf(dense ? U64 : Sparse, used)
        select Build((upper & 0xFFFF_FFFF_0000_0000) | id, registers);

    /// <summary>A w0 anywhere in the FF-A range, either convention, including the numbers just outside it.</summary>
    public static readonly Gen<uint> FfaW0 =
        from fn in Gen.Choose(0x5E, 0x92)
        from is64 in Bool
        select (is64 ? 0xC400_0000u : 0x8400_0000u) | (uint)fn;

    private static RegisterFrame Build(ulong x0, ulong[] rest)
    {
        var frame = RegisterFrame.Of(x0);
        rest.CopyTo(frame.AsSpan()[1..]);
        return frame;
    }
}
