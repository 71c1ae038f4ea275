namespace Firmament.Abi.Ffa;

/// <summary>
/// Two 16-bit halves of one 32-bit register: the high half in bits 31:16, the low half in bits 15:0.
/// Every FF-A "w1 packing" is this shape; the typed names below say which ID sits where.
/// </summary>
public static class Halves
{
    public static uint Pack(ushort high, ushort low) => ((uint)high << 16) | low;

    public static ushort High(uint word) => (ushort)(word >> 16);

    public static ushort Low(uint word) => (ushort)word;
}

/// <summary>
/// Sender in bits 31:16, receiver in bits 15:0: direct messages (REQ/RESP, REQ2/RESP2, legacy MSG_SEND),
/// NOTIFICATION_BIND/UNBIND/SET (where "sender" is the endpoint that will set the bits), and the indirect
/// message header's <c>send_recv_id</c>.
/// </summary>
public readonly record struct SenderReceiver(EndpointId Sender, EndpointId Receiver)
{
    public uint Pack() => Halves.Pack(Sender.Value, Receiver.Value);

    public static SenderReceiver Unpack(uint word) => new(new EndpointId(Halves.High(word)), new EndpointId(Halves.Low(word)));
}

/// <summary>
/// Endpoint ID in bits 31:16 and vCPU index in bits 15:0: FFA_RUN's target, and the w1 of FFA_INTERRUPT and
/// FFA_YIELD returns.
/// </summary>
public readonly record struct TargetInfo(EndpointId Endpoint, ushort Vcpu)
{
    public uint Pack() => Halves.Pack(Endpoint.Value, Vcpu);

    public static TargetInfo Unpack(uint word) => new(new EndpointId(Halves.High(word)), Halves.Low(word));
}

/// <summary>
/// 64 notification IDs. On the wire it is always split across two 32-bit registers, low word first
/// (w3/w4 in BIND, UNBIND, SET; w2/w3 and w4/w5 in GET's return), even for 64-bit callers.
/// </summary>
public readonly record struct NotificationBitmap(ulong Bits)
{
    public static NotificationBitmap Empty => default;

    public uint Low => (uint)Bits;

    public uint High => (uint)(Bits >> 32);

    public bool IsEmpty => Bits == 0;

    public static NotificationBitmap FromHalves(uint low, uint high) => new(((ulong)high << 32) | low);

    public static NotificationBitmap Of(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id, 63);
        return new NotificationBitmap(1UL << id);
    }

    public override string ToString() => "0x" + Bits.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A 64-bit memory-transaction handle. Bit 63 says who allocated it: set for the hypervisor, clear for the SPMC.
/// Registers carry it low word first.
/// </summary>
public readonly record struct MemoryHandle(ulong Value)
{
    /// <summary>Bit 63: the handle was allocated by the hypervisor.</summary>
    public const ulong HypervisorAllocatorBit = 1UL << 63;

    /// <summary>The invalid handle, all ones.</summary>
    public static MemoryHandle Invalid { get; } = new(ulong.MaxValue);

    public bool IsHypervisorAllocated => (Value & HypervisorAllocatorBit) != 0;

    public bool IsValid => Value != ulong.MaxValue;

    public uint Low => (uint)Value;

    public uint High => (uint)(Value >> 32);

    public static MemoryHandle FromHalves(uint low, uint high) => new(((ulong)high << 32) | low);

    public override string ToString() => "0x" + Value.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
}
