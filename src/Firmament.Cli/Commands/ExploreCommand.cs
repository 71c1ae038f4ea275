using System.CommandLine;
using System.Globalization;
using System.Reflection;
using Firmament.Ffa;
using Firmament.Scenarios;
using Firmament.Scenarios.Exploration;
using Firmament.Scenarios.Scripts;

namespace Firmament.Cli.Commands;

/// <summary>
/// <c>firmament explore SCENARIO --runs N [--strategy random|pct|dfs] [--pcpus K] [--seed S] [--shard i/N]</c>: runs a
/// scenario under many schedules, checks every invariant after every step, and stops at the first violation with
/// its seed, the command that replays it, and the trace around it. <c>--replay</c> runs one schedule with its trace;
/// <c>--merge</c> joins the results of shards. Exit 0 nothing violated, 1 a violation, 2 bad input.
/// </summary>
internal static class ExploreCommand
{
    private const int TraceTail = 30;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var scenario = new Argument<string?>("scenario") { Description = "the scenario file to explore", Arity = ArgumentArity.ZeroOrOne };
        var runs = new Option<long>("--runs") { Description = "runs to make (in all shards together)", DefaultValueFactory = static _ => 1_000 };
        var strategy = new Option<string>("--strategy") { Description = "random (default), pct (priorities with change points) or dfs (every schedule, depth first)", DefaultValueFactory = static _ => "random" };
        var pcpus = new Option<int?>("--pcpus") { Description = "pCPUs (default: the platform's)" };
        var seed = new Option<string?>("--seed") { Description = "the base seed, decimal or 0x-hex (default 0)" };
        var shard = new Option<string?>("--shard") { Description = "i/N: run only the runs whose index is i modulo N (merge the shards' --out files with --merge)" };
        var personality = new Option<string?>("--personality") { Description = "the personality to run under (default: the scenario's first)" };
        var depth = new Option<int>("--depth") { Description = "PCT's bug depth (change points + 1)", DefaultValueFactory = static _ => 3 };
        var replay = new Option<string?>("--replay") { Description = "run one schedule — a seed (random, pct) or a choice path like 0.1.0 (dfs) — and print its trace" };
        var outFile = new Option<string?>("--out") { Description = "write the result as JSON (for --merge)" };
        var merge = new Option<string[]>("--merge") { Description = "merge saved results of shards and print the campaign's summary", AllowMultipleArgumentsPerToken = true };
        var invariants = new Option<string[]>("--invariants") { Description = "assemblies with your own invariants (public IInvariant types with a parameterless constructor)" };
        var command = new Command("explore", "Run a scenario under many schedules and check invariants after every step")
        {
            scenario, runs, strategy, pcpus, seed, shard, personality, depth, replay, outFile, merge, invariants,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(merge) is { Length: > 0 } files)
            {
                return Merge(files, parse.GetValue(outFile), output);
            }

            var path = parse.GetValue(scenario) ?? throw new CliError("explore needs a scenario file (or --merge FILES)");
            var loaded = ScenarioFile.Load(path);
            if (loaded.Explore is null)
            {
                throw new CliError($"{path}: no explore: section (say which faults runs may meet, even explore: {{}})");
            }

            var chosen = parse.GetValue(personality) is { } name
                ? (Personality.TryGet(name, out var p) ? p : throw new CliError($"unknown personality '{name}'"))
                : loaded.Personalities[0];
            var options = new ExploreOptions
            {
                Runs = parse.GetValue(runs) is var r and > 0 ? r : throw new CliError("--runs must be at least 1"),
                Strategy = ParseStrategy(parse.GetValue(strategy)),
                Pcpus = parse.GetValue(pcpus) is { } k ? (k is >= 1 and <= 64 ? k : throw new CliError("--pcpus must be 1..64")) : null,
                Seed = ParseSeed(parse.GetValue(seed)),
                Shard = parse.GetValue(shard) is { } s ? ToTuple(Shard(s)) : (0, 1),
                Depth = parse.GetValue(depth) is var d and >= 1 ? d : throw new CliError("--depth must be at least 1"),
            };
            if (options.Strategy == ExploreStrategy.Dfs && options.Shard.Count > 1)
            {
                throw new CliError("--shard splits seeds: dfs has none (run it in one piece)");
            }

            var explorer = new Explorer(loaded, chosen, options);
            foreach (var assembly in parse.GetValue(invariants) ?? [])
            {
                explorer.Invariants.AddRange(LoadInvariants(assembly));
            }

            return parse.GetValue(replay) is { } token
                ? Replay(explorer, options, token, output)
                : Campaign(explorer, loaded, options, parse.GetValue(outFile), output, error);
        });
        return command;
    }

    private static int Campaign(Explorer explorer, Scenario scenario, ExploreOptions options, string? outFile, TextWriter output, TextWriter error)
    {
        var total = Explorer.ShardRuns(options.Runs, options.Shard.Index, options.Shard.Count);
        var bar = new ProgressBar(error, total);
        var result = explorer.Explore(bar.Report);
        bar.Done();
        output.WriteLine($"{scenario.Name} [{result.Personality}], {options.Strategy.ToString().ToLowerInvariant()}, seed 0x{options.Seed:X}, shard {options.Shard.Index}/{options.Shard.Count}");
        output.WriteLine(result.Summary);
        if (outFile is not null)
        {
            File.WriteAllText(outFile, result.ToJson());
        }

        if (result.Violation is not { } violation)
        {
            return 0;
        }

        Report(explorer, violation, scenario.File, output);
        return 1;
    }

    private static void Report(Explorer explorer, Violation violation, string scenarioFile, TextWriter output)
    {
        output.WriteLine($"violated: {violation.Invariant}: {violation.Message}");
        output.WriteLine($"  run {violation.Run}, seed 0x{violation.Seed:X}, step {violation.Step}");
        output.WriteLine($"  replay: {explorer.ReplayCommand(violation, scenarioFile)}");
        explorer.Replay(violation.Seed, violation.Path, out var platform);
        var lines = TraceExport.ToText(platform).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var events = lines.Where(static l => !l.StartsWith('#')).ToList();
        output.WriteLine($"  trace, the last {Math.Min(TraceTail, events.Count)} events up to the violation:");
        foreach (var line in events.TakeLast(TraceTail))
        {
            output.WriteLine("  " + line);
        }
    }

    private static int Replay(Explorer explorer, ExploreOptions options, string token, TextWriter output)
    {
        IReadOnlyList<int>? path = null;
        ulong seed = 0;
        if (options.Strategy == ExploreStrategy.Dfs)
        {
            path = token.Length == 0 ? [] : [.. token.Split('.').Select(static t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var c) ? c : throw new CliError($"'{t}' in the choice path is not a choice"))];
        }
        else
        {
            seed = ParseSeed(token);
        }

        var outcome = explorer.Replay(seed, path, out var platform);
        output.Write(TraceExport.ToText(platform));
        output.WriteLine(outcome.Violation is { } v
            ? $"violated at step {v.Step}: {v.Invariant}: {v.Message}"
            : $"{outcome.Steps} steps, no invariant violated");
        return outcome.Violation is null ? 0 : 1;
    }

    private static int Merge(string[] files, string? outFile, TextWriter output)
    {
        var parts = new List<ExploreResult>();
        foreach (var file in files)
        {
            try
            {
                parts.Add(ExploreResult.FromJson(File.ReadAllText(file)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                throw new CliError($"{file}: {e.Message}");
            }
        }

        ExploreResult merged;
        try
        {
            merged = ExploreResult.Merge(parts);
        }
        catch (ArgumentException e)
        {
            throw new CliError(e.Message);
        }

        var shards = merged.Shards.Count == merged.Shards[0].Count && merged.Shards.All(s => s.Count == merged.Shards[0].Count)
            ? $"all {merged.Shards[0].Count} shards"
            : $"{merged.Shards.Count} of {merged.Shards.Max(static s => s.Count)} shards (incomplete)";
        output.WriteLine($"{merged.Scenario} [{merged.Personality}], {merged.Strategy.ToString().ToLowerInvariant()}, seed 0x{merged.Seed:X}, {shards}");
        output.WriteLine(merged.Summary);
        if (merged.Violation is { } v)
        {
            output.WriteLine($"violated: {v.Invariant}: {v.Message}");
            output.WriteLine($"  run {v.Run}, seed 0x{v.Seed:X}, step {v.Step}; replay with --replay {v.ReplayToken}");
        }

        if (outFile is not null)
        {
            File.WriteAllText(outFile, merged.ToJson());
        }

        return merged.Violation is null ? 0 : 1;
    }

    private static IEnumerable<IInvariant> LoadInvariants(string path)
    {
        Assembly assembly;
        try
        {
            assembly = Assembly.LoadFrom(Path.GetFullPath(path));
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or FileLoadException)
        {
            throw new CliError($"{path}: cannot load invariants: {e.Message}");
        }

        var types = assembly.GetExportedTypes().Where(static t => typeof(IInvariant).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null).ToList();
        if (types.Count == 0)
        {
            throw new CliError($"{path}: no public IInvariant type with a parameterless constructor");
        }

        return types.Select(static t => (IInvariant)Activator.CreateInstance(t)!);
    }

    private static ExploreStrategy ParseStrategy(string? text) => text switch
    {
        "random" => ExploreStrategy.Random,
        "pct" => ExploreStrategy.Pct,
        "dfs" => ExploreStrategy.Dfs,
        _ => throw new CliError($"--strategy '{text}' is not one of random, pct, dfs"),
    };

    internal static ulong ParseSeed(string? text)
    {
        if (text is null)
        {
            return 0;
        }

        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok ? value : throw new CliError($"'{text}' is not a seed (decimal or 0x-hex)");
    }

    private static ShardInfo Shard(string text)
    {
        try
        {
            return ExploreResult.ParseShard(text);
        }
        catch (FormatException e)
        {
            throw new CliError("--shard " + e.Message);
        }
    }

    private static (int, int) ToTuple(ShardInfo shard) => (shard.Index, shard.Count);

    /// <summary>A progress bar on the error stream, drawn only for a terminal (never into files or test output).</summary>
    private sealed class ProgressBar(TextWriter writer, long total)
    {
        private const int Width = 30;
        private readonly bool _enabled = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
        private int _drawn = -1;

        public void Report(long done, long of, int interleavings)
        {
            if (!_enabled || total == 0)
            {
                return;
            }

            var permille = (int)(done * 1000 / total);
            if (permille == _drawn)
            {
                return;
            }

            _drawn = permille;
            var filled = (int)(done * Width / total);
            writer.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {done:N0}/{of:N0} runs, {interleavings:N0} interleavings");
        }

        public void Done()
        {
            if (_enabled && _drawn >= 0)
            {
                writer.WriteLine();
            }
        }
    }
}
