namespace Firmament.Abi.Ffa;

/// <summary>
/// A 16-bit FF-A endpoint ID. Bit 15 marks the secure world (a convention every implementation relies on,
/// though the spec only suggests it: portable endpoints learn the SPMC's ID from FFA_SPM_ID_GET).
/// </summary>
public readonly record struct EndpointId(ushort Value) : IComparable<EndpointId>
{
    /// <summary>The hypervisor, or the OS kernel when there is no hypervisor.</summary>
    public static EndpointId Hypervisor { get; } = new(0x0000);

    /// <summary>The SPMC, as FFA_SPM_ID_GET returns it.</summary>
    public static EndpointId Spmc { get; } = new(0x8000);

    /// <summary>The SPMD (framework direct messages between SPMD and SPMC).</summary>
    public static EndpointId Spmd { get; } = new(0xFFFF);

    /// <summary>The "invalid ID" marker Hafnium and TF-A use.</summary>
    public static EndpointId Invalid { get; } = new(0x7FFF);

    /// <summary>Bit 15 set: a secure-world ID.</summary>
    public bool IsSecure => (Value & 0x8000) != 0;

    /// <summary>A normal-world VM ID (1..0x7FFE).</summary>
    public bool IsVm => Value is > 0 and < 0x7FFF;

    public int CompareTo(EndpointId other) => Value.CompareTo(other.Value);

    public static bool operator <(EndpointId left, EndpointId right) => left.Value < right.Value;

    public static bool operator >(EndpointId left, EndpointId right) => left.Value > right.Value;

    public static bool operator <=(EndpointId left, EndpointId right) => left.Value <= right.Value;

    public static bool operator >=(EndpointId left, EndpointId right) => left.Value >= right.Value;

    public override string ToString() => "0x" + Value.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
}
