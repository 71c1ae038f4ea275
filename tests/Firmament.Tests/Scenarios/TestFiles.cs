using Firmament.Scenarios;

namespace Firmament.Tests.Scenarios;

/// <summary>Where the repository's fixtures and examples are, temporary files, and the tools manifest tests need.</summary>
internal static class TestFiles
{
    private static readonly Lazy<string> RepoRoot = new(FindRoot);

    public static string Root => RepoRoot.Value;

    /// <summary>A fixture manifest, e.g. <c>tf-a-tests/cactus.dts</c>.</summary>
    public static string Manifest(string relative) => Path.Combine(Root, "fixtures", "manifests", relative);

    public static string Example(string name) => Path.Combine(Root, "examples", name);

    /// <summary>
    /// dtc and cpp must be installed (scripts/ensure-deps installs them; ./test runs it first). A test that needs them
    /// fails with this message rather than passing without having run.
    /// </summary>
    public static void RequireTools()
    {
        foreach (var (tool, package) in new[] { ("dtc", "device-tree-compiler"), ("cpp", "cpp") })
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Any(dir => File.Exists(Path.Combine(dir, tool)));
            if (!found)
            {
                throw new InvalidOperationException($"{tool} is not installed: this test needs Debian's {package} package (run scripts/ensure-deps, as ./test does)");
            }
        }
    }

    /// <summary>Compiles DTS text with dtc (for FDT reader tests against dtc's own output).</summary>
    public static byte[] CompileDts(string source)
    {
        RequireTools();
        using var directory = new TempDirectory();
        var path = directory.Write("x.dts", source);
        return DtsCompiler.Compile(path).Blob;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Firmament.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Firmament.slnx) is not above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary directory for files a test writes, deleted afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("firmament-test-");

    public string Path => _directory.FullName;

    public string Write(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal));
        return path;
    }

    public string Write(string name, byte[] bytes)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
