using System.Globalization;

namespace Firmament.Abi.Gunyah;

/// <summary>How a Gunyah hypercall is made. Results come back the same way in both: x0 = error, x1..x7 = results.</summary>
public enum GunyahConvention : byte
{
    /// <summary><c>HVC #0</c> with x0 = SMCCC function ID <c>0xC6008000 | N</c>; arguments from x1 (Linux v2 and later).</summary>
    Smccc,

    /// <summary><c>HVC #(0x6000 + N)</c>; the number is in the instruction, not the frame; arguments from x0.</summary>
    Native,
}

/// <summary>A capability ID: an opaque 64-bit value meaningful only in the cspace it was issued by.</summary>
public readonly record struct CapId(ulong Value)
{
    /// <summary>CSPACE_CAP_INVALID, all ones.</summary>
    public static CapId Invalid => new(ulong.MaxValue);

    public bool IsValid => Value != ulong.MaxValue;

    public override string ToString() => "0x" + Value.ToString("X", CultureInfo.InvariantCulture);
}

/// <summary>Virtual IRQ Info: VIRQ number in bits 23:0, target vCPU index in 31:24 (private IRQs only), 63:32 MBZ.</summary>
public readonly record struct VirqInfo(uint Virq, byte TargetVcpu)
{
    /// <summary>Bits 23:0.</summary>
    public const uint MaxVirq = 0x00FF_FFFF;

    /// <summary>Bits 63:32, must be zero.</summary>
    public const ulong MbzMask = 0xFFFF_FFFF_0000_0000;

    /// <summary>The register value. <see cref="Virq"/> must fit 24 bits.</summary>
    public ulong Pack() => Virq <= MaxVirq
        ? Virq | ((ulong)TargetVcpu << 24)
        : throw new InvalidOperationException($"VIRQ {Virq} does not fit the 24-bit field.");

    /// <summary>Reads a register; false with the offending bits when 63:32 are not zero.</summary>
    public static bool TryUnpack(ulong value, out VirqInfo info, out ulong mbzBits)
    {
        info = Unpack(value);
        mbzBits = value & MbzMask;
        return mbzBits == 0;
    }

    /// <summary>Reads the defined fields and ignores 63:32.</summary>
    public static VirqInfo Unpack(ulong value) => new((uint)value & MaxVirq, (byte)(value >> 24));
}

/// <summary>msgqueue_send's flags argument (x3 native, x4 SMCCC). Bits 63:1 are reserved, must be zero.</summary>
[Flags]
public enum MsgqueueSendOptions : ulong
{
    None = 0,

    /// <summary>Push the message now: raise the receive VIRQ whatever the not-empty threshold.</summary>
    Push = 1,
}

/// <summary>msgqueue_configure's create_info: queue depth in 15:0, maximum message size in 31:16, 63:32 MBZ.</summary>
/// <remarks>
/// The API document gives the size field as "31:15" with mask 0xFFFF0000; the mask (and the code) say 31:16.
/// The hypervisor accepts depth 1..255 and size 1..1023; those are checks of the call, not of the encoding.
/// </remarks>
public readonly record struct MsgqueueCreateInfo(ushort QueueDepth, ushort MaxMsgSize)
{
    /// <summary>Bits 63:32, must be zero.</summary>
    public const ulong MbzMask = 0xFFFF_FFFF_0000_0000;

    /// <summary>Largest depth the hypervisor accepts (it must be below MSGQUEUE_MAX_QUEUE_DEPTH = 256).</summary>
    public const ushort MaxQueueDepth = 255;

    /// <summary>Largest message size the hypervisor accepts (it must be below MSGQUEUE_MAX_MAX_MSG_SIZE = 1024).</summary>
    public const ushort MaxMaxMsgSize = 1023;

    public bool IsQueueDepthInRange => QueueDepth is >= 1 and <= MaxQueueDepth;

    public bool IsMaxMsgSizeInRange => MaxMsgSize is >= 1 and <= MaxMaxMsgSize;

    public ulong Pack() => QueueDepth | ((ulong)MaxMsgSize << 16);

    public static bool TryUnpack(ulong value, out MsgqueueCreateInfo info, out ulong mbzBits)
    {
        info = new MsgqueueCreateInfo((ushort)value, (ushort)(value >> 16));
        mbzBits = value & MbzMask;
        return mbzBits == 0;
    }
}

/// <summary>Rights every object's capabilities can carry.</summary>
[Flags]
public enum GenericRights : uint
{
    None = 0,

    /// <summary>object_activate, and configuring an object in its INIT state.</summary>
    Activate = 0x8000_0000,
}

/// <summary>CSpace capability rights.</summary>
[Flags]
public enum CspaceRights : uint
{
    None = 0,
    CapCreate = 0x1,
    CapDelete = 0x2,
    CapCopy = 0x4,
    Attach = 0x8,

    /// <summary>In the code; missing from the API document's table.</summary>
    CapRevoke = 0x10,
    Activate = 0x8000_0000,
}

/// <summary>Doorbell capability rights.</summary>
[Flags]
public enum DoorbellRights : uint
{
    None = 0,
    Send = 0x1,
    Receive = 0x2,
    Bind = 0x4,
    Activate = 0x8000_0000,
}

/// <summary>Message queue capability rights.</summary>
[Flags]
public enum MsgqueueRights : uint
{
    None = 0,
    Send = 0x1,
    Receive = 0x2,
    BindSend = 0x4,
    BindReceive = 0x8,
    Activate = 0x8000_0000,
}

/// <summary>Thread (vCPU) capability rights. vcpu_run needs <see cref="Affinity"/> and <see cref="YieldTo"/>.</summary>
[Flags]
public enum ThreadRights : uint
{
    None = 0,
    Power = 0x1,
    Affinity = 0x2,
    Priority = 0x4,
    Timeslice = 0x8,
    YieldTo = 0x10,
    BindVirq = 0x20,
    State = 0x40,
    Lifecycle = 0x80,
    WriteContext = 0x100,
    Disable = 0x200,
    Activate = 0x8000_0000,
}

/// <summary>Virtual interrupt controller capability rights.</summary>
[Flags]
public enum VicRights : uint
{
    None = 0,
    BindSource = 0x1,
    AttachVcpu = 0x2,
    Activate = 0x8000_0000,
}

/// <summary>Partition capability rights.</summary>
[Flags]
public enum PartitionRights : uint
{
    None = 0,
    ObjectCreate = 0x1,
    Donate = 0x2,
    Activate = 0x8000_0000,
}

/// <summary>Address space capability rights (API document).</summary>
[Flags]
public enum AddrspaceRights : uint
{
    None = 0,
    Attach = 0x1,
    Map = 0x2,
    Lookup = 0x4,
    Activate = 0x8000_0000,
}

/// <summary>Memory extent capability rights (API document).</summary>
[Flags]
public enum MemextentRights : uint
{
    None = 0,
    Map = 0x1,
    Derive = 0x2,
    Attach = 0x4,
    Lookup = 0x8,
    Donate = 0x10,
    Activate = 0x8000_0000,
}

/// <summary>vcpu_run (and vcpu_run_check) states, x1 of the return.</summary>
public enum VcpuRunState : ulong
{
    /// <summary>The caller's timeslice ended or an IRQ is pending: call again.</summary>
    Ready = 0,

    /// <summary>Waiting for an interrupt. Data 0: sleep type (0 = WFI, else a PSCI suspend state).</summary>
    ExpectsWakeup = 1,

    /// <summary>Powered off. Data 0: 0 recoverable, 1 terminated (exited; cannot run until the VM resets).</summary>
    PoweredOff = 2,

    /// <summary>Transiently blocked in the hypervisor: yield and retry.</summary>
    Blocked = 3,

    /// <summary>Read of a VMMIO range. Data 0: IPA, data 1: size; resume data 0 carries the value read.</summary>
    AddrspaceVmmioRead = 4,

    /// <summary>Write to a VMMIO range. Data 0: IPA, data 1: size, data 2: value written.</summary>
    AddrspaceVmmioWrite = 5,

    /// <summary>Unrecoverable fault.</summary>
    Fault = 6,

    /// <summary>PSCI SYSTEM_RESET or SYSTEM_RESET2. Data 0: <see cref="PsciResetType"/>, data 1: RESET2 cookie.</summary>
    PsciSystemReset = 0x100,
}

/// <summary>Names of <see cref="VcpuRunState"/>.</summary>
public static class VcpuRunStates
{
    public static string Name(ulong state) => state switch
    {
        0 => "READY",
        1 => "EXPECTS_WAKEUP",
        2 => "POWERED_OFF",
        3 => "BLOCKED",
        4 => "ADDRSPACE_VMMIO_READ",
        5 => "ADDRSPACE_VMMIO_WRITE",
        6 => "FAULT",
        0x100 => "PSCI_SYSTEM_RESET",
        _ => $"UNKNOWN(0x{state:X})",
    };

    public static string Name(this VcpuRunState state) => Name((ulong)state);
}

/// <summary>
/// State data 0 of <see cref="VcpuRunState.PsciSystemReset"/>: reset type in 31:0 (0 for SYSTEM_RESET), 61:32 MBZ,
/// bit 62 set when RESET2 was an SMC64 call, bit 63 set for SYSTEM_RESET (clear for SYSTEM_RESET2).
/// </summary>
public readonly record struct PsciResetType(ulong Value)
{
    public const ulong MbzMask = 0x3FFF_FFFF_0000_0000;

    public uint ResetType => (uint)Value;

    public bool IsResetSmc64 => (Value & (1UL << 62)) != 0;

    public bool IsSystemReset => (Value & (1UL << 63)) != 0;

    public ulong ReservedBits => Value & MbzMask;

    public static PsciResetType SystemReset => new(1UL << 63);

    public static PsciResetType SystemReset2(uint resetType, bool smc64) => new(resetType | (smc64 ? 1UL << 62 : 0));
}
