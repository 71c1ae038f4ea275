namespace Firmament.Abi;

/// <summary>
/// An SMCCC function ID (w0): bit 31 fast call, bit 30 SMC64, bits 29:24 owning entity, bits 15:0 function number.
/// </summary>
public readonly record struct FunctionId(uint Value)
{
    /// <summary>Bit 31: a fast call (every FF-A and Gunyah hypercall ID has it).</summary>
    public const uint FastBit = 1u << 31;

    /// <summary>Bit 30: the SMC64/HVC64 calling convention.</summary>
    public const uint Smc64Bit = 1u << 30;

    public bool IsFast => (Value & FastBit) != 0;

    public bool Is64 => (Value & Smc64Bit) != 0;

    /// <summary>Owning entity number, bits 29:24 (4 = standard secure service, 6 = vendor hypervisor).</summary>
    public SmcccOwner Owner => (SmcccOwner)((Value >> 24) & 0x3F);

    /// <summary>Bits 23:16, MBZ for FF-A.</summary>
    public uint ReservedBits => (Value >> 16) & 0xFF;

    /// <summary>Function number, bits 15:0.</summary>
    public ushort Number => (ushort)Value;

    /// <summary>Builds a fast-call ID.</summary>
    public static FunctionId Fast(SmcccOwner owner, ushort number, bool is64) =>
        new(FastBit | (is64 ? Smc64Bit : 0) | ((uint)owner << 24) | number);

    public override string ToString() => "0x" + Value.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>SMCCC owning entity numbers (function ID bits 29:24).</summary>
public enum SmcccOwner : byte
{
    Arch = 0,
    CpuService = 1,
    SipService = 2,
    OemService = 3,
    StandardSecure = 4,
    StandardHypervisor = 5,
    VendorHypervisor = 6,
}
