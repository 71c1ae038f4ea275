using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Firmament.Scenarios.Exploration;

/// <summary>One shard of a campaign: its index and the shard count.</summary>
public readonly record struct ShardInfo(int Index, int Count);

/// <summary>
/// What a campaign (or one shard of it) found: runs made, the distinct interleavings they covered (schedule hashes),
/// and the first violation. Saved as JSON (<c>--out</c>) so shards run anywhere can be merged (<c>--merge</c>).
/// </summary>
public sealed record ExploreResult
{
    public required string Scenario { get; init; }

    public required string Personality { get; init; }

    public required ExploreStrategy Strategy { get; init; }

    public required ulong Seed { get; init; }

    /// <summary>The shards this result covers.</summary>
    public required IReadOnlyList<ShardInfo> Shards { get; init; }

    public required long Runs { get; init; }

    /// <summary>DFS ran every choice sequence.</summary>
    public bool Exhausted { get; init; }

    /// <summary>The distinct schedule hashes, ascending: their count is the interleavings covered.</summary>
    public required IReadOnlyList<ulong> Interleavings { get; init; }

    /// <summary>The first violation found (the lowest run index, after a merge), or null.</summary>
    public Violation? Violation { get; init; }

    /// <summary>One line: runs, interleavings, and the verdict.</summary>
    public string Summary => string.Create(
        CultureInfo.InvariantCulture,
        $"{Runs:N0} runs, {Interleavings.Count:N0} distinct interleavings{(Exhausted ? " (every schedule: search exhausted)" : string.Empty)}: {(Violation is null ? "no invariant violated" : "VIOLATION")}");

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("scenario", Scenario);
            json.WriteString("personality", Personality);
            json.WriteString("strategy", Strategy.ToString().ToLowerInvariant());
            json.WriteString("seed", Hex(Seed));
            json.WriteStartArray("shards");
            foreach (var shard in Shards)
            {
                json.WriteStringValue($"{shard.Index}/{shard.Count}");
            }

            json.WriteEndArray();
            json.WriteNumber("runs", Runs);
            json.WriteBoolean("exhausted", Exhausted);
            json.WriteNumber("interleavingCount", Interleavings.Count);
            json.WriteStartArray("interleavings");
            foreach (var hash in Interleavings)
            {
                json.WriteStringValue(Hex(hash));
            }

            json.WriteEndArray();
            if (Violation is { } v)
            {
                json.WriteStartObject("violation");
                json.WriteString("invariant", v.Invariant);
                json.WriteString("message", v.Message);
                json.WriteNumber("run", v.Run);
                json.WriteString("seed", Hex(v.Seed));
                json.WriteNumber("step", v.Step);
                json.WriteString("replay", v.ReplayToken);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Reads a saved result; throws <see cref="FormatException"/> with the reason when it is not one.</summary>
    public static ExploreResult FromJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            Violation? violation = null;
            if (root.TryGetProperty("violation", out var v))
            {
                var replay = v.GetProperty("replay").GetString() ?? string.Empty;
                IReadOnlyList<int>? path = replay.StartsWith("0x", StringComparison.Ordinal)
                    ? null
                    : replay.Length == 0 ? [] : [.. replay.Split('.').Select(static p => int.Parse(p, CultureInfo.InvariantCulture))];
                violation = new Violation(
                    v.GetProperty("invariant").GetString() ?? string.Empty,
                    v.GetProperty("message").GetString() ?? string.Empty,
                    v.GetProperty("run").GetInt64(),
                    ParseHex(v.GetProperty("seed").GetString()),
                    v.GetProperty("step").GetInt64(),
                    path);
            }

            return new ExploreResult
            {
                Scenario = root.GetProperty("scenario").GetString() ?? string.Empty,
                Personality = root.GetProperty("personality").GetString() ?? string.Empty,
                Strategy = Enum.Parse<ExploreStrategy>(root.GetProperty("strategy").GetString() ?? string.Empty, ignoreCase: true),
                Seed = ParseHex(root.GetProperty("seed").GetString()),
                Shards = [.. root.GetProperty("shards").EnumerateArray().Select(static s => ParseShard(s.GetString()))],
                Runs = root.GetProperty("runs").GetInt64(),
                Exhausted = root.TryGetProperty("exhausted", out var e) && e.GetBoolean(),
                Interleavings = [.. root.GetProperty("interleavings").EnumerateArray().Select(static h => ParseHex(h.GetString()))],
                Violation = violation,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or OverflowException)
        {
            throw new FormatException($"not a saved exploration result: {e.Message}", e);
        }
    }

    /// <summary>
    /// Joins shards of one campaign: runs add up, interleavings are united, the violation kept is the one of the lowest
    /// run index. Results of different scenarios, personalities, strategies or seeds do not merge.
    /// </summary>
    public static ExploreResult Merge(IReadOnlyList<ExploreResult> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new ArgumentException("nothing to merge", nameof(parts));
        }

        var first = parts[0];
        foreach (var part in parts)
        {
            if (part.Scenario != first.Scenario || part.Personality != first.Personality || part.Strategy != first.Strategy || part.Seed != first.Seed)
            {
                throw new ArgumentException(
                    $"'{part.Scenario}' [{part.Personality}, {part.Strategy}, seed {Hex(part.Seed)}] is another campaign than '{first.Scenario}' [{first.Personality}, {first.Strategy}, seed {Hex(first.Seed)}]",
                    nameof(parts));
            }
        }

        var shards = parts.SelectMany(static p => p.Shards).Distinct().OrderBy(static s => s.Count).ThenBy(static s => s.Index).ToList();
        if (shards.Count != parts.Sum(static p => p.Shards.Count))
        {
            throw new ArgumentException("a shard appears twice", nameof(parts));
        }

        return first with
        {
            Shards = shards,
            Runs = parts.Sum(static p => p.Runs),
            Exhausted = parts.All(static p => p.Exhausted),
            Interleavings = [.. parts.SelectMany(static p => p.Interleavings).Distinct().Order()],
            Violation = parts.Select(static p => p.Violation).Where(static v => v is not null).MinBy(static v => v!.Run),
        };
    }

    /// <summary>Parses <c>i/N</c> (0 ≤ i &lt; N).</summary>
    public static ShardInfo ParseShard(string? text)
    {
        var parts = (text ?? string.Empty).Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count < 1 || index >= count)
        {
            throw new FormatException($"'{text}' is not a shard i/N with 0 <= i < N");
        }

        return new ShardInfo(index, count);
    }

    private static string Hex(ulong value) => "0x" + value.ToString("X16", CultureInfo.InvariantCulture);

    private static ulong ParseHex(string? text) =>
        text is not null && text.StartsWith("0x", StringComparison.Ordinal)
            ? ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : throw new FormatException($"'{text}' is not a 0x-prefixed hexadecimal number");
}
