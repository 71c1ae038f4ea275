using Firmament.Machine;
using Firmament.Scenarios;
using Firmament.Scenarios.Traces;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>Reading back the text trace: every event of a real run, the pairing of calls and returns, and every malformed line.</summary>
public class TraceTextReaderTests
{

    private static readonly Lazy<Platform> DefaultRun = new(static () => TraceRuns.Default());

    private static TraceTextFile Parse(string text)
    {
        TraceTextReader.TryParse(text, "t.trace", out var trace, out var error).ShouldBeTrue(error?.ToString());
        return trace;
    }

    private static TraceTextError Fail(string text)
    {
        TraceTextReader.TryParse(text, "t.trace", out _, out var error).ShouldBeFalse();
        return error!;
    }

    private static string WithHeader(int events, params string[] lines) =>
        $"# Firmament trace: platform 't' (built-in), 1 pCPUs, seed 0, Fair schedule, {events} events\n"
        + "#  seq     time µs  pCPU   vCPU              kind    what\n"
        + string.Concat(lines.Select(static l => l + "\n"));

    [Fact]
    public void TheDefaultDemo_ReadsBackEveryEvent_WithItsTimePcpuVcpuAndKind()
    {
        var platform = DefaultRun.Value;
        var trace = Parse(TraceExport.ToText(platform));
        var recorded = platform.Trace.Events;
        trace.DeclaredEvents.ShouldBe(recorded.Count);
        trace.Events.Count.ShouldBe(recorded.Count);
        for (var i = 0; i < recorded.Count; i++)
        {
            var e = trace.Events[i];
            (e.Sequence, e.Time, e.Pcpu, e.Line).ShouldBe((recorded[i].Sequence, recorded[i].Time, recorded[i].Pcpu, i + 3));
            TraceTextReader.Name(e.Kind).ShouldBe(recorded[i].Kind switch
            {
                TraceKind.Call => "call",
                TraceKind.Return => "return",
                TraceKind.Switch => "switch",
                TraceKind.State => "state",
                TraceKind.Interrupt => "irq",
                TraceKind.Fault => "FAULT",
                _ => "log",
            });
        }

        trace.Header.ShouldStartWith("# Firmament trace: platform 'default'");
        trace.Events.Select(static e => e.Partition).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .ShouldBe(["guest80", "host", "hypervisor", "sp1", "sp2", "vm1", "vm2"]);
    }

    [Fact]
    public void TheDefaultDemo_KeepsWhatExactly_EvenALogLineThatStartsWithSpaces()
    {
        var text = TraceExport.ToText(DefaultRun.Value);
        var trace = Parse(text);
        var lines = text.Split('\n');
        foreach (var e in trace.Events)
        {
            lines[e.Line - 1].ShouldEndWith(e.What);
            lines[e.Line - 1].ShouldContain(e.Vcpu + "  ");
        }

        trace.Events.ShouldContain(static e => e.Kind == TraceTextKind.Log && e.What.StartsWith("  0x8001 (SP) ", StringComparison.Ordinal));
        trace.Events.ShouldContain(static e => e.Kind == TraceTextKind.State && e.What == "Waiting" && e.Vcpu == "sp1 vCPU1");
        trace.Events.ShouldContain(static e => e.Kind == TraceTextKind.Switch && e.What == "from vm1 vCPU0 (world switch)");
    }

    [Fact]
    public void Returns_ArePairedWithTheirVcpusOpenCall_AndAnErrorMarksBoth()
    {
        var trace = Parse(TraceExport.ToText(DefaultRun.Value));
        var selfRequest = trace.Events.Single(static e => e.Kind == TraceTextKind.Call && e.What.Contains("receiver=0x0001 (VM)", StringComparison.Ordinal)
                                                          && e.Vcpu == "vm1 vCPU0" && e.What.StartsWith("FFA_MSG_SEND_DIRECT_REQ ", StringComparison.Ordinal));
        selfRequest.CarriesError.ShouldBeTrue();
        var answer = trace.Events.First(e => e.Sequence > selfRequest.Sequence && e.Vcpu == selfRequest.Vcpu && e.Kind == TraceTextKind.Return);
        (answer.Abi, answer.CallAbi, answer.CarriesError).ShouldBe(("FFA_ERROR", "FFA_MSG_SEND_DIRECT_REQ", true));

        var version = trace.Events.First(static e => e.Kind == TraceTextKind.Return && e.Abi == "FFA_VERSION");
        (version.CallAbi, version.CarriesError).ShouldBe(("FFA_VERSION", false));
        trace.Events.Where(static e => e.Kind is not (TraceTextKind.Call or TraceTextKind.Return)).ShouldAllBe(static e => e.Abi == null && !e.CarriesError);
    }

    [Fact]
    public void AVcpuNameWiderThanTheColumnHeader_IsReadWhole()
    {
        var defaults = DefaultPlatform.Create();
        var renamed = defaults with
        {
            Partitions = [.. defaults.Partitions.Select(static p => p.Name == "vm2" ? p with { Name = "a partition with a long name" } : p)],
        };
        var platform = Platform.Build(renamed, new TraceRecorder { Enabled = true });
        platform.Boot();
        platform.Run();
        var trace = Parse(TraceExport.ToText(platform));
        trace.Events.ShouldContain(static e => e.Vcpu == "a partition with a long name vCPU0" && e.Partition == "a partition with a long name");
        trace.Events.Count.ShouldBe(platform.Trace.Events.Count);
    }

    [Fact]
    public void WindowsLineEnds_BlankLinesAndComments_AreAccepted_AndAHeaderWithoutACountIsNotChecked()
    {
        var text = "# Firmament trace: made by hand\r\n\r\n# a comment\r\n     0       0.000  -       vm1 vCPU0         log     hello\r\n"
            + "     5       1.250  pCPU3   vm1 vCPU0         state   Ready\r\n\r\n";
        var trace = Parse(text);
        trace.DeclaredEvents.ShouldBeNull();
        trace.Events.Select(static e => (e.Sequence, e.Time, e.Pcpu, e.Vcpu, e.Kind, e.What))
            .ShouldBe([(0L, 0UL, -1, "vm1 vCPU0", TraceTextKind.Log, "hello"), (5L, 1250UL, 3, "vm1 vCPU0", TraceTextKind.State, "Ready")]);
    }

    [Fact]
    public void AnEmptyLogLine_HasEmptyText()
    {
        var trace = Parse(WithHeader(2, "     0       0.000  pCPU0  vm1 vCPU0         log     ", "     1       0.000  pCPU0  vm1 vCPU0         log"));
        trace.Events.ShouldAllBe(static e => e.What.Length == 0 && e.Kind == TraceTextKind.Log);
    }

    public static TheoryData<string, int, string> Malformed() => new()
    {
        { string.Empty, 1, "empty file" },
        { "\n\n", 1, "empty file" },
        { "seq time pcpu\n", 1, "not a Firmament text trace: the first line should start with '# Firmament trace:'" },
        { WithHeader(1, "     x       0.000  pCPU0  vm1 vCPU0         log     hi"), 3, "expected an event's sequence number, found 'x'" },
        { WithHeader(1, "     0       0.05  pCPU0  vm1 vCPU0         log     hi"), 3, "event 0: expected a time in µs with three decimals (12.345), found '0.05'" },
        { WithHeader(1, "     0"), 3, "event 0 has no time" },
        { WithHeader(1, "     0       0.000"), 3, "event 0 has no pCPU" },
        { WithHeader(1, "     0       0.000  cpu0  vm1 vCPU0         log     hi"), 3, "event 0: expected a pCPU (pCPU0, pCPU1, … or -), found 'cpu0'" },
        { WithHeader(1, "     0       0.000  pCPU0"), 3, "event 0 has no vCPU and kind" },
        { WithHeader(1, "     0       0.000  pCPU0  vm1 vCPU0         jump    hi"), 3, "event 0: expected a vCPU name, two spaces and a kind (call, return, switch, state, irq, log, FAULT) in 'vm1 vCPU0         jump    hi'" },
        { WithHeader(1, "     0       0.000  pCPU0  vm1 vCPU0 log hi"), 3, "event 0: expected a vCPU name, two spaces and a kind" },
        { WithHeader(2, "     1       0.000  pCPU0  vm1 vCPU0         log     a", "     1       0.000  pCPU0  vm1 vCPU0         log     b"), 4, "event 1 comes after event 1: the sequence numbers must increase" },
        { WithHeader(3, "     0       0.000  pCPU0  vm1 vCPU0         log     a", "     1       0.000  pCPU0  vm1 vCPU0         log     b"), 4, "the header promises 3 events but the file has 2 (cut short?)" },
        { WithHeader(1, "     0       0.000  pCPU0  vm1 vCPU0         log     a", "     1       0.000  pCPU0  vm1 vCPU0         log     b"), 4, "the header promises 1 events but the file has 2" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void AMalformedTrace_IsRefusedAtItsLine_WithTheReason(string text, int line, string reason)
    {
        var error = Fail(text);
        (error.File, error.Line).ShouldBe(("t.trace", line));
        error.Reason.ShouldStartWith(reason);
        error.ToString().ShouldBe($"t.trace:{line}: {error.Reason}");
    }

    [Fact]
    public void AMissingFile_IsAnError_NotAnException()
    {
        TraceTextReader.TryRead("/nonexistent/x.trace", out _, out var error).ShouldBeFalse();
        error!.ToString().ShouldBe("/nonexistent/x.trace: no such file");
    }

    [Fact]
    public void TheDefaultDemoTruncatedAnywhere_IsRefusedOrRead_NeverThrows()
    {
        var text = TraceExport.ToText(DefaultRun.Value);
        for (var cut = 0; cut < text.Length; cut += 97)
        {
            if (TraceTextReader.TryParse(text[..cut], "t.trace", out var trace, out var error))
            {
                trace.Events.Count.ShouldBe(trace.DeclaredEvents ?? trace.Events.Count);
            }
            else
            {
                error!.Line.ShouldBeGreaterThan(0);
            }
        }
    }

    [Theory]
    [InlineData("FFA_MSG_WAIT", "FFA_MSG_WAIT")]
    [InlineData("msg_wait", "FFA_MSG_WAIT")]
    [InlineData("FFA_RXTX_MAP_64", "FFA_RXTX_MAP")]
    [InlineData("gh_msgq_send", "GH_MSGQ_SEND")]
    public void CanonicalAbi_IsTheNameTheTraceUses(string typed, string canonical) =>
        TraceTextReader.CanonicalAbi(typed).ShouldBe(canonical);

    [Fact]
    public void TheFilter_NarrowsAcrossCriteria_AndWidensWithinOne()
    {
        var trace = Parse(TraceExport.ToText(DefaultRun.Value));
        int Count(TraceTextFilter f) => trace.Events.Count(f.Matches);

        var vm1 = Count(new TraceTextFilter { Endpoints = ["vm1"] });
        var vm2 = Count(new TraceTextFilter { Endpoints = ["vm2"] });
        Count(new TraceTextFilter { Endpoints = ["vm1", "vm2"] }).ShouldBe(vm1 + vm2);
        Count(new TraceTextFilter { Endpoints = ["vm1 vCPU0"] }).ShouldBe(vm1);
        Count(new TraceTextFilter { Endpoints = ["vm1"], Kinds = [TraceTextKind.Call] })
            .ShouldBe(trace.Events.Count(static e => e.Partition == "vm1" && e.Kind == TraceTextKind.Call));
        Count(new TraceTextFilter { Kinds = [TraceTextKind.Fault] }).ShouldBe(1);
        Count(new TraceTextFilter { Errors = true }).ShouldBe(trace.Events.Count(static e => e.CarriesError) + 1);
        Count(new TraceTextFilter { From = 1_000, To = 2_000 }).ShouldBe(trace.Events.Count(static e => e.Time is >= 1_000 and <= 2_000));
        Count(new TraceTextFilter { Abis = ["FFA_ERROR"] }).ShouldBe(trace.Events.Count(static e => e.Abi == "FFA_ERROR"));
        Count(new TraceTextFilter { Abis = ["rxtx_map_64"] }).ShouldBe(trace.Events.Count(static e => e.CallAbi == "FFA_RXTX_MAP"));

        // By ID: the calls and returns that name the endpoint in a field.
        Count(new TraceTextFilter { Endpoints = ["0x8002"] }).ShouldBe(Count(new TraceTextFilter { Endpoints = ["32770"] }));
        trace.Events.Where(new TraceTextFilter { Endpoints = ["0x8002"] }.Matches)
            .ShouldAllBe(static e => e.What.Contains("=0x8002 (SP)", StringComparison.Ordinal));
        Count(new TraceTextFilter { Endpoints = ["nobody"] }).ShouldBe(0);
    }

    [Fact]
    public void AnEndpointId_AlsoSelectsTheVcpusOfAPartitionTheTraceNamesById()
    {
        var trace = Parse(WithHeader(2, "     0       0.000  pCPU0  0x8003 (SP) vCPU0  state   Ready", "     1       0.000  pCPU0  sp1 vCPU0         state   Ready"));
        trace.Events.Where(new TraceTextFilter { Endpoints = ["0x8003"] }.Matches).Select(static e => e.Sequence).ShouldBe([0L]);
        TraceTextFilter.TryParseEndpointId("0x10000", out _).ShouldBeFalse();
    }
}
