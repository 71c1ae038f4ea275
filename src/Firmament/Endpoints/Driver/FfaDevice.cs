using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Endpoints.Driver;

/// <summary>
/// One partition as the driver found it: a device per (partition, UUID), as Linux's FF-A bus creates them. Client
/// drivers bind to devices by UUID.
/// </summary>
public sealed class FfaDevice(PartitionInfo info)
{
    public PartitionInfo Info { get; } = info;

    public EndpointId Id => Info.Id;

    public Uuid Uuid => Info.Uuid;

    public PartitionProperties Properties => Info.Properties;

    /// <summary>The partition runs AArch64: direct messages go as SMC64 (an AArch32 one gets SMC32 only, as Linux does).</summary>
    public bool Is64 => (Properties & PartitionProperties.AArch64) != 0;

    /// <summary>The client driver bound to this device, if any.</summary>
    public IFfaClientDriver? Driver { get; internal set; }

    public override string ToString() => $"{Id} {Uuid}";
}

/// <summary>A client driver: probed for each device whose UUID it names.</summary>
public interface IFfaClientDriver
{
    string Name { get; }

    IReadOnlyList<Uuid> Uuids { get; }

    /// <summary>Called when a matching device is found; false declines it.</summary>
    bool Probe(FfaDevice device);
}
