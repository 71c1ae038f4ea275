using BenchmarkDotNet.Attributes;
using Firmament.Ffa;
using Firmament.Scenarios.Exploration;
using Firmament.Scenarios.Scripts;

namespace Firmament.Benchmarks;

/// <summary>
/// Schedule exploration's throughput on the notification scenario (<c>explore/vm-to-vm-notifications.yaml</c>): each
/// operation is one complete run — the platform built and booted, every step under the random strategy with faults,
/// all built-in invariants checked after every step, the run settled and checked again.
/// </summary>
[MemoryDiagnoser]
public class ExploreBenchmarks
{
    private const int Runs = 2_000;
    private Explorer _explorer = null!;
    private long _next;

    [Params("random", "pct")]
    public string Strategy { get; set; } = "random";

    [GlobalSetup]
    public void Setup()
    {
        var scenario = ScenarioFile.Load(Path.Combine(RepoRoot(), "explore", "vm-to-vm-notifications.yaml"));
        var strategy = Strategy == "pct" ? ExploreStrategy.Pct : ExploreStrategy.Random;
        _explorer = new Explorer(scenario, Personality.Default, new ExploreOptions { Runs = long.MaxValue, Strategy = strategy });
    }

    [Benchmark(OperationsPerInvoke = Runs)]
    public long CompleteRuns()
    {
        long steps = 0;
        for (var i = 0; i < Runs; i++)
        {
            steps += _explorer.RunOne(_next++, null, trace: false, out _).Steps;
        }

        return steps;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Firmament.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run the benchmarks from inside the repository");
    }
}
