using System.Globalization;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios.Scripts;

namespace Firmament.Scenarios.Exploration;

/// <summary>How the explorer chooses schedules.</summary>
public enum ExploreStrategy
{
    /// <summary>Every choice uniformly at random from the run's seed.</summary>
    Random,

    /// <summary>Probabilistic concurrency testing: random priorities with a few change points, from the run's seed.</summary>
    Pct,

    /// <summary>Depth-first over every choice sequence (systematic; runs until exhausted or out of runs).</summary>
    Dfs,
}

/// <summary>What to explore and how.</summary>
public sealed record ExploreOptions
{
    public long Runs { get; init; } = 1_000;

    public ExploreStrategy Strategy { get; init; } = ExploreStrategy.Random;

    /// <summary>pCPUs for the platform (null: the platform's own).</summary>
    public int? Pcpus { get; init; }

    /// <summary>The base seed; run i has seed <see cref="Explorer.SeedOf"/>(seed, i).</summary>
    public ulong Seed { get; init; }

    /// <summary>This shard's index and the shard count: runs with index ≡ index (mod count) are this shard's.</summary>
    public (int Index, int Count) Shard { get; init; } = (0, 1);

    /// <summary>PCT's bug depth.</summary>
    public int Depth { get; init; } = 3;

    /// <summary>Stop at the first violation (the default) or run every run.</summary>
    public bool StopAtFirst { get; init; } = true;
}

/// <summary>One run's outcome.</summary>
public readonly record struct RunOutcome(long Run, ulong Seed, long Steps, ulong ScheduleHash, Violation? Violation);

/// <summary>An invariant that failed: where, and how to get there again.</summary>
public sealed record Violation(string Invariant, string Message, long Run, ulong Seed, long Step, IReadOnlyList<int>? Path)
{
    /// <summary>The seed (random, PCT) or the choice path (DFS) as <c>--replay</c> takes it.</summary>
    public string ReplayToken => Path is null ? $"0x{Seed:X}" : string.Join('.', Path);
}

/// <summary>
/// Runs a scenario's platform under many schedules — each run deterministic from its seed (or, for DFS, its choice
/// path) — with faults from the scenario's <c>explore:</c> section, checking every invariant after every step, and
/// stops at the first violation. Runs are independent: a shard runs the run indices that fall to it, so a campaign
/// splits across machines and <see cref="ExploreResult.Merge"/> joins the results.
/// </summary>
public sealed class Explorer
{
    private readonly Scenario _scenario;
    private readonly Personality _personality;
    private readonly ExploreOptions _options;
    private readonly DfsChooser? _dfs;

    public Explorer(Scenario scenario, Personality personality, ExploreOptions options)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(personality);
        ArgumentNullException.ThrowIfNull(options);
        _scenario = scenario;
        _personality = personality;
        _options = options;
        _dfs = options.Strategy == ExploreStrategy.Dfs ? new DfsChooser() : null;
        Invariants =
        [
            new NotificationLedgerInvariant(),
            new NotificationInterruptInvariant(),
            new SchedulerInvariant(),
            new RxOwnershipInvariant(),
            new PageOwnershipInvariant(),
            new HandleInvariant(),
        ];
    }

    /// <summary>Checked after every step of every run: the built-in ones, and any added.</summary>
    public List<IInvariant> Invariants { get; }

    /// <summary>The seed of run <paramref name="run"/>: a mix of the base seed and the index, so runs are independent.</summary>
    public static ulong SeedOf(ulong seed, long run)
    {
        var z = seed + 0x9E3779B97F4A7C15UL * (ulong)(run + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Runs this shard's runs (or until the first violation, or until DFS is exhausted), reporting after each run.
    /// </summary>
    public ExploreResult Explore(Action<long, long, int>? progress = null)
    {
        var hashes = new HashSet<ulong>();
        var done = 0L;
        Violation? first = null;
        var (index, count) = _options.Shard;
        var mine = ShardRuns(_options.Runs, index, count);
        for (var run = (long)index; run < _options.Runs; run += count)
        {
            if (_dfs is not null && done > 0 && !_dfs.NextRun())
            {
                break;
            }

            var outcome = RunOne(run, path: null, trace: false, out _);
            done++;
            hashes.Add(outcome.ScheduleHash);
            progress?.Invoke(done, mine, hashes.Count);
            if (outcome.Violation is { } violation)
            {
                first ??= violation;
                if (_options.StopAtFirst)
                {
                    break;
                }
            }
        }

        return new ExploreResult
        {
            Scenario = _scenario.Name,
            Personality = _personality.Name,
            Strategy = _options.Strategy,
            Seed = _options.Seed,
            Shards = [new ShardInfo(index, count)],
            Runs = done,
            Exhausted = _dfs?.Exhausted ?? false,
            Interleavings = [.. hashes.Order()],
            Violation = first,
        };
    }

    /// <summary>How many of <paramref name="runs"/> fall to shard <paramref name="index"/> of <paramref name="count"/>.</summary>
    public static long ShardRuns(long runs, int index, int count) => runs <= index ? 0 : ((runs - index - 1) / count) + 1;

    /// <summary>
    /// One run: run index <paramref name="run"/> (its seed), or — for DFS replays — the choice path
    /// <paramref name="path"/>. With <paramref name="trace"/>, the platform records its trace (for the report).
    /// </summary>
    public RunOutcome RunOne(long run, IReadOnlyList<int>? path, bool trace, out Platform platform) =>
        RunWith(SeedOf(_options.Seed, run), run, path, trace, out platform);

    /// <summary>A replay of one run by its seed (random, PCT) or choice path (DFS), with the trace on.</summary>
    public RunOutcome Replay(ulong seed, IReadOnlyList<int>? path, out Platform platform) => RunWith(seed, -1, path, trace: true, out platform);

    private RunOutcome RunWith(ulong seed, long run, IReadOnlyList<int>? path, bool trace, out Platform platform)
    {
        var description = _scenario.Platform with
        {
            Personality = _personality,
            Seed = seed,
            Strategy = ScheduleStrategy.Random,
            Pcpus = _options.Pcpus ?? _scenario.Platform.Pcpus,
        };
        platform = Platform.Build(description, new TraceRecorder { Enabled = trace });
        var scheduler = platform.Scheduler;
        IScheduleChooser chooser = _options.Strategy switch
        {
            ExploreStrategy.Pct => new PctChooser(seed, scheduler.Pcpus.Count, _options.Depth),
            ExploreStrategy.Dfs => _dfs ?? new DfsChooser(),
            _ => new RandomChooser(seed),
        };
        if (chooser is DfsChooser dfs && path is not null)
        {
            dfs.Replay(path);
        }

        scheduler.Chooser = chooser;
        foreach (var invariant in Invariants)
        {
            invariant.Attach(platform);
        }

        var settings = _scenario.Explore ?? new ExploreFaults();
        var faults = new FaultInjector(settings, platform, seed);
        faults.BeforeBoot();
        platform.Boot();
        var limit = settings.MaxSteps;
        long steps = 0;
        Violation? violation = null;
        while (violation is null && steps < limit && scheduler.Step())
        {
            steps++;
            faults.AfterStep(steps);
            violation = CheckAll(platform, steps, seed, run, chooser, settled: false);
        }

        if (violation is null && steps < limit)
        {
            faults.Settle();
            while (violation is null && steps < limit && scheduler.Step())
            {
                steps++;
                violation = CheckAll(platform, steps, seed, run, chooser, settled: false);
            }

            violation ??= steps < limit ? CheckAll(platform, steps, seed, run, chooser, settled: true) : null;
        }

        if (violation is null && steps >= limit)
        {
            violation = new Violation("the run settles", $"still running after {limit} steps (a livelock, or an endpoint that never stops)", run, seed, steps, PathOf(chooser));
        }

        return new RunOutcome(run, seed, steps, scheduler.ScheduleHash, violation);
    }

    private Violation? CheckAll(Platform platform, long step, ulong seed, long run, IScheduleChooser chooser, bool settled)
    {
        foreach (var invariant in Invariants)
        {
            if ((settled ? invariant.CheckSettled(platform) : invariant.Check(platform)) is { } message)
            {
                return new Violation(invariant.Name, message, run, seed, step, PathOf(chooser));
            }
        }

        return null;
    }

    private static List<int>? PathOf(IScheduleChooser chooser) => chooser is DfsChooser dfs ? [.. dfs.Path] : null;

    /// <summary>The one-line command that replays a violation.</summary>
    public string ReplayCommand(Violation violation, string scenarioFile)
    {
        ArgumentNullException.ThrowIfNull(violation);
        var pcpus = _options.Pcpus is { } k ? string.Create(CultureInfo.InvariantCulture, $" --pcpus {k}") : string.Empty;
        return $"firmament explore {scenarioFile} --strategy {_options.Strategy.ToString().ToLowerInvariant()}{pcpus} --personality {_personality.Name} --replay {violation.ReplayToken}";
    }
}
