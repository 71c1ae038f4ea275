namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>Which generation of descriptor layouts an FF-A version selects.</summary>
internal enum LayoutGeneration
{
    Unsupported = -1,
    V1_0 = 0,
    V1_1 = 1,

    /// <summary>v1.2 and any later 1.x: the newest layouts Firmament knows.</summary>
    V1_2 = 2,
}

internal static class DescriptorLayout
{
    public static LayoutGeneration Of(FfaVersion version) => version.Major != 1
        ? LayoutGeneration.Unsupported
        : version.Minor switch
        {
            0 => LayoutGeneration.V1_0,
            1 => LayoutGeneration.V1_1,
            _ => LayoutGeneration.V1_2,
        };

    /// <summary>Throws for a version with no layout: for writers, where the version is the caller's choice.</summary>
    public static LayoutGeneration Require(FfaVersion version, string paramName)
    {
        var generation = Of(version);
        if (generation == LayoutGeneration.Unsupported)
        {
            throw new ArgumentOutOfRangeException(paramName, version, "FF-A descriptor layouts exist for v1.x only.");
        }

        return generation;
    }

    /// <summary>True if every byte is zero (reserved fields).</summary>
    public static bool IsZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);
}
