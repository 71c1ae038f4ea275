using Firmament.Scenarios;
using Firmament.Scenarios.Scripts;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>The scenario runner's own features: folder walking, scripted boots, and who a call step's vCPU is.</summary>
public class ScenarioRunnerTests
{
    private const string Platform = """
        platform:
          roles: hypervisor+spmc
          pcpus: 1
          partitions:
            - { name: vm1, kind: vm, id: 1, direct-request-send: true }
            - { name: sp1, kind: sp, id: 0x8001, direct-request-receive: true }
        """;

    private static Scenario Parse(string body) => ScenarioFile.Parse("name: t\n" + Platform + "\n" + body, Path.Combine(Path.GetTempPath(), "t.yaml"));

    [Fact]
    public void Files_InAFolder_SkipThePlatformFilesUnderItsPlatformsFolders_ButNotAFileNamedOnItsOwn()
    {
        var root = Directory.CreateTempSubdirectory("firmament-scenarios-").FullName;
        try
        {
            foreach (var file in new[] { "a/x.yaml", "platforms/p.yaml", "a/platforms/q.yaml", "b.yaml" })
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, file))!);
                File.WriteAllText(Path.Combine(root, file), "name: x\n");
            }

            ScenarioReports.Files([root]).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ShouldBe(["a/x.yaml", "b.yaml"]);
            ScenarioReports.Files([Path.Combine(root, "platforms/p.yaml")]).Count.ShouldBe(1);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ScriptedBoot_StartsTheSpHeldInItsBoot_AndItsMsgWaitEndsIt()
    {
        var scenario = Parse("""
            scripted: [vm1, sp1]
            scripted-boot: [sp1]
            steps:
              - check:
                  vcpu-state: { sp1: held }
              - call: FFA_YIELD
                by: sp1
                expect: DENIED
              - call: FFA_MSG_WAIT
                by: sp1
                expect: pending
              - check:
                  vcpu-state: { sp1: waiting }
              - call: FFA_MSG_SEND_DIRECT_REQ_64
                by: vm1
                receiver: sp1
                expect: pending
              - await: sp1
                expect: { abi: FFA_MSG_SEND_DIRECT_REQ_64, sender: vm1 }
            """);
        scenario.ScriptedBoot.ShouldBe(["sp1"]);
        var result = ScenarioRunner.Run(scenario, scenario.Personalities[0]);
        result.Outcome.ShouldBe(ScenarioOutcome.Passed, result.Message);
    }

    [Theory]
    [InlineData("scripted: [vm1]\nscripted-boot: [sp1]\n", "scripted-boot: 'sp1' must be a scripted SP")]
    [InlineData("scripted: [vm1, sp1]\nscripted-boot: [vm1]\n", "scripted-boot: 'vm1' must be a scripted SP")]
    public void ScriptedBoot_NamesOnlyScriptedSps(string head, string message)
    {
        var e = Should.Throw<PlatformFileException>(() => Parse(head + "steps:\n  - check:\n      aborted: { sp1: false }\n"));
        e.Message.ShouldContain(message);
    }

    [Fact]
    public void ACallWithAVcpuField_PutsVcpuInTheFrame_AndTheCallersVcpuIsWrittenNameDotIndex()
    {
        var scenario = Parse("""
            scripted: [vm1]
            steps:
              - call: FFA_RUN
                by: vm1.0
                endpoint: sp1
                vcpu: 3
              - call: FFA_ID_GET
                by: vm1
                vcpu: 0
            """);
        var run = (CallStep)scenario.Steps[0];
        run.By.ShouldBe("vm1");
        run.Vcpu.ShouldBe((ushort)0);
        run.Frame.W(1).ShouldBe(0x8001_0003u);
        ((CallStep)scenario.Steps[1]).Vcpu.ShouldBe((ushort)0);
    }

    [Theory]
    [InlineData("  - call: FFA_ID_GET\n    by: vm1.1\n", "vm1 has no vCPU 1")]
    [InlineData("  - call: FFA_ID_GET\n    by: vm1.0\n    vcpu: 0\n", "the vCPU is given twice")]
    [InlineData("  - call: FFA_ID_GET\n    by: vm1.x\n", "write a vCPU as name.index")]
    public void TheCallersVcpu_IsCheckedWhicheverWayItIsWritten(string step, string message)
    {
        var e = Should.Throw<PlatformFileException>(() => Parse("scripted: [vm1]\nsteps:\n" + step));
        e.Message.ShouldContain(message);
    }

    [Theory]
    [InlineData("explore:\n  power: [sp1]\n", 2, "power: 'sp1' is not a VM under a hypervisor")]
    [InlineData("explore:\n  start-offline: [nobody]\n", 2, "start-offline: no partition is called 'nobody'")]
    [InlineData("explore:\n  rate: 0\n", 2, "rate")]
    [InlineData("explore:\n  sometimes: true\n", 2, "sometimes")]
    public void TheExploreSection_IsCheckedWithFileAndLine(string body, int line, string message)
    {
        var e = Should.Throw<PlatformFileException>(() => Parse(body));
        e.Line.ShouldBe(line + 7); // the body starts on line 8, after the name and the six platform lines
        e.Message.ShouldContain(message);
    }

    [Fact]
    public void AnExploreScenario_NeedsNoSteps_ButFirmamentTestSaysItHasNone()
    {
        var scenario = Parse("explore:\n  delay-interrupts: true\n");
        scenario.Steps.ShouldBeEmpty();
        scenario.Explore.ShouldNotBeNull().DelayInterrupts.ShouldBeTrue();

        var result = ScenarioRunner.Run(scenario, scenario.Personalities[0]);
        result.Outcome.ShouldBe(ScenarioOutcome.Error);
        result.Message.ShouldContain("firmament explore");
    }

    [Fact]
    public void PowerAndTakeSteps_RefuseWhatTheyCannotDo_WithTheReason()
    {
        // A power step on an SP, and taking an interrupt that is not pending, are errors at their lines.
        var power = ScenarioRunner.Run(Parse("scripted: [vm1]\nsteps:\n  - power: { partition: sp1, online: false }\n"), global::Firmament.Ffa.Personality.Default);
        power.Outcome.ShouldBe(ScenarioOutcome.Error);
        power.Message.ShouldContain("power steps take a VM's vCPU offline or online");

        var take = ScenarioRunner.Run(Parse("scripted: [vm1]\nsteps:\n  - interrupt: { take: 5, partition: vm1 }\n"), global::Firmament.Ffa.Personality.Default);
        take.Outcome.ShouldBe(ScenarioOutcome.Failed);
        take.Message.ShouldContain("interrupt 5 is not pending on vm1.0");
    }
}
