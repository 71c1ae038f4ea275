namespace Firmament.Abi.Gunyah;

/// <summary>Bits 63:56 of hyp_api_info.</summary>
public enum HypervisorVariant : byte
{
    Unknown = 0,

    /// <summary>0x48 ('H'): Gunyah; the API document calls it "Haven", the project's earlier name.</summary>
    Gunyah = 0x48,

    /// <summary>0x51 ('Q'): the hypervisor code's default.</summary>
    Qualcomm = 0x51,
}

/// <summary>
/// hyp_api_info, x0 of hypervisor_identify and of the Revision service call: API version in 13:0 (1; Linux refuses
/// anything else), big-endian API in 14, 64-bit API in 15, 55:16 reserved, variant in 63:56.
/// </summary>
public readonly record struct HypApiInfo(ulong Value)
{
    /// <summary>The only API version there is.</summary>
    public const ushort CurrentApiVersion = 1;

    public const ulong ReservedMask = 0x00FF_FFFF_FFFF_0000;

    public ushort ApiVersion => (ushort)(Value & 0x3FFF);

    public bool IsBigEndian => (Value & (1UL << 14)) != 0;

    public bool Is64Bit => (Value & (1UL << 15)) != 0;

    public ulong ReservedBits => Value & ReservedMask;

    public HypervisorVariant Variant => (HypervisorVariant)(Value >> 56);

    /// <summary>The word a little-endian 64-bit hypervisor of the given variant reports.</summary>
    public static HypApiInfo Create(HypervisorVariant variant, ushort apiVersion = CurrentApiVersion, bool bigEndian = false, bool is64Bit = true)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(apiVersion, (ushort)0x3FFF);
        return new(apiVersion | (bigEndian ? 1UL << 14 : 0) | (is64Bit ? 1UL << 15 : 0) | ((ulong)variant << 56));
    }

    public override string ToString() =>
        $"api v{ApiVersion}, {(IsBigEndian ? "big" : "little")}-endian, {(Is64Bit ? "64" : "32")}-bit, variant 0x{(byte)Variant:X2}";
}

/// <summary>API flags 0 feature bits (a set bit means the API is present).</summary>
[Flags]
public enum ApiFeatures : ulong
{
    None = 0,
    PartitionCspace = 1UL << 0,
    Doorbell = 1UL << 1,
    Msgqueue = 1UL << 2,
    VicVirq = 1UL << 3,
    Vpm = 1UL << 4,
    Vcpu = 1UL << 5,
    Memextent = 1UL << 6,
    TraceControl = 1UL << 7,
    Watchdog = 1UL << 8,
    VirtioMmio = 1UL << 9,
    Prng = 1UL << 10,
    VcpuRun = 1UL << 11,

    /// <summary>Bit 16: reserved (listed as such in both the document and the code).</summary>
    Reserved16 = 1UL << 16,
}

/// <summary>Bits 31:28 of API flags 0.</summary>
public enum SchedulerVariant : byte
{
    Trivial = 0,

    /// <summary>Fixed-priority round robin.</summary>
    Fprr = 1,
}

/// <summary>API flags 0, x1 of hypervisor_identify: feature bits and the scheduler variant in 31:28.</summary>
public readonly record struct HypApiFlags0(ulong Value)
{
    private const int SchedulerShift = 28;

    public ApiFeatures Features => (ApiFeatures)(Value & ~(0xFUL << SchedulerShift));

    public SchedulerVariant Scheduler => (SchedulerVariant)((Value >> SchedulerShift) & 0xF);

    public bool Has(ApiFeatures feature) => (Features & feature) == feature;

    public static HypApiFlags0 Create(ApiFeatures features, SchedulerVariant scheduler) =>
        new(((ulong)features & ~(0xFUL << SchedulerShift)) | ((ulong)scheduler << SchedulerShift));

    public override string ToString() => $"{Features}, scheduler {Scheduler}";
}

/// <summary>API flags 1, x2 of hypervisor_identify.</summary>
[Flags]
public enum ApiFlags1 : ulong
{
    None = 0,

    /// <summary>Armv8.2 SVE supported (API document; the code reports flags 1 as zero).</summary>
    Sve = 1,
}

/// <summary>The Gunyah UUID returned by the Call UID service call, and the one of Qualcomm's proprietary build.</summary>
public static class GunyahUid
{
    /// <summary>c1d58fcd-a453-5fdb-9265-ce36673d5f14.</summary>
    public static Uuid Uuid { get; } = Uuid.FromWords(W0, W1, W2, W3);

    public const uint W0 = 0xCD8F_D5C1;
    public const uint W1 = 0xDB5F_53A4;
    public const uint W2 = 0x36CE_6592;
    public const uint W3 = 0x145F_3D67;

    /// <summary>What the proprietary "QC_HYP" build returns in w0..w3; early Linux accepted it too.</summary>
    public static Uuid QualcommUuid { get; } = Uuid.FromWords(0x19BD_54BD, 0x0B37_571B, 0x946F_609B, 0x5453_9DE6);
}
