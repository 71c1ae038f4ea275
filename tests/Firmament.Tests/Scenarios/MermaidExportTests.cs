using System.Text.RegularExpressions;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

public partial class MermaidExportTests
{
    private static readonly Lazy<string> DefaultDiagram = new(static () => TraceExport.ToMermaid(TraceRuns.Default()));

    private static string Diagram => DefaultDiagram.Value;

    private static IEnumerable<string> Body => Diagram.Split('\n')
        .SkipWhile(static l => l != "```mermaid").Skip(2).TakeWhile(static l => l != "```").Select(static l => l.Trim());

    [Fact]
    public void Mermaid_IsOneSequenceDiagramInMarkdown()
    {
        Diagram.ShouldStartWith("# Sequence diagram: platform 'default' (built-in), seed 0");
        Regex.Count(Diagram, "```mermaid\nsequenceDiagram\n").ShouldBe(1);
        Diagram.ShouldEndWith("```\n");
    }

    [Fact]
    public void Mermaid_DeclaresAParticipantPerPartition_PlusTheHypervisorAndTheSpmc_ByWorld()
    {
        var lines = Body.ToList();
        lines.Take(13).ShouldBe(
        [
            "box rgb(232, 240, 255) Normal world",
            "participant vm1 as vm1 (0x0001)",
            "participant vm2 as vm2 (0x0002)",
            "participant host as host (0x0003)",
            "participant guest80 as guest80 (0x0080)",
            "participant hypervisor as hypervisor",
            "end",
            "box rgb(255, 236, 228) Secure world",
            "participant SPMC as SPMC",
            "participant sp1 as sp1 (0x8001)",
            "participant sp2 as sp2 (0x8002)",
            "end",
            "Note over sp1: vCPU1: starts",
        ]);
    }

    [Fact]
    public void Mermaid_EveryArrowAndNote_NamesDeclaredParticipants()
    {
        var declared = Body.Select(static l => ParticipantLine().Match(l)).Where(static m => m.Success).Select(static m => m.Groups["id"].Value).ToHashSet(StringComparer.Ordinal);
        foreach (var line in Body.Where(static l => !l.StartsWith("participant", StringComparison.Ordinal) && l is not "end" && !l.StartsWith("box", StringComparison.Ordinal)))
        {
            if (NoteLine().Match(line) is { Success: true } note)
            {
                declared.ShouldHave(note.Groups["id"].Value);
                continue;
            }

            var arrow = ArrowLine().Match(line);
            arrow.Success.ShouldBeTrue($"not an arrow or a note: {line}");
            declared.ShouldHave(arrow.Groups["from"].Value);
            declared.ShouldHave(arrow.Groups["to"].Value);
            line.ShouldNotContain(";"); // a statement separator would cut the message
        }
    }

    [Fact]
    public void Mermaid_DrawsSwitchingCallsBetweenPartitions()
    {
        var lines = Body.ToList();
        lines.ShouldHave("vm1->>sp1: FFA_MSG_SEND_DIRECT_REQ([0x1, 0x2, 0x3, 0x4, 0x5])");
        lines.ShouldHave("sp1-->>vm1: FFA_MSG_SEND_DIRECT_RESP([0x1, 0x2, 0x3, 0x4, 0x5]) [vCPU0]");
        lines.ShouldHave("sp1-->>vm1: FFA_YIELD [vCPU0]");
        lines.ShouldHave("vm1->>sp1: FFA_RUN(sp1 vCPU0)");
        lines.ShouldHave("vm1->>vm2: FFA_MSG_SEND_DIRECT_REQ([0x424E4421, 0x1, ...])");
        lines.ShouldHave("vm2-->>vm1: FFA_MSG_SEND_DIRECT_RESP([0x424E4421, ...])");

        // A VM-to-VM notification: the NPI wakes vm2's MSG_WAIT with FFA_INTERRUPT.
        lines.ShouldHave("Note over vm2: interrupt 5 pending");
        lines.ShouldHave("hypervisor-->>vm2: FFA_INTERRUPT");

        // The hypervisor's own VM-created messages, recovered from what the SP received and where it answered.
        lines.ShouldHave("hypervisor->>sp1: FFA_MSG_SEND_DIRECT_REQ(VM created, [0x1, 0x0, 0x1, ...])");
        lines.ShouldHave("sp1-->>hypervisor: FFA_MSG_SEND_DIRECT_RESP(VM created response, [0...]) [vCPU0]");

        // Calls that land at a partition manager, and collapsed discovery.
        lines.ShouldHave("vm1->>hypervisor: FFA_RXTX_MAP → SUCCESS");
        lines.ShouldHave("vm1->>hypervisor: FFA_MSG_SEND2 → SUCCESS");
        lines.ShouldHave("vm2->>hypervisor: FFA_MSG_WAIT");
        lines.ShouldHave("Note over vm1: FFA_VERSION, FFA_ID_GET");
        lines.ShouldNotContain(static l => l.Contains("FFA_ID_GET", StringComparison.Ordinal) && l.Contains("->>", StringComparison.Ordinal));
    }

    [Fact]
    public void Mermaid_MarksErrorsAndFaults()
    {
        var lines = Body.ToList();
        lines.ShouldHave("vm1-xhypervisor: FFA_RX_RELEASE → ERROR DENIED");
        lines.ShouldHave("vm1-xhypervisor: FFA_MSG_SEND_DIRECT_REQ([0...]) to vm1 → ERROR INVALID_PARAMETERS");
        lines.ShouldHave("hypervisor-xSPMC: FFA_RX_RELEASE → ERROR DENIED"); // the misuse, asked of the SPMC in case it filled the buffer
        lines.ShouldHave("Note over sp2: FAULT sp2: managed exception InvalidOperationException: the faulty partition was asked to crash");
        lines.ShouldHave("SPMC--xvm1: FFA_ERROR ABORTED");
        lines.ShouldHave("vm1-xhypervisor: FFA_MSG_SEND_DIRECT_REQ([0...]) to sp2 → ERROR ABORTED");

        // The fault comes after the request that caused it and before the ABORTED answer.
        var fault = lines.FindIndex(static l => l.StartsWith("Note over sp2: FAULT", StringComparison.Ordinal));
        lines[fault - 1].ShouldBe("vm1->>sp2: FFA_MSG_SEND_DIRECT_REQ([0xDEAD, ...])");
        lines[fault + 1].ShouldBe("SPMC--xvm1: FFA_ERROR ABORTED");
    }

    [Fact]
    public void Mermaid_Text_NeverBreaksTheDiagram()
    {
        Firmament.Scenarios.Traces.MermaidDiagram.Text("a;b#c<d>e\nf").ShouldBe("a,b c(d)e f");
        Firmament.Scenarios.Traces.MermaidDiagram.Id("end").ShouldBe("p_end");
        Firmament.Scenarios.Traces.MermaidDiagram.Id("my-vm 2").ShouldBe("my_vm_2");
        Firmament.Scenarios.Traces.MermaidDiagram.Id("2nd").ShouldBe("p_2nd");
    }

    [GeneratedRegex(@"^participant (?<id>\w+) as ", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ParticipantLine();

    [GeneratedRegex(@"^Note over (?<id>\w+): ", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex NoteLine();

    [GeneratedRegex(@"^(?<from>\w+)(->>|-->>|-x|--x)(?<to>\w+): \S", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ArrowLine();
}
