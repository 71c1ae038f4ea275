namespace Firmament.Abi.Ffa;

/// <summary>
/// An FF-A version as carried in FFA_VERSION: bit 31 MBZ, major in bits 30:16, minor in bits 15:0.
/// </summary>
public readonly record struct FfaVersion(ushort Major, ushort Minor) : IComparable<FfaVersion>
{
    /// <summary>Bit 31 of the version word; set means the word is not a version.</summary>
    public const uint MbzBit = 1u << 31;

    /// <summary>FFA_VERSION's answer when the callee cannot serve the caller: −1 in w0.</summary>
    public const uint NotSupported = 0xFFFF_FFFF;

    public static FfaVersion V1_0 { get; } = new(1, 0);

    public static FfaVersion V1_1 { get; } = new(1, 1);

    public static FfaVersion V1_2 { get; } = new(1, 2);

    /// <summary>The newest version Firmament implements.</summary>
    public static FfaVersion Latest => V1_2;

    /// <summary>The 32-bit encoding.</summary>
    public uint Encode() => ((uint)(Major & 0x7FFF) << 16) | Minor;

    /// <summary>Decodes a version word; false if bit 31 is set (the word is then not a version).</summary>
    public static bool TryDecode(uint word, out FfaVersion version)
    {
        version = new FfaVersion((ushort)((word >> 16) & 0x7FFF), (ushort)word);
        return (word & MbzBit) == 0;
    }

    /// <summary>
    /// The compatibility rule: a caller at version <paramref name="caller"/> can be served by a callee implementing
    /// this version iff the majors match and the caller's minor is not newer.
    /// </summary>
    public bool CanServe(FfaVersion caller) => caller.Major == Major && caller.Minor <= Minor;

    /// <summary>Parses <c>1.2</c> (or <c>v1.2</c>).</summary>
    public static bool TryParse(string text, out FfaVersion version)
    {
        ArgumentNullException.ThrowIfNull(text);
        version = default;
        var s = text.Trim().TrimStart('v', 'V');
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0
            || !ushort.TryParse(s.AsSpan(0, dot), System.Globalization.CultureInfo.InvariantCulture, out var major)
            || !ushort.TryParse(s.AsSpan(dot + 1), System.Globalization.CultureInfo.InvariantCulture, out var minor)
            || major > 0x7FFF)
        {
            return false;
        }

        version = new FfaVersion(major, minor);
        return true;
    }

    public int CompareTo(FfaVersion other) => Encode().CompareTo(other.Encode());

    public static bool operator <(FfaVersion left, FfaVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(FfaVersion left, FfaVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(FfaVersion left, FfaVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(FfaVersion left, FfaVersion right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Major}.{Minor}";
}
