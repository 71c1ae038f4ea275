using Shouldly;
using Xunit;

namespace Firmament.Tests.Cli;

/// <summary>
/// Golden output of <c>firmament decode</c>. Each file under Golden/decode starts with one line
/// <c>$ firmament ARGS…</c> (<c>{dir}</c> stands for the folder of the golden files) and then holds the exact
/// expected output; a non-zero exit appends <c>[exit N]</c> and what went to standard error. To accept new output after a deliberate
/// change, run the tests with FIRMAMENT_UPDATE_GOLDEN=1 and review the diff.
/// </summary>
public class DecodeGoldenTests
{
    private const string Prompt = "$ firmament ";

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
    public void Decode_PrintsExactlyTheGoldenOutput(string file)
    {
        var path = Path.Combine(GoldenDirectory(), file);
        var lines = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        var firstNewline = lines.IndexOf('\n', StringComparison.Ordinal);
        var header = lines[..firstNewline];
        header.ShouldStartWith(Prompt);
        var args = header[Prompt.Length..]
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Replace("{dir}", GoldenDirectory(), StringComparison.Ordinal))
            .ToArray();

        var (code, output, error) = CliRunner.Run(args);
        var actual = (output + (code == 0 ? string.Empty : $"[exit {code}] {error}"))
            .Replace(GoldenDirectory(), "{dir}", StringComparison.Ordinal);

        if (Environment.GetEnvironmentVariable("FIRMAMENT_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(SourcePath(file), header + "\n" + actual);
            return;
        }

        actual.ShouldBe(lines[(firstNewline + 1)..]);
    }

    private static string GoldenDirectory() => Path.Combine(AppContext.BaseDirectory, "Golden", "decode");

    private static string SourcePath(string file, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "Golden", "decode", file);
}
