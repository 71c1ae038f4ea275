using System.Diagnostics;
using Firmament.Abi;
using Firmament.Endpoints.Emulation;
using Firmament.Ffa;
using Firmament.Machine;
using Xunit;

namespace Firmament.Tests.Emulation;

/// <summary>
/// The guest images the emulation tests run: built once per test run from guests/ with Debian's
/// gcc-aarch64-linux-gnu (make), into guests/build. A test that needs them (or the emulator) is skipped, with the
/// reason, on a machine where either is missing — never passed.
/// </summary>
internal static class Guests
{
    public const ulong SpRam = 0x1000_0000;
    public const ulong VmRam = 0x4000_0000;

    private static readonly Lazy<(string? Directory, string? Failure)> Built = new(Build);

    /// <summary>The repository's root (where Firmament.slnx is).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Skips the calling test unless the emulator loads and the images are built; returns the image path.</summary>
    public static string Image(string name)
    {
        Require();
        return Path.Combine(Built.Value.Directory!, name + ".bin");
    }

    /// <summary>Skips the calling test, with the reason, unless the emulator loads and the images are built.</summary>
    public static void Require()
    {
        var reason = Unavailable();
        Assert.SkipWhen(reason is not null, reason ?? string.Empty);
    }

    /// <summary>Why emulated endpoints cannot run here (building the images first), or null when they can.</summary>
    public static string? Unavailable()
    {
        if (Unicorn.UnavailableReason is { } reason)
        {
            return $"emulator unavailable: {reason}";
        }

        return Built.Value.Failure is { } failure ? $"guest images not built: {failure}" : null;
    }

    /// <summary>Whether a conformance scenario (a path under conformance/) runs emulated endpoints.</summary>
    public static bool IsEmulated(string relative) =>
        relative.Replace('\\', '/').StartsWith("emulation/", StringComparison.Ordinal);

    /// <summary>An SP running an image from the default SP RAM.</summary>
    public static PartitionConfig Sp(string name, ushort id, string image, params ulong[] arguments) =>
        global::Firmament.Tests.Ffa.Rig.Sp(name, id, program: null) with
        {
            Image = new GuestImage(Image(image), SpRam, SpRam) { Arguments = arguments },
            ProgramName = image,
        };

    /// <summary>A VM running an image from the default VM RAM.</summary>
    public static PartitionConfig Vm(string name, ushort id, string image, params ulong[] arguments) =>
        global::Firmament.Tests.Ffa.Rig.Vm(name, id, program: null) with
        {
            Image = new GuestImage(Image(image), VmRam, VmRam) { Arguments = arguments },
            ProgramName = image,
        };

    /// <summary>The emulated backend of a partition's vCPU.</summary>
    public static EmulatedVcpu Backend(Partition partition, int vcpu = 0) => (EmulatedVcpu)partition.Vcpus[vcpu].Backend;

    private static (string?, string?) Build()
    {
        var output = Path.Combine(Root, "guests", "build");
        try
        {
            using var make = Process.Start(new ProcessStartInfo("make", ["-s", "-C", Path.Combine(Root, "guests"), $"OUT={output}"])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            var errors = make.StandardError.ReadToEndAsync();
            _ = make.StandardOutput.ReadToEnd();
            make.WaitForExit();
            return make.ExitCode == 0 ? (output, null) : (null, $"make failed ({make.ExitCode}): {errors.Result.Trim()} (is gcc-aarch64-linux-gnu installed?)");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"make cannot run: {e.Message}");
        }
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

        throw new InvalidOperationException("the repository root (Firmament.slnx) is not above the test binaries");
    }

    public static RegisterFrame DirectReq(ushort from, ushort to, params ulong[] payload)
    {
        var frame = RegisterFrame.Of(global::Firmament.Tests.Ffa.Rig.Id64(global::Firmament.Abi.Ffa.FfaFunction.MsgSendDirectReq), ((ulong)from << 16) | to);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[3 + i] = payload[i];
        }

        return frame;
    }

    /// <summary>The pCPU state of a finished run, for assertions.</summary>
    public static bool AllOff(Partition partition) => partition.Vcpus.TrueForAll(static v => v.State == VcpuState.Off);
}
