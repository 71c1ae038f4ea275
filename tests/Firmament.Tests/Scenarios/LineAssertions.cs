using Shouldly;

namespace Firmament.Tests.Scenarios;

internal static class LineAssertions
{
    /// <summary>The sequence holds this exact string (ordinal).</summary>
    public static void ShouldHave(this IEnumerable<string> lines, string line) =>
        lines.ShouldContain(l => string.Equals(l, line, StringComparison.Ordinal), $"missing: {line}");
}
