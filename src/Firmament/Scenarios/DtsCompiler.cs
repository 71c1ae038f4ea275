using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Firmament.Scenarios;

/// <summary>What <see cref="DtsCompiler.Compile"/> produced: the blob, and what the tools said without failing.</summary>
/// <param name="Blob">The flattened device tree dtc wrote.</param>
/// <param name="Preprocessed">True when the source went through cpp first.</param>
/// <param name="Warnings">dtc's and cpp's warnings (dtc's interrupts_property is normal for manifests).</param>
/// <param name="Notes">What the compiler did that the user should know (an empty stub for a missing platform_def.h).</param>
/// <param name="Map">Where each node and property was written (file and line), for messages about the compiled tree.</param>
public sealed record CompiledDts(byte[] Blob, bool Preprocessed, IReadOnlyList<string> Warnings, IReadOnlyList<string> Notes, DtsSourceMap Map);

/// <summary>
/// Compiles device tree source to a blob with Debian's <c>dtc</c>, through the C preprocessor first when the source
/// uses <c>#include</c>, <c>#define</c> or <c>#if</c> (as TF-A's platform manifests do), exactly as TF-A's build does:
/// <c>cpp -nostdinc -undef -x assembler-with-cpp -I &lt;the file's directory&gt; [-I include-dirs] FILE | dtc -I dts -O dtb -</c>.
/// cpp's line markers let dtc report errors against the original file and line, and both tools' errors become a
/// <see cref="PlatformFileException"/> with that file and line.
/// One convenience: TF-A manifests start with <c>#include &lt;platform_def.h&gt;</c>, a large platform header chain the
/// manifest rarely uses. When cpp fails only because that header is missing, the file is preprocessed again with an
/// empty stand-in for it, and a warning says so; if dtc then fails (a macro from the header was needed), the error says
/// the stub was used. Any other missing include is an error naming the file and line.
/// Tools run without a shell, with a time limit (<see cref="Timeout"/>) and an output limit.
/// </summary>
public static partial class DtsCompiler
{
    /// <summary>How long cpp or dtc may run (they take milliseconds on a manifest).</summary>
    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(20);

    /// <summary>Largest output accepted from a tool.</summary>
    public const int MaxOutputBytes = 16 << 20;

    /// <summary>The header TF-A manifests include without needing it; an empty stub stands in when it is missing.</summary>
    public const string StubbedHeader = "platform_def.h";

    /// <summary>True when <paramref name="source"/> has a preprocessor directive, so it must go through cpp.</summary>
    public static bool NeedsPreprocessor(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Directive().IsMatch(source);
    }

    /// <summary>Compiles <paramref name="path"/>; <paramref name="includeDirs"/> are extra cpp <c>-I</c> directories.</summary>
    public static CompiledDts Compile(string path, IReadOnlyList<string>? includeDirs = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var source = PlatformLoader.ReadText(path);
        path = AsFileArgument(path);

        var warnings = new List<string>();
        if (!NeedsPreprocessor(source))
        {
            var direct = Run("dtc", ["-I", "dts", "-O", "dtb", path], null, path);
            CollectWarnings(direct.Error, warnings);
            if (direct.ExitCode != 0)
            {
                throw DtcError(direct.Error, path, stubbed: false);
            }

            return new CompiledDts(direct.Output, false, warnings, [], Annotate(["-I", "dts", "-O", "dts", "-T", "-T", path], null, path));
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var includes = new List<string> { directory };
        includes.AddRange(includeDirs ?? []);
        var notes = new List<string>();
        var (preprocessed, stubbed) = Preprocess(path, includes, warnings, notes);
        var dtc = Run("dtc", ["-I", "dts", "-O", "dtb", "-i", directory, "-"], preprocessed, path);
        CollectWarnings(dtc.Error, warnings);
        if (dtc.ExitCode != 0)
        {
            throw DtcError(dtc.Error, path, stubbed);
        }

        return new CompiledDts(dtc.Output, true, warnings, notes, Annotate(["-I", "dts", "-O", "dts", "-T", "-T", "-i", directory, "-"], preprocessed, path));
    }

    /// <summary>dtc's annotated DTS output (each line tagged with its source file and line) read into a map.</summary>
    private static DtsSourceMap Annotate(IReadOnlyList<string> arguments, byte[]? input, string path)
    {
        var annotated = Run("dtc", arguments, input, path);
        return annotated.ExitCode == 0 ? DtsSourceMap.FromAnnotatedDts(Encoding.UTF8.GetString(annotated.Output)) : DtsSourceMap.Empty;
    }

    /// <summary>A path as a tool argument: one that starts with '-' gets "./" so that cpp and dtc never read it as an option.</summary>
    internal static string AsFileArgument(string path) => path.StartsWith('-') ? "./" + path : path;

    private static (byte[] Output, bool Stubbed) Preprocess(string path, List<string> includes, List<string> warnings, List<string> notes)
    {
        var first = Cpp(path, includes);
        if (first.ExitCode == 0)
        {
            CollectWarnings(first.Error, warnings);
            return (first.Output, false);
        }

        var errors = CppErrors(first.Error);
        if (errors.Count == 0 || !errors.TrueForAll(static e => e.Message.StartsWith(StubbedHeader + ":", StringComparison.Ordinal)))
        {
            throw errors.Count > 0
                ? new PlatformFileException(errors[0].File, errors[0].Line, "cpp: " + errors[0].Message)
                : new PlatformFileException(path, 0, "cpp failed: " + FirstLines(first.Error));
        }

        var stubDirectory = Directory.CreateTempSubdirectory("firmament-cpp-stub-");
        try
        {
            File.WriteAllBytes(Path.Combine(stubDirectory.FullName, StubbedHeader), []);
            var second = Cpp(path, [.. includes, stubDirectory.FullName]);
            CollectWarnings(second.Error, warnings);
            if (second.ExitCode != 0)
            {
                var again = CppErrors(second.Error);
                throw again.Count > 0
                    ? new PlatformFileException(again[0].File, again[0].Line, "cpp: " + again[0].Message)
                    : new PlatformFileException(path, 0, "cpp failed: " + FirstLines(second.Error));
            }

            notes.Add($"{errors[0].File}:{errors[0].Line}: <{StubbedHeader}> was not found; an empty stub stood in for it (give its directory in include-dirs to use the real one)");
            return (second.Output, true);
        }
        finally
        {
            try
            {
                stubDirectory.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a leftover empty temporary directory is harmless
            }
            catch (UnauthorizedAccessException)
            {
                // likewise
            }
        }
    }

    private static ToolResult Cpp(string path, IEnumerable<string> includes)
    {
        var arguments = new List<string> { "-nostdinc", "-undef", "-x", "assembler-with-cpp" };
        foreach (var directory in includes)
        {
            arguments.Add("-I");
            arguments.Add(directory);
        }

        arguments.Add(path);
        return Run("cpp", arguments, null, path);
    }

    private static PlatformFileException DtcError(string stderr, string path, bool stubbed)
    {
        var note = stubbed ? $" (note: <{StubbedHeader}> was missing and an empty stub stood in for it; a macro it defines may be what is missing)" : string.Empty;
        foreach (var line in Lines(stderr))
        {
            if (!line.Contains("ERROR", StringComparison.Ordinal) && !line.StartsWith("Error:", StringComparison.Ordinal))
            {
                continue;
            }

            var match = DtcLocation().Match(line);
            if (match.Success)
            {
                var file = match.Groups["file"].Value;
                var at = int.Parse(match.Groups["line"].Value, CultureInfo.InvariantCulture);
                var message = match.Groups["message"].Value.Trim();
                return new PlatformFileException(file is "<stdin>" or "-" ? path : file, at, "dtc: " + message + note);
            }
        }

        return new PlatformFileException(path, 0, "dtc failed: " + FirstLines(stderr) + note);
    }

    private static List<(string File, int Line, string Message)> CppErrors(string stderr)
    {
        var errors = new List<(string, int, string)>();
        foreach (var line in Lines(stderr))
        {
            var match = CppLocation().Match(line);
            if (match.Success)
            {
                errors.Add((match.Groups["file"].Value, int.Parse(match.Groups["line"].Value, CultureInfo.InvariantCulture), match.Groups["message"].Value.Trim()));
            }
        }

        return errors;
    }

    private static void CollectWarnings(string stderr, List<string> warnings)
    {
        foreach (var line in Lines(stderr))
        {
            if (line.Contains("Warning", StringComparison.Ordinal) || line.Contains("warning:", StringComparison.Ordinal))
            {
                warnings.Add(line.Trim());
            }
        }
    }

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string FirstLines(string text)
    {
        var lines = Lines(text).Take(3).ToList();
        return lines.Count == 0 ? "(no message)" : string.Join(" / ", lines);
    }

    /// <summary>Runs a tool without a shell: arguments as given, optional stdin, bounded time and output.</summary>
    internal static ToolResult Run(string tool, IReadOnlyList<string> arguments, byte[]? input, string forFile)
    {
        var start = new ProcessStartInfo(tool)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LC_ALL"] = "C";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new PlatformFileException(forFile, 0, $"{tool} could not be started");
        }
        catch (Win32Exception e)
        {
            throw new PlatformFileException(forFile, 0, $"{tool} is needed to compile device tree source and could not be run ({e.Message}); install Debian's {PackageOf(tool)} package (scripts/ensure-deps does)");
        }

        using (process)
        {
            var output = ReadBoundedAsync(process.StandardOutput.BaseStream);
            var error = ReadBoundedAsync(process.StandardError.BaseStream);
            var feed = WriteInputAsync(process.StandardInput.BaseStream, input);
            if (!process.WaitForExit(Timeout))
            {
                Kill(process);
                throw new PlatformFileException(forFile, 0, $"{tool} did not finish within {Timeout.TotalSeconds:0} s");
            }

            feed.Wait(Timeout);

            process.WaitForExit();
            if (!Task.WaitAll([output, error], Timeout))
            {
                throw new PlatformFileException(forFile, 0, $"{tool}'s output did not end within {Timeout.TotalSeconds:0} s");
            }

            if (output.Result is null || error.Result is null)
            {
                throw new PlatformFileException(forFile, 0, $"{tool} wrote more than {MaxOutputBytes >> 20} MiB");
            }

            return new ToolResult(process.ExitCode, output.Result, Encoding.UTF8.GetString(error.Result));
        }
    }

    /// <summary>Feeds a tool its input (if any) and closes it; a tool that exits without reading it all is not an error here.</summary>
    private static async Task WriteInputAsync(Stream stream, byte[]? input)
    {
        try
        {
            if (input is not null)
            {
                await stream.WriteAsync(input).ConfigureAwait(false);
            }

            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // the tool exited (or was killed) without reading all its input; its exit code and stderr say why
        }
        catch (ObjectDisposedException)
        {
            // likewise
        }
    }

    private static async Task<byte[]?> ReadBoundedAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        var tooMuch = false;
        int read;
        while ((read = await stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxOutputBytes)
            {
                tooMuch = true; // keep draining so the tool does not block on a full pipe
                continue;
            }

            buffer.Write(chunk, 0, read);
        }

        return tooMuch ? null : buffer.ToArray();
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // it has exited already
        }
        catch (Win32Exception)
        {
            // it could not be killed; nothing more to do
        }
    }

    private static string PackageOf(string tool) => tool == "dtc" ? "device-tree-compiler" : tool;

    /// <summary>A line that is a C preprocessor directive (not a DTS property such as <c>#address-cells</c>).</summary>
    [GeneratedRegex(@"^[ \t]*#[ \t]*(include|define|undef|if|ifdef|ifndef|elif|else|endif|error|warning|pragma|line)\b", RegexOptions.Multiline | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 2000)]
    private static partial Regex Directive();

    /// <summary>dtc's location prefix: <c>Error: FILE:L.C-C msg</c> or <c>FILE:L.C-L.C: ERROR (check): msg</c>.</summary>
    [GeneratedRegex(@"^(?:Error: )?(?<file>[^:\s][^:]*):(?<line>\d+)\.\d+(?:-\d+(?:\.\d+)?)?:?\s*(?<message>.*)$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 2000)]
    private static partial Regex DtcLocation();

    /// <summary>cpp's error line: <c>FILE:LINE[:COL]: [fatal ]error: msg</c>.</summary>
    [GeneratedRegex(@"^(?<file>[^:]+):(?<line>\d+)(?::\d+)?: (?:fatal )?error: (?<message>.*)$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 2000)]
    private static partial Regex CppLocation();

    internal readonly record struct ToolResult(int ExitCode, byte[] Output, string Error);
}

/// <summary>
/// Where each node and property of a compiled tree was written: read from <c>dtc -O dts -T -T</c>, which tags every
/// line of its output with <c>/* file:line:column-line:column */</c> (through cpp's line markers, the original file or
/// an included one; a single -T would give only the file's base name).
/// </summary>
public sealed partial class DtsSourceMap
{
    private readonly Dictionary<string, (string File, int Line)> _locations = new(StringComparer.Ordinal);

    public static DtsSourceMap Empty { get; } = new();

    /// <summary>Where the node at <paramref name="nodePath"/> (or its property <paramref name="property"/>) was written.</summary>
    public bool TryLocate(string nodePath, string? property, out string file, out int line)
    {
        ArgumentNullException.ThrowIfNull(nodePath);
        var key = property is null ? nodePath : nodePath + "\0" + property;
        if (_locations.TryGetValue(key, out var location) || (property is not null && _locations.TryGetValue(nodePath, out location)))
        {
            (file, line) = location;
            return true;
        }

        file = string.Empty;
        line = 0;
        return false;
    }

    /// <summary>Reads dtc's annotated output; lines it does not recognise are skipped (the map is for messages only).</summary>
    public static DtsSourceMap FromAnnotatedDts(string annotated)
    {
        ArgumentNullException.ThrowIfNull(annotated);
        var map = new DtsSourceMap();
        var path = new List<string>();
        foreach (var raw in annotated.Split('\n'))
        {
            var line = raw.Trim();
            var open = NodeOpen().Match(line);
            if (open.Success)
            {
                path.Add(open.Groups["name"].Value);
                Add(map, NodePath(path), null, open);
                continue;
            }

            if (line.StartsWith("};", StringComparison.Ordinal))
            {
                if (path.Count > 0)
                {
                    path.RemoveAt(path.Count - 1);
                }

                continue;
            }

            var property = PropertyLine().Match(line);
            if (property.Success && path.Count > 0)
            {
                Add(map, NodePath(path), property.Groups["name"].Value, property);
            }
        }

        return map;
    }

    private static void Add(DtsSourceMap map, string nodePath, string? property, Match match)
    {
        if (!match.Groups["line"].Success)
        {
            return;
        }

        var key = property is null ? nodePath : nodePath + "\0" + property;
        map._locations.TryAdd(key, (match.Groups["file"].Value, int.Parse(match.Groups["line"].Value, CultureInfo.InvariantCulture)));
    }

    private static string NodePath(List<string> names) => names.Count <= 1 ? "/" : "/" + string.Join('/', names.Skip(1));

    /// <summary><c>[label: ]name { /* file:line:col-line:col */</c> (the root is <c>/ {</c>).</summary>
    [GeneratedRegex(@"^(?:[A-Za-z_][\w]*:\s*)*(?<name>[^\s{};=]+) \{(?: /\* (?<file>.+):(?<line>\d+):\d+-\d+:\d+ \*/)?$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 2000)]
    private static partial Regex NodeOpen();

    /// <summary><c>[label: ]name[ = value]; /* file:line:col-line:col */</c>.</summary>
    [GeneratedRegex(@"^(?:[A-Za-z_][\w]*:\s*)*(?<name>[^\s{};=]+)(?: = .*)?; /\* (?<file>[^*]+):(?<line>\d+):\d+-\d+:\d+ \*/$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 2000)]
    private static partial Regex PropertyLine();
}
