using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>What kind of endpoint a partition is.</summary>
public enum PartitionKind
{
    /// <summary>A normal-world virtual machine under the hypervisor.</summary>
    Vm,

    /// <summary>A secure partition under the SPMC.</summary>
    Sp,

    /// <summary>The OS kernel as the physical normal-world endpoint (ID 0) when there is no hypervisor.</summary>
    Kernel,
}

/// <summary>The exception level a partition's code runs at.</summary>
public enum ExceptionLevel
{
    /// <summary>Normal-world EL1 (a VM's kernel, or the OS with no hypervisor).</summary>
    El1,

    /// <summary>Secure EL0 (an S-EL0 partition: MEM_PERM_GET/SET, no NPI).</summary>
    SEl0,

    /// <summary>Secure EL1.</summary>
    SEl1,
}

/// <summary>A memory region of a partition: an intermediate physical range, its permissions, and where it lives.</summary>
/// <param name="Name">From the manifest's node name or description.</param>
/// <param name="Address">The IPA the partition sees.</param>
/// <param name="PageCount">Size in 4 KiB pages.</param>
/// <param name="Access">Stage-2 permissions.</param>
/// <param name="PhysicalAddress">Where it lives; null lets the platform choose.</param>
public sealed record MemoryRegion(string Name, ulong Address, ulong PageCount, Stage2Access Access, ulong? PhysicalAddress = null)
{
    public ulong Size => PageCount * PhysicalMemory.PageSize;
}

/// <summary>
/// A partition as a platform file or a manifest describes it. Immutable; the running state is <see cref="Partition"/>.
/// </summary>
public sealed record PartitionConfig
{
    public required string Name { get; init; }

    public required EndpointId Id { get; init; }

    public required PartitionKind Kind { get; init; }

    /// <summary>Protocol UUIDs (SPs); VMs usually have none.</summary>
    public IReadOnlyList<Uuid> Uuids { get; init; } = [];

    public ExceptionLevel ExceptionLevel { get; init; } = ExceptionLevel.El1;

    public int VcpuCount { get; init; } = 1;

    /// <summary>
    /// What the partition does: direct request receive/send (bits 0, 1, 9, 10), indirect messaging (bit 2),
    /// notifications (bit 3), VM created/destroyed subscriptions (bits 6, 7), AArch64 (bit 8) — the partition
    /// information properties, which is also how the manifest's messaging-method bits line up.
    /// </summary>
    public PartitionProperties Properties { get; init; } = PartitionProperties.AArch64;

    /// <summary>The FF-A version the partition's code implements (the manifest's ffa-version).</summary>
    public FfaVersion Version { get; init; } = FfaVersion.V1_2;

    public IReadOnlyList<MemoryRegion> Memory { get; init; } = [];

    /// <summary>Size of each of the RX and TX buffers in 4 KiB pages.</summary>
    public uint RxTxPages { get; init; } = 1;

    /// <summary>Where the RX buffer is (an IPA), when a manifest fixes it; null lets the platform place it.</summary>
    public ulong? RxAddress { get; init; }

    /// <summary>Where the TX buffer is, when a manifest fixes it.</summary>
    public ulong? TxAddress { get; init; }

    /// <summary>Driven call by call by a scenario script instead of running a program.</summary>
    public bool Scripted { get; init; }

    /// <summary>The name of the built-in program the partition runs (for reports), or empty.</summary>
    public string ProgramName { get; init; } = string.Empty;

    /// <summary>Boot order among SPs (lower first).</summary>
    public int BootOrder { get; init; }

    /// <summary>The managed program each vCPU runs, or null for a partition with no code (it only waits).</summary>
    public EndpointProgram? Program { get; init; }

    /// <summary>AArch64 machine code the vCPUs run under emulation instead of a managed program (Endpoints/Emulation).</summary>
    public Endpoints.Emulation.GuestImage? Image { get; init; }

    /// <summary>Where the partition was described (file and line, or manifest path), for messages.</summary>
    public string Origin { get; init; } = string.Empty;

    public bool Has(PartitionProperties property) => (Properties & property) == property;
}

/// <summary>
/// A partition at run time: its configuration, its memory (stage-2 view), its vCPUs, and whether it has been
/// aborted. Owned by the partition manager of its world.
/// </summary>
public sealed class Partition
{
    public Partition(PartitionConfig config, AddressSpace memory)
    {
        Config = config;
        Memory = memory;
    }

    public PartitionConfig Config { get; }

    public EndpointId Id => Config.Id;

    public string Name => Config.Name;

    public AddressSpace Memory { get; }

    public List<Vcpu> Vcpus { get; } = [];

    /// <summary>Set when a vCPU faulted: the partition never runs again and its callers get ABORTED.</summary>
    public string? AbortReason { get; internal set; }

    public bool IsAborted => AbortReason is not null;

    public override string ToString() => $"{Name} ({Id})";
}
