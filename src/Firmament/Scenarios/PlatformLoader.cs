namespace Firmament.Scenarios;

/// <summary>Loads platform files. (YAML and manifests: being built.)</summary>
public static class PlatformLoader
{
    public static PlatformDescription Load(string path) =>
        throw new PlatformFileException(path, 0, "platform files are not supported yet");
}

/// <summary>A platform or manifest file that cannot be used: where, and why.</summary>
public sealed class PlatformFileException(string file, int line, string reason)
    : Exception(line > 0 ? $"{file}:{line}: {reason}" : $"{file}: {reason}")
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public string Reason { get; } = reason;
}
