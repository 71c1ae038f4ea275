using Firmament.Ffa;
using Firmament.Scenarios.Exploration;
using Firmament.Scenarios.Scripts;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>
/// Schedule exploration proves itself on the race from the Xen VM-to-VM notification review: a personality that
/// plants the lock window (pending bits rolled back after the lock was dropped, racing a concurrent SET) is caught
/// within 10,000 runs, and the real implementation survives 100,000 runs of the same scenario.
/// </summary>
public sealed class ExploreTests
{
    /// <summary>Xen's first VM-to-VM notification patch, before review: test-only.</summary>
    private static readonly Personality PlantedRace = Personality.Default with { Name = "xen-vm-to-vm-v1", NotificationRollbackWindow = true };

    /// <summary>A reclaim that checks the borrowers, then drops its lock before closing the grant: test-only.</summary>
    private static readonly Personality PlantedReclaimRace = Personality.Default with { Name = "reclaim-window", MemoryReclaimWindow = true };

    private static Scenario Notifications => ScenarioFile.Load(Repo("explore", "vm-to-vm-notifications.yaml"));

    private static Scenario Memory => ScenarioFile.Load(Repo("explore", "vm-to-vm-memory.yaml"));

    [Theory]
    [InlineData(ExploreStrategy.Random)]
    [InlineData(ExploreStrategy.Pct)]
    public void ThePlantedLockWindowRace_IsFoundWithin10000Runs(ExploreStrategy strategy)
    {
        var explorer = new Explorer(Notifications, PlantedRace, new ExploreOptions { Runs = 10_000, Strategy = strategy, Seed = 1 });
        var result = explorer.Explore();

        var violation = result.Violation.ShouldNotBeNull($"{strategy}: {result.Summary}");
        violation.Invariant.ShouldBe("no notification lost or invented");
        violation.Message.ShouldStartWith("lost: VM notification IDs");
        result.Runs.ShouldBeLessThanOrEqualTo(10_000);
    }

    [Fact]
    public void TheRealImplementation_Survives100000Runs()
    {
        var explorer = new Explorer(Notifications, Personality.Default, new ExploreOptions { Runs = 100_000, Seed = 1 });
        var result = explorer.Explore();

        result.Violation.ShouldBeNull(result.Violation?.Message);
        result.Runs.ShouldBe(100_000);
        result.Interleavings.Count.ShouldBeGreaterThan(50_000);
    }

    [Fact]
    public void ThePlantedReclaimRetrieveRace_IsFoundWithin10000Runs()
    {
        // The retrieve that slips between the reclaim's check and its close leaves the borrower mapping the owner's page.
        var result = new Explorer(Memory, PlantedReclaimRace, new ExploreOptions { Runs = 10_000, Seed = 1 }).Explore();

        var violation = result.Violation.ShouldNotBeNull(result.Summary);
        violation.Invariant.ShouldBe("every page has one owner, every access matches its state");
        violation.Message.ShouldContain("vm2 maps page");
        violation.Message.ShouldContain("without holding it in an open grant");
    }

    [Fact]
    public void TheRealImplementation_SurvivesTheReclaimRetrieveRace_100000Runs()
    {
        var result = new Explorer(Memory, Personality.Default, new ExploreOptions { Runs = 100_000, Seed = 1 }).Explore();

        result.Violation.ShouldBeNull(result.Violation?.Message);
        result.Runs.ShouldBe(100_000);
    }

    [Fact]
    public void AViolation_ReplaysFromItsSeed_ToTheSameStep()
    {
        var options = new ExploreOptions { Runs = 10_000, Seed = 7 };
        var found = new Explorer(Notifications, PlantedRace, options).Explore().Violation.ShouldNotBeNull();

        var again = new Explorer(Notifications, PlantedRace, options).Replay(found.Seed, null, out var platform);
        again.Violation.ShouldNotBeNull().Step.ShouldBe(found.Step);
        again.Violation.Message.ShouldBe(found.Message);
        platform.Trace.Events.Count.ShouldBeGreaterThan(0);

        // And the run, by its index, has the same schedule both times.
        var explorer = new Explorer(Notifications, PlantedRace, options);
        explorer.RunOne(found.Run, null, trace: false, out _).ScheduleHash.ShouldBe(explorer.RunOne(found.Run, null, trace: false, out _).ScheduleHash);
    }

    [Fact]
    public void Shards_MergeIntoTheCampaign_RunForRun()
    {
        var whole = new Explorer(Notifications, Personality.Default, new ExploreOptions { Runs = 400, Seed = 3 }).Explore();
        var shards = Enumerable.Range(0, 3)
            .Select(i => new Explorer(Notifications, Personality.Default, new ExploreOptions { Runs = 400, Seed = 3, Shard = (i, 3) }).Explore())
            .Select(static r => ExploreResult.FromJson(r.ToJson()))
            .ToList();

        var merged = ExploreResult.Merge(shards);
        merged.Runs.ShouldBe(400);
        merged.Interleavings.ShouldBe(whole.Interleavings);
        merged.Shards.Count.ShouldBe(3);
        Should.Throw<ArgumentException>(() => ExploreResult.Merge([shards[0], shards[0]]));
        Should.Throw<ArgumentException>(() => ExploreResult.Merge([shards[0], whole with { Seed = 4 }]));
    }

    [Fact]
    public void Dfs_RunsEverySchedule_OnceEach_UntilExhausted()
    {
        // Two VMs on two pCPUs making two fast calls each: a choice tree small enough to run out.
        static global::Firmament.Endpoints.EndpointProgram TwoCalls() => static async c =>
        {
            await c.CallAsync(global::Firmament.Abi.RegisterFrame.Of(0x84000069));
            await c.CallAsync(global::Firmament.Abi.RegisterFrame.Of(0x84000069));
        };
        var tiny = new Scenario
        {
            Name = "two VMs, two calls each",
            File = "tiny.yaml",
            Platform = new global::Firmament.Scenarios.PlatformDescription
            {
                Roles = global::Firmament.Scenarios.PlatformRoles.HypervisorOnly,
                Pcpus = 2,
                Partitions = [global::Firmament.Tests.Ffa.Rig.Vm("vm1", 1, TwoCalls()), global::Firmament.Tests.Ffa.Rig.Vm("vm2", 2, TwoCalls())],
            },
            Personalities = [Personality.Default],
            Steps = [],
            Explore = new ExploreFaults(),
        };
        var result = new Explorer(tiny, Personality.Default, new ExploreOptions { Runs = 10_000, Strategy = ExploreStrategy.Dfs }).Explore();

        result.Exhausted.ShouldBeTrue();
        result.Runs.ShouldBeGreaterThan(10);
        result.Runs.ShouldBeLessThan(10_000);
        result.Interleavings.Count.ShouldBe((int)result.Runs);
        result.Violation.ShouldBeNull();

        // On the notification scenario DFS does not run out, but never runs a schedule twice.
        var partial = new Explorer(Notifications with { Explore = new ExploreFaults() }, Personality.Default, new ExploreOptions { Runs = 300, Strategy = ExploreStrategy.Dfs }).Explore();
        partial.Interleavings.Count.ShouldBe(300);
        partial.Exhausted.ShouldBeFalse();
    }

    [Fact]
    public void AUserInvariant_IsCheckedAfterEveryStep()
    {
        var explorer = new Explorer(Notifications, Personality.Default, new ExploreOptions { Runs = 50 });
        explorer.Invariants.Add(new NoThirdGet());
        var result = explorer.Explore();

        var violation = result.Violation.ShouldNotBeNull();
        violation.Invariant.ShouldBe("at most two GETs");
    }

    private sealed class NoThirdGet : IInvariant
    {
        public string Name => "at most two GETs";

        public void Attach(global::Firmament.Scenarios.Platform platform)
        {
        }

        public string? Check(global::Firmament.Scenarios.Platform platform) =>
            platform.Hypervisor!.CallsByFunction[(int)global::Firmament.Abi.Ffa.FfaFunction.NotificationGet - 0x60] > 2 ? "a third GET" : null;
    }

    internal static string Repo(params string[] parts) => Path.Combine([RepoRoot(), .. parts]);

    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));
}
