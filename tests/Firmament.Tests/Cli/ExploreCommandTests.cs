using Firmament.Tests.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Cli;

/// <summary><c>firmament explore</c>: campaigns, violations with their replay line, replays, shards and their merge, bad input.</summary>
public sealed class ExploreCommandTests
{
    private static readonly string Scenario = ExploreTests.Repo("explore", "vm-to-vm-notifications.yaml");

    [Fact]
    public void ACleanCampaign_SaysSo_AndExitsZero()
    {
        var (code, output, error) = CliRunner.Run("explore", Scenario, "--runs", "200", "--seed", "0x2A");
        error.ShouldBeEmpty();
        code.ShouldBe(0);
        output.ShouldContain("random, seed 0x2A, shard 0/1");
        output.ShouldContain("200 runs, ");
        output.ShouldContain("distinct interleavings: no invariant violated");
    }

    [Fact]
    public void Shards_SavedAndMerged_AddUpToTheCampaign()
    {
        var dir = Directory.CreateTempSubdirectory("firmament-explore-").FullName;
        var files = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var file = Path.Combine(dir, $"shard{i}.json");
            files.Add(file);
            CliRunner.Run("explore", Scenario, "--runs", "100", "--shard", $"{i}/2", "--out", file).ExitCode.ShouldBe(0);
        }

        var (code, output, _) = CliRunner.Run(["explore", "--merge", .. files]);
        code.ShouldBe(0);
        output.ShouldContain("all 2 shards");
        output.ShouldContain("100 runs, ");

        var (partial, partialOutput, _) = CliRunner.Run("explore", "--merge", files[0]);
        partial.ShouldBe(0);
        partialOutput.ShouldContain("1 of 2 shards (incomplete)");
    }

    [Fact]
    public void AReplay_PrintsTheRunsTrace()
    {
        var (code, output, _) = CliRunner.Run("explore", Scenario, "--replay", "0x1234");
        code.ShouldBe(0);
        output.ShouldContain("# Firmament trace: platform 'vm-to-vm-notifications'");
        output.ShouldContain("FFA_NOTIFICATION_SET");
        output.ShouldContain("steps, no invariant violated");
    }

    [Theory]
    [InlineData("--shard", "2/2", "--shard '2/2' is not a shard i/N with 0 <= i < N")]
    [InlineData("--strategy", "bfs", "--strategy 'bfs' is not one of random, pct, dfs")]
    [InlineData("--seed", "soon", "'soon' is not a seed (decimal or 0x-hex)")]
    [InlineData("--personality", "nope", "unknown personality 'nope'")]
    public void BadOptions_ExitTwo_WithOneLine(string option, string value, string message)
    {
        var (code, _, error) = CliRunner.Run("explore", Scenario, option, value);
        code.ShouldBe(2);
        error.Trim().ShouldBe("firmament: " + message);
    }

    [Fact]
    public void AViolation_PrintsTheInvariant_TheReplayLine_AndTheTraceBeforeIt_AndExitsOne()
    {
        // A user invariant from an assembly (this one): at most one successful SET in a run.
        var assembly = typeof(AtMostOneSetInvariant).Assembly.Location;
        var (code, output, _) = CliRunner.Run("explore", Scenario, "--runs", "50", "--invariants", assembly);
        code.ShouldBe(1);
        output.ShouldContain("VIOLATION");
        output.ShouldContain("violated: at most one NOTIFICATION_SET: a second SET");
        var replay = output.Split('\n').Single(static l => l.TrimStart().StartsWith("replay: ", StringComparison.Ordinal)).Trim()["replay: ".Length..];
        replay.ShouldStartWith($"firmament explore {Scenario} --strategy random --personality default --replay 0x");
        output.ShouldContain("trace, the last 30 events up to the violation:");

        // The replay line, run as it is printed (with the same invariants), reaches the same violation.
        var args = replay.Split(' ')[1..];
        var (again, replayed, _) = CliRunner.Run([.. args, "--invariants", assembly]);
        again.ShouldBe(1);
        replayed.ShouldContain("violated at step");
        replayed.ShouldContain("at most one NOTIFICATION_SET: a second SET");
    }

    [Fact]
    public void AScenarioWithoutAnExploreSection_IsRefused()
    {
        var scenario = ExploreTests.Repo("conformance", "notifications", "bind-already-bound-denied.yaml");
        var (code, _, error) = CliRunner.Run("explore", scenario);
        code.ShouldBe(2);
        error.ShouldContain("no explore: section");
    }

    [Fact]
    public void MergingSomethingElse_IsRefusedWithTheFile()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("firmament-explore-").FullName, "junk.json");
        File.WriteAllText(file, "{\"scenario\": 1}");
        var (code, _, error) = CliRunner.Run("explore", "--merge", file);
        code.ShouldBe(2);
        error.ShouldStartWith($"firmament: {file}: not a saved exploration result");
    }
}

/// <summary>A user invariant loaded with --invariants (public, parameterless): fails at the second successful SET.</summary>
public sealed class AtMostOneSetInvariant : global::Firmament.Scenarios.Exploration.IInvariant
{
    public string Name => "at most one NOTIFICATION_SET";

    public void Attach(global::Firmament.Scenarios.Platform platform)
    {
    }

    public string? Check(global::Firmament.Scenarios.Platform platform) =>
        platform.Hypervisor!.CallsByFunction[(int)global::Firmament.Abi.Ffa.FfaFunction.NotificationSet - 0x60] > 1 ? "a second SET" : null;
}
