using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios;

/// <summary>Which partition managers a platform has.</summary>
public enum PlatformRoles
{
    /// <summary>A hypervisor with VMs in the normal world and an SPMC with SPs in the secure world.</summary>
    HypervisorAndSpmc,

    /// <summary>No hypervisor: one OS kernel is the physical normal-world endpoint (ID 0), and an SPMC with SPs.</summary>
    KernelAndSpmc,

    /// <summary>A hypervisor with VMs and no secure world.</summary>
    HypervisorOnly,
}

/// <summary>
/// A platform as a platform file (or code) describes it: roles, personality, pCPUs, seed, and partitions. Loading
/// validates everything; <see cref="Platform.Build"/> only assembles.
/// </summary>
public sealed record PlatformDescription
{
    public string Name { get; init; } = "platform";

    public PlatformRoles Roles { get; init; } = PlatformRoles.HypervisorAndSpmc;

    public Personality Personality { get; init; } = Personality.Default;

    public int Pcpus { get; init; } = 2;

    public ulong Seed { get; init; }

    /// <summary>How the scheduler picks the next pCPU: Fair (the default) or Random, to explore other interleavings.</summary>
    public ScheduleStrategy Strategy { get; init; } = ScheduleStrategy.Fair;

    public IReadOnlyList<PartitionConfig> Partitions { get; init; } = [];

    /// <summary>The Gunyah objects and images (docs/gunyah.md); null: the hypervisor serves no Gunyah calls.</summary>
    public GunyahPlatform? Gunyah { get; init; }

    /// <summary>Where it came from (a file path, "built-in"), for messages.</summary>
    public string Origin { get; init; } = "built-in";

    /// <summary>What the loader adjusted or assumed while reading it (a manifest's FF-A version served at ours, a stubbed header).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
