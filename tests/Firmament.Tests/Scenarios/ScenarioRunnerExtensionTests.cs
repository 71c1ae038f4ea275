using Firmament.Abi.Ffa;
using Firmament.Ffa;
using Firmament.Scenarios.Scripts;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>The scenario runner's version checks, function-name field values and folder search.</summary>
public class ScenarioRunnerExtensionTests
{
    private const string Platform = """
        platform:
          roles: hypervisor+spmc
          pcpus: 1
          partitions:
            - { name: vm1, kind: vm, id: 1 }
            - { name: sp1, kind: sp, id: 0x8001, program: echo, direct-request-receive: true }
        scripted: [vm1]
        """;

    private static ScenarioResult Run(string steps)
    {
        var scenario = ScenarioFile.Parse($"name: t\n{Platform}\nsteps:\n{steps}", "/tmp/t.yaml");
        return ScenarioRunner.Run(scenario, Personality.Default);
    }

    [Fact]
    public void VersionChecks_PassOnTheNegotiatedVersionAndTheLock()
    {
        var result = Run("""
              - { call: FFA_VERSION, by: vm1, version: 1.1, expect: { version: 1.2 } }
              - check: { version: { vm1: 1.1 }, version-locked: { vm1: false } }
              - { call: FFA_ID_GET, by: vm1, expect: success }
              - check: { version: { vm1: 1.1 }, version-locked: { vm1: true } }
            """);
        result.Outcome.ShouldBe(ScenarioOutcome.Passed, result.Message);
    }

    [Fact]
    public void VersionCheck_FailsWithTheVersionFound()
    {
        var result = Run("""
              - { call: FFA_VERSION, by: vm1, version: 1.0, expect: { version: 1.2 } }
              - check: { version: { vm1: 1.1 } }
            """);
        result.Outcome.ShouldBe(ScenarioOutcome.Failed);
        result.Message.ShouldBe("vm1's version is 1.0, expected 1.1");
    }

    [Fact]
    public void VersionLockedCheck_FailsWhenTheVersionIsStillOpen()
    {
        var result = Run("""
              - { call: FFA_VERSION, by: vm1, version: 1.2 }
              - check: { version-locked: { vm1: true } }
            """);
        result.Outcome.ShouldBe(ScenarioOutcome.Failed);
        result.Message.ShouldBe("vm1's version is not locked");
    }

    [Fact]
    public void AFunctionNameWithoutSuffix_IsTheAbisOwnConvention()
    {
        var scenario = ScenarioFile.Parse($$"""
            name: t
            {{Platform}}
            steps:
              - { call: FFA_FEATURES, by: vm1, function_id: FFA_PARTITION_INFO_GET_REGS }
              - { call: FFA_FEATURES, by: vm1, function_id: FFA_MSG_SEND_DIRECT_REQ2 }
              - { call: FFA_FEATURES, by: vm1, function_id: FFA_ID_GET }
              - { call: FFA_FEATURES, by: vm1, function_id: FFA_RXTX_MAP_64 }
            """, "/tmp/t.yaml");
        var w1 = scenario.Steps.Cast<CallStep>().Select(static s => s.Frame.W(1)).ToArray();
        w1.ShouldBe([0xC400008Bu, 0xC400008Du, 0x84000069u, 0xC4000066u]);
    }

    [Fact]
    public void Files_InAFolder_SkipThePlatformsFolder()
    {
        using var directory = new TempDirectory();
        var scenario = directory.Write("group/a.yaml", "x");
        directory.Write("platforms/p.yaml", "x");
        directory.Write("group/platforms/q.yaml", "x");
        ScenarioReports.Files([directory.Path]).ShouldBe([scenario]);
    }

    [Fact]
    public void Files_GivenByName_AreKeptEvenInAPlatformsFolder()
    {
        using var directory = new TempDirectory();
        var file = directory.Write("platforms/p.yaml", "x");
        ScenarioReports.Files([file]).ShouldBe([file]);
    }
}
