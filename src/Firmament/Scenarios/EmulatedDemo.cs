using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Emulation;
using Firmament.Ffa;

namespace Firmament.Scenarios;

/// <summary>
/// What <c>firmament run</c> adds to the default demo: an emulated VM (guests/samples/ping-vm.c, AArch64 machine code)
/// that sends direct requests to the managed echo SP and checks every answer — when the emulator loads and the image
/// is built. When it cannot, the demo runs without it and a note says why.
/// </summary>
public static class EmulatedDemo
{
    /// <summary>The image's path under the repository (built by <c>make -C guests</c>; ./firmament does that).</summary>
    public const string ImagePath = "guests/build/ping-vm.bin";

    /// <summary>
    /// Set to <c>off</c>, the demo is the managed one exactly, on every machine (no partition, no note): what golden
    /// files of the demo's output are compared with.
    /// </summary>
    public const string OptOutVariable = "FIRMAMENT_DEMO_EMULATION";

    /// <summary>The demo with the emulated VM added, or with a note that says plainly why it is not there.</summary>
    public static PlatformDescription AddTo(PlatformDescription demo) =>
        string.Equals(Environment.GetEnvironmentVariable(OptOutVariable), "off", StringComparison.Ordinal) ? demo : With(demo);

    /// <summary>The demo with the emulated VM, whatever <see cref="OptOutVariable"/> says.</summary>
    public static PlatformDescription With(PlatformDescription demo)
    {
        ArgumentNullException.ThrowIfNull(demo);
        if (Unicorn.UnavailableReason is { } reason)
        {
            return demo with { Notes = [.. demo.Notes, $"no emulated partition in this run: the emulator is not available ({reason})"] };
        }

        var image = FindImage();
        if (image is null)
        {
            return demo with { Notes = [.. demo.Notes, $"no emulated partition in this run: {ImagePath} is not built (make -C guests, with gcc-aarch64-linux-gnu)"] };
        }

        var vm = new PartitionConfig
        {
            Name = "vm4",
            Id = new EndpointId(4),
            Kind = PartitionKind.Vm,
            Properties = PartitionProperties.SendsDirectRequests | PartitionProperties.AArch64,
            Image = new GuestImage(image, Platform.DefaultVmRam, Platform.DefaultVmRam) { Arguments = [0x8001, 3] },
            ProgramName = "ping-vm (emulated AArch64)",
        };
        return demo with
        {
            Partitions = [.. demo.Partitions, vm],
            Notes = [.. demo.Notes, $"vm4 is AArch64 machine code under emulation ({ImagePath}): 3 direct requests to sp1, over HVC"],
        };
    }

    private static string? FindImage()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ImagePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
