using System.Buffers.Binary;

namespace Firmament.Abi.Gunyah.Rm;

/// <summary>Resource Manager RPC error codes: the u32 at the start of every reply payload.</summary>
public enum RmError : uint
{
    Ok = 0x0,

    /// <summary>Not implemented; also the answer to an unhandled message ID.</summary>
    Unimplemented = 0xFFFF_FFFF,

    NoMem = 0x1,
    NoResource = 0x2,
    Denied = 0x3,

    /// <summary>Malformed payload or wrong length.</summary>
    MsgInvalid = 0x4,

    Busy = 0x5,
    ArgumentInvalid = 0x6,
    HandleInvalid = 0x7,
    ValidateFailed = 0x8,
    MapFailed = 0x9,
    MemInvalid = 0xA,
    MemInUse = 0xB,
    MemReleased = 0xC,
    VmidInvalid = 0xD,
    LookupFailed = 0xE,
    IrqInvalid = 0xF,
    IrqInUse = 0x10,
    IrqReleased = 0x11,

    /// <summary>In RM; not in Linux's enum (which maps it to -EBADMSG).</summary>
    InUse = 0x12,

    /// <summary>In RM; not in Linux's enum.</summary>
    IrqNotMapped = 0x13,

    /// <summary>The VM is in the wrong state for the request. In RM; not in Linux's enum.</summary>
    VmState = 0x14,
}

/// <summary>Names of <see cref="RmError"/>, the mapping from hypervisor errors, and the reply error word.</summary>
public static class RmErrors
{
    /// <summary>Size of the error word at the start of a reply payload.</summary>
    public const int ErrorWordSize = 4;

    /// <summary>The spec name (<c>MSG_INVALID</c>), or <c>UNKNOWN(0x…)</c>.</summary>
    public static string Name(uint code) => code switch
    {
        0x0 => "OK",
        0xFFFF_FFFF => "UNIMPLEMENTED",
        0x1 => "NOMEM",
        0x2 => "NORESOURCE",
        0x3 => "DENIED",
        0x4 => "MSG_INVALID",
        0x5 => "BUSY",
        0x6 => "ARGUMENT_INVALID",
        0x7 => "HANDLE_INVALID",
        0x8 => "VALIDATE_FAILED",
        0x9 => "MAP_FAILED",
        0xA => "MEM_INVALID",
        0xB => "MEM_INUSE",
        0xC => "MEM_RELEASED",
        0xD => "VMID_INVALID",
        0xE => "LOOKUP_FAILED",
        0xF => "IRQ_INVALID",
        0x10 => "IRQ_INUSE",
        0x11 => "IRQ_RELEASED",
        0x12 => "IN_USE",
        0x13 => "IRQ_NOT_MAPPED",
        0x14 => "VM_STATE",
        _ => $"UNKNOWN(0x{code:X})",
    };

    public static string Name(this RmError error) => Name((uint)error);

    public static bool IsDefined(uint code) => code is <= 0x14 or 0xFFFF_FFFF;

    /// <summary>
    /// How RM reports a failed hypercall it made on a client's behalf: OK, UNIMPLEMENTED, NOMEM, NORESOURCES, DENIED
    /// and BUSY keep their meaning, ADDR_* become MEM_INVALID, ARGUMENT_INVALID stays, anything else is DENIED.
    /// </summary>
    public static RmError FromHypervisor(GunyahError error) => error switch
    {
        GunyahError.Ok => RmError.Ok,
        GunyahError.Unimplemented => RmError.Unimplemented,
        GunyahError.NoMem => RmError.NoMem,
        GunyahError.NoResources => RmError.NoResource,
        GunyahError.Denied => RmError.Denied,
        GunyahError.Busy => RmError.Busy,
        GunyahError.AddrOverflow or GunyahError.AddrUnderflow or GunyahError.AddrInvalid => RmError.MemInvalid,
        GunyahError.ArgumentInvalid => RmError.ArgumentInvalid,
        _ => RmError.Denied,
    };

    /// <summary>
    /// How RM's transport reports a message-queue failure: a full or empty queue is BUSY (try later), anything else
    /// DENIED.
    /// </summary>
    public static RmError FromTransport(GunyahError error) => error switch
    {
        GunyahError.Ok => RmError.Ok,
        GunyahError.MsgqueueFull or GunyahError.MsgqueueEmpty => RmError.Busy,
        _ => RmError.Denied,
    };

    /// <summary>
    /// Splits a reply payload into its error word and the data after it. False when the payload is shorter than
    /// the error word (a malformed reply).
    /// </summary>
    public static bool TryReadReply(ReadOnlySpan<byte> payload, out RmError error, out ReadOnlySpan<byte> data)
    {
        if (payload.Length < ErrorWordSize)
        {
            error = default;
            data = default;
            return false;
        }

        error = (RmError)BinaryPrimitives.ReadUInt32LittleEndian(payload);
        data = payload[ErrorWordSize..];
        return true;
    }

    /// <summary>Writes the error word at the start of a reply payload.</summary>
    public static void WriteReplyError(Span<byte> payload, RmError error) => BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)error);
}
