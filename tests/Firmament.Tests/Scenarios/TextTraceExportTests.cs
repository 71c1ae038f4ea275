using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>
/// The text trace of the default demo, and golden files for it and for the Mermaid diagram (Golden/trace). To accept
/// new output after a deliberate change, run the tests with FIRMAMENT_UPDATE_GOLDEN=1 and review the diff.
/// </summary>
public class TextTraceExportTests
{
    private static readonly Lazy<Firmament.Scenarios.Platform> DefaultRun = new(static () => TraceRuns.Default());

    [Fact]
    public void Text_HasOneLinePerEvent_AfterTwoHeaderLines()
    {
        var platform = DefaultRun.Value;
        var lines = TraceExport.ToText(platform).Split('\n');
        lines[^1].ShouldBeEmpty();
        lines.Length.ShouldBe(2 + platform.Trace.Events.Count + 1);
        lines[0].ShouldBe($"# Firmament trace: platform 'default' (built-in), 2 pCPUs, seed 0, Fair schedule, {platform.Trace.Events.Count} events");
    }

    [Fact]
    public void Text_DecodesCallsAndReturns_AndReadsASuccessAsTheAnswerToItsCall()
    {
        var text = TraceExport.ToText(DefaultRun.Value);
        text.ShouldContain("  pCPU0  vm1 vCPU0         call    FFA_MSG_SEND_DIRECT_REQ sender=0x0001 (VM) receiver=0x8001 (SP) flags=partition message framework=no payload=[0x1, 0x2, 0x3, 0x4, 0x5]\n");
        text.ShouldContain("  pCPU0  vm1 vCPU0         return  FFA_SUCCESS id=0x0001 (VM)\n");
        text.ShouldContain("  pCPU0  vm1 vCPU0         return  FFA_ERROR error=DENIED\n");
        text.ShouldContain("  pCPU0  sp1 vCPU0         switch  from vm1 vCPU0 (world switch)\n");
        text.ShouldContain("  pCPU0  sp2 vCPU0         FAULT   sp2: managed exception InvalidOperationException: the faulty partition was asked to crash\n");
        text.ShouldContain("  pCPU0  vm1 vCPU0         log     demo client done\n");
    }

    [Theory]
    [InlineData("default-seed0.txt")]
    [InlineData("default-seed0.md")]
    public void Export_OfTheDefaultDemo_IsExactlyTheGoldenFile(string file)
    {
        var actual = file.EndsWith(".md", StringComparison.Ordinal) ? TraceExport.ToMermaid(DefaultRun.Value) : TraceExport.ToText(DefaultRun.Value);
        if (Environment.GetEnvironmentVariable("FIRMAMENT_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(SourcePath(file), actual);
            return;
        }

        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "trace", file)).Replace("\r\n", "\n", StringComparison.Ordinal);
        actual.ShouldBe(expected);
    }

    private static string SourcePath(string file, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "Golden", "trace", file);
}
