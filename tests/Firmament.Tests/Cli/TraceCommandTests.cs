using Shouldly;
using Xunit;

namespace Firmament.Tests.Cli;

/// <summary>
/// <c>firmament trace</c> over the default demo's text trace (written once, next to the test binaries, by <c>firmament run --trace-text</c>). Each file
/// under Golden/trace-command starts with one line <c>$ firmament ARGS…</c> (<c>{trace}</c> stands for that trace file)
/// and then holds the exact expected output. To accept new output after a deliberate change, run the tests with
/// FIRMAMENT_UPDATE_GOLDEN=1 and review the diff.
/// </summary>
public class TraceCommandTests
{
    private const string Prompt = "$ firmament ";

    private static readonly Lazy<string> DemoTrace = new(static () =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "trace-command-default.trace");
        var (code, output, error) = CliRunner.Run("run", "--trace-text", path);
        code.ShouldBe(0, error);
        output.ShouldContain($"text trace: {path}");
        return path;
    });

    /// <summary>The demo trace's event count, as its header says (the demo grows; the counts below follow it).</summary>
    private static int Total => int.Parse(File.ReadLines(DemoTrace.Value).First().Split(", ")[^1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(GoldenDirectory(), "*.golden").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Trace_OfTheDefaultDemo_PrintsExactlyTheGoldenOutput(string file)
    {
        var text = File.ReadAllText(Path.Combine(GoldenDirectory(), file)).Replace("\r\n", "\n", StringComparison.Ordinal);
        var firstNewline = text.IndexOf('\n', StringComparison.Ordinal);
        var header = text[..firstNewline];
        header.ShouldStartWith(Prompt);
        var args = header[Prompt.Length..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(static a => a.Replace("{trace}", DemoTrace.Value, StringComparison.Ordinal))
            .ToArray();
        var (code, output, error) = CliRunner.Run(args);
        var actual = output + (code == 0 ? string.Empty : $"[exit {code}] {error}");
        if (Environment.GetEnvironmentVariable("FIRMAMENT_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(SourcePath(file), header + "\n" + actual);
            return;
        }

        actual.ShouldBe(text[(firstNewline + 1)..]);
    }

    [Fact]
    public void RunTraceText_WritesTheTextTrace_ByteForByte()
    {
        var expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "trace", "default-seed0.txt")).Replace("\r\n", "\n", StringComparison.Ordinal);
        File.ReadAllText(DemoTrace.Value).ShouldBe(expected);
    }

    [Fact]
    public void Trace_WithoutFilters_PrintsEveryEvent_AlignedUnderTheColumnHeader()
    {
        var (code, output, _) = CliRunner.Run("trace", DemoTrace.Value);
        code.ShouldBe(0);
        var lines = output.TrimEnd('\n').Split('\n');
        lines[0].ShouldStartWith("# Firmament trace: platform 'default'");
        lines[^1].ShouldBe($"{Total} of {Total} events");
        var kind = lines[1].IndexOf("kind", StringComparison.Ordinal);
        var what = lines[1].IndexOf("what", StringComparison.Ordinal);
        foreach (var line in lines[2..^1])
        {
            line[kind - 2].ShouldBe(' ');
            line[kind - 1].ShouldBe(' ');
            line[kind].ShouldNotBe(' ');
            line[what - 1].ShouldBe(' ');
        }
    }

    [Fact]
    public void Trace_OfAMissingFile_ExitCode2_WithTheFile()
    {
        var (code, output, error) = CliRunner.Run("trace", "/nonexistent/run.trace");
        code.ShouldBe(2);
        output.ShouldBeEmpty();
        error.ShouldBe("firmament: /nonexistent/run.trace: no such file\n", StringCompareShould.IgnoreLineEndings);
    }

    [Fact]
    public void Trace_OfAMalformedFile_ExitCode2_WithTheFileLineAndReason()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "trace-command-cut.trace");
        var lines = File.ReadAllLines(DemoTrace.Value);
        File.WriteAllLines(path, [.. lines.Take(10), lines[10][..27]]);
        var (code, output, error) = CliRunner.Run("trace", path, "--errors");
        code.ShouldBe(2);
        output.ShouldBeEmpty();
        error.ShouldBe($"firmament: {path}:11: event 8 has no vCPU and kind\n", StringCompareShould.IgnoreLineEndings);

        File.WriteAllLines(path, lines.Take(10));
        (code, _, error) = CliRunner.Run("trace", path);
        code.ShouldBe(2);
        error.ShouldBe($"firmament: {path}:10: the header promises {Total} events but the file has 8 (cut short?)\n", StringCompareShould.IgnoreLineEndings);

        File.WriteAllText(path, "{\"traceEvents\": []}\n");
        (code, _, error) = CliRunner.Run("trace", path);
        code.ShouldBe(2);
        error.ShouldStartWith($"firmament: {path}:1: not a Firmament text trace");
    }

    [Theory]
    [InlineData("--kind", "jump", "firmament: --kind 'jump' is not one of call, return, switch, state, irq, log, FAULT")]
    [InlineData("--from", "soon", "firmament: --from 'soon' is not a time in µs (12, 12.5)")]
    [InlineData("--to", "-1", "firmament: --to '-1' is not a time in µs (12, 12.5)")]
    public void Trace_WithABadOption_ExitCode2(string option, string value, string message)
    {
        var (code, output, error) = CliRunner.Run("trace", DemoTrace.Value, option, value);
        code.ShouldBe(2);
        output.ShouldBeEmpty();
        error.TrimEnd().ShouldBe(message);
    }

    [Fact]
    public void Trace_FromAfterTo_ExitCode2()
    {
        var (code, _, error) = CliRunner.Run("trace", DemoTrace.Value, "--from", "5", "--to", "4.999");
        code.ShouldBe(2);
        error.TrimEnd().ShouldBe("firmament: --from 5 is after --to 4.999");
    }

    [Fact]
    public void Trace_KindIsCaseInsensitive_AndRepeatedOptionsWiden()
    {
        var (_, faults, _) = CliRunner.Run("trace", DemoTrace.Value, "--kind", "fault");
        faults.ShouldEndWith($"1 of {Total} events\n");
        var (_, irqs, _) = CliRunner.Run("trace", DemoTrace.Value, "--kind", "IRQ");
        var interrupts = int.Parse(irqs.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        interrupts.ShouldBeGreaterThan(0); // the demo's notifications: SRIs and NPIs
        var (_, both, _) = CliRunner.Run("trace", DemoTrace.Value, "--kind", "fault", "--kind", "irq");
        both.ShouldEndWith($"{1 + interrupts} of {Total} events\n");
        var (_, calls, _) = CliRunner.Run("trace", DemoTrace.Value, "--kind", "call", "--endpoint", "vm1", "--endpoint", "vm2");
        var (_, vm1, _) = CliRunner.Run("trace", DemoTrace.Value, "--kind", "call", "--endpoint", "vm1");
        var (_, vm2, _) = CliRunner.Run("trace", DemoTrace.Value, "--kind", "call", "--endpoint", "vm2");
        Count(calls).ShouldBe(Count(vm1) + Count(vm2));
    }

    private static int Count(string output) => int.Parse(output.TrimEnd('\n').Split('\n')[^1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    private static string GoldenDirectory() => Path.Combine(AppContext.BaseDirectory, "Golden", "trace-command");

    private static string SourcePath(string file, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "Golden", "trace-command", file);
}
