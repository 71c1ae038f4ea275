namespace Firmament.Scenarios;

/// <summary>
/// Loads a platform from a file. A platform is a YAML platform file (<c>.yaml</c>/<c>.yml</c>, see
/// <see cref="PlatformFile"/>); SP partition manifests (<c>.dts</c>/<c>.dtb</c>) are not platforms on their own — a
/// platform file lists them under <c>partitions:</c> with <c>manifest:</c>, next to the VMs (or kernel) that talk to
/// them. A bare manifest given here gets a message saying so. Everything is validated before a description is
/// returned: nothing runs half-configured.
/// </summary>
public static class PlatformLoader
{
    /// <summary>Largest platform file, manifest or blob read (platform descriptions are a few KiB).</summary>
    public const int MaxFileBytes = 4 << 20;

    public static PlatformDescription Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        switch (extension)
        {
            case ".yaml" or ".yml":
                return PlatformFile.Load(path);
            case ".dts" or ".dtb":
                if (!File.Exists(path))
                {
                    throw new PlatformFileException(path, 0, "no such file");
                }

                throw new PlatformFileException(
                    path,
                    0,
                    "a partition manifest is not a platform: list it in a platform file (partitions: - manifest: "
                    + Path.GetFileName(path) + ") together with the VMs or kernel that use it; examples/cactus.yaml shows how");
            default:
                throw new PlatformFileException(path, 0, $"'{extension}' is not a platform file type (a platform file is .yaml or .yml)");
        }
    }

    /// <summary>Reads a text file for a loader: a missing, unreadable or oversized file is a <see cref="PlatformFileException"/>.</summary>
    internal static string ReadText(string path) => System.Text.Encoding.UTF8.GetString(ReadBytes(path));

    /// <summary>Reads a file for a loader, at most <see cref="MaxFileBytes"/>.</summary>
    internal static byte[] ReadBytes(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxFileBytes)
            {
                throw new PlatformFileException(path, 0, $"{stream.Length} bytes is too large (at most {MaxFileBytes >> 20} MiB)");
            }

            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (FileNotFoundException)
        {
            throw new PlatformFileException(path, 0, "no such file");
        }
        catch (DirectoryNotFoundException)
        {
            throw new PlatformFileException(path, 0, "no such file (its directory does not exist)");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new PlatformFileException(path, 0, "cannot be read: " + e.Message);
        }
        catch (IOException e)
        {
            throw new PlatformFileException(path, 0, "cannot be read: " + e.Message);
        }
    }
}

/// <summary>A platform or manifest file that cannot be used: where, and why.</summary>
public sealed class PlatformFileException(string file, int line, string reason)
    : Exception(line > 0 ? $"{file}:{line}: {reason}" : $"{file}: {reason}")
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public string Reason { get; } = reason;
}
