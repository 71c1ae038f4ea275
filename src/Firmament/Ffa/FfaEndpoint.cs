using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Ffa;

/// <summary>
/// What one partition manager keeps about one endpoint it serves: its negotiated version, its RX/TX buffers, and
/// the partition behind it when the partition is its own. At the SPMC the normal world appears as endpoint 0 (the
/// hypervisor or the OS kernel) plus one entry per VM whose buffers the hypervisor forwarded.
/// </summary>
public sealed class FfaEndpoint(EndpointId id, Partition? partition, FfaVersion implemented)
{
    public EndpointId Id { get; } = id;

    /// <summary>The partition, when this manager owns it; null for a normal-world endpoint seen from the SPMC.</summary>
    public Partition? Partition { get; } = partition;

    /// <summary>The version this endpoint's data structures are formatted for.</summary>
    public FfaVersion Version { get; internal set; } = implemented;

    /// <summary>The endpoint has called FFA_VERSION at least once.</summary>
    public bool VersionCalled { get; internal set; }

    /// <summary>A call other than VERSION was made: the version is final.</summary>
    public bool VersionLocked { get; internal set; }

    public Mailbox Mailbox { get; } = new();

    /// <summary>Framework notifications pending for this endpoint (RX buffer full, bit 0), by who set them.</summary>
    public uint SpmFrameworkPending { get; internal set; }

    public uint HypervisorFrameworkPending { get; internal set; }

    public PartitionProperties Properties => Partition?.Config.Properties ?? PartitionProperties.None;

    public bool IsAborted => Partition?.IsAborted ?? false;

    public override string ToString() => Partition?.ToString() ?? Id.ToString();
}
