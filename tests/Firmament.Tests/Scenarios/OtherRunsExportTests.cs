using Firmament.Scenarios;
using Firmament.Tests.Cli;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>The exports of runs other than the plain default demo: preemption and interrupts, no hypervisor, the CLI.</summary>
public class OtherRunsExportTests
{
    [Fact]
    public void Preemption_IsAnArrowDeliveringFfaInterrupt_AndAFlowEachWay()
    {
        var platform = TraceRuns.DefaultWithInterrupts();
        var file = ChromeTraceFile.Parse(TraceExport.ToChromeJson(platform));
        file.Errors.ShouldBeEmpty();

        // sp1's first RX_RELEASE (after reading its mailbox) completes while it owes vm1 a response: it is preempted and
        // vm1's request returns FFA_INTERRUPT. (It releases RX again later, after retrieving shared memory.)
        var release = file.On("sp1 vCPU0").First(static s => s.Ph == "X" && s.Name == "FFA_RX_RELEASE");
        release.Arg("switched_to").ShouldBe("vm1 vCPU0");
        release.Arg("resumed_by").ShouldBe("vm1 vCPU0 FFA_RUN");
        var flows = file.Events.Where(static e => e.Ph == "s").Select(static e => e.Name).ToList();
        flows.ShouldHave("FFA_RX_RELEASE");
        flows.ShouldHave("FFA_RUN");

        var interrupt = file.Events.Single(static e => e.Ph == "i" && e.Cat == "interrupt");
        interrupt.Name.ShouldBe("interrupt 5");
        interrupt.Json.GetProperty("s").GetString().ShouldBe("p");
        interrupt.Arg("vcpu").ShouldBe("sp1 vCPU1");

        var diagram = TraceExport.ToMermaid(platform).Split('\n').Select(static l => l.Trim()).ToList();
        diagram.ShouldHave("sp1-->>vm1: FFA_RX_RELEASE ⇒ FFA_INTERRUPT [vCPU0]");
        diagram.ShouldHave("vm1->>sp1: FFA_RUN(sp1 vCPU0)");
        diagram.ShouldHave("Note over sp1: vCPU1: interrupt 5 pending");
        TraceExport.ToText(platform).ShouldContain("  pCPU0  vm1 vCPU0         return  FFA_INTERRUPT endpoint=0x8001 (SP) vcpu=0x0 interrupt_id=0x0\n");
    }

    [Fact]
    public void KernelAndSpmc_HasNoHypervisorParticipant_AndTheKernelCallsTheSpmc()
    {
        var platform = TraceRuns.KernelAndSpmc();
        platform.Console[^1].Text.ShouldBe("demo client done");
        var file = ChromeTraceFile.Parse(TraceExport.ToChromeJson(platform));
        file.Errors.ShouldBeEmpty();
        file.ThreadNames.Values.ShouldNotContain(static t => t.StartsWith("hypervisor", StringComparison.Ordinal));
        file.ThreadNames.Values.ShouldContain(static t => t == "linux vCPU0");

        var diagram = TraceExport.ToMermaid(platform).Split('\n').Select(static l => l.Trim()).ToList();
        diagram.ShouldNotContain(static l => l.Contains("hypervisor", StringComparison.Ordinal));
        diagram.ShouldHave("participant linux as linux (0x0000)");
        diagram.ShouldHave("linux->>sp1: FFA_MSG_SEND_DIRECT_REQ([0x1, 0x2, 0x3, 0x4, 0x5])");
        diagram.ShouldHave("linux->>SPMC: FFA_RXTX_MAP → SUCCESS");
        diagram.ShouldHave("SPMC--xlinux: FFA_ERROR ABORTED");
    }

    [Fact]
    public void RunCommand_WritesTheTraceAndTheDiagram()
    {
        var directory = Directory.CreateTempSubdirectory("firmament-trace-");
        try
        {
            var json = Path.Combine(directory.FullName, "t.json");
            var markdown = Path.Combine(directory.FullName, "t.md");
            var (code, output, error) = CliRunner.Run("run", "--trace", json, "--mermaid", markdown);
            code.ShouldBe(0);
            error.ShouldBeEmpty();
            output.ShouldContain($"trace: {json}");
            ChromeTraceFile.Parse(File.ReadAllText(json)).Errors.ShouldBeEmpty();
            File.ReadAllText(markdown).ShouldBe(TraceExport.ToMermaid(TraceRuns.Default()));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
