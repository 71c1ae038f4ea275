using System.Buffers.Binary;

namespace Firmament.Abi.Gunyah.Rm;

/// <summary>
/// What a VM needs to reach the RM, as the RM's device-tree overlay would give it (the rm-rpc node's <c>reg</c> =
/// TX and RX cap IDs, <c>interrupts</c> = their VIRQs): this model has no device tree, so the RM writes these 40 bytes
/// at the start of the VM's RAM before it first runs. Layout: u32 magic "GHRM", u16 VMID, u16 owner VMID, u64 TX cap,
/// u64 RX cap, u32 TX VIRQ, u32 RX VIRQ, u64 reserved.
/// </summary>
public readonly record struct RmBootInfo(ushort Vmid, ushort Owner, CapId TxCap, CapId RxCap, uint TxVirq, uint RxVirq)
{
    public const uint Magic = 0x4D52_4847; // "GHRM"

    public const int Size = 40;

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Vmid);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Owner);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], TxCap.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], RxCap.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], TxVirq);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], RxVirq);
    }

    /// <summary>Reads the block; false when it is too short or the magic is missing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out RmBootInfo info)
    {
        info = default;
        if (source.Length < Size || BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            return false;
        }

        info = new RmBootInfo(
            BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            new CapId(BinaryPrimitives.ReadUInt64LittleEndian(source[8..])),
            new CapId(BinaryPrimitives.ReadUInt64LittleEndian(source[16..])),
            BinaryPrimitives.ReadUInt32LittleEndian(source[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[28..]));
        return true;
    }
}

/// <summary>Resource types of VM_GET_HYP_RESOURCES' descriptors.</summary>
public static class RmResourceTypes
{
    /// <summary>A doorbell's sending side (SEND cap, no VIRQ); Linux calls it BELL_TX.</summary>
    public const byte DoorbellSource = 0;

    /// <summary>A doorbell's receiving side (RECEIVE cap, VIRQ).</summary>
    public const byte Doorbell = 1;

    /// <summary>A message queue's sending side (SEND cap, not-full VIRQ).</summary>
    public const byte MsgqueueSend = 2;

    /// <summary>A message queue's receiving side (RECEIVE cap, not-empty VIRQ).</summary>
    public const byte MsgqueueReceive = 3;

    /// <summary>A vCPU of a VM the caller owns (AFFINITY|YIELD_TO cap, proxy wakeup VIRQ; label = vCPU index).</summary>
    public const byte VirtualCpu = 4;
}
