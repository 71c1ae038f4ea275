using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Firmament.Abi.Ffa.Calls;

// Messaging and CPU cycles: FFA_MSG_SEND_DIRECT_REQ/RESP (32/64), FFA_MSG_SEND_DIRECT_REQ2/RESP2, FFA_MSG_SEND2,
// FFA_MSG_WAIT, FFA_RUN, FFA_YIELD, FFA_INTERRUPT, legacy FFA_MSG_SEND and FFA_MSG_POLL, FFA_NORMAL_WORLD_RESUME,
// FFA_EL3_INTR_HANDLE, FFA_SECONDARY_EP_REGISTER, FFA_CONSOLE_LOG (32/64).
// Limits, stated once:
// - Only the v1.2 IDs: the SMC64 IDs v1.3 adds for MSG_WAIT, YIELD, RUN, INTERRUPT and NORMAL_WORLD_RESUME are refused.
// - MSG_WAIT's w2 bit 0 (retain the RX buffer) is v1.2; the codec accepts it whatever the version (the describer warns).
// - Legacy FFA_MSG_SEND's attribute word (w4) is kept raw: only bit 0 (blocking, from TF-A) is known.
// - CONSOLE_LOG carries the count in w1 bits 7:0 (bits 31:8 MBZ, as OP-TEE masks it) and at most 24 (SMC32, w2..w7)
//   or 128 (SMC64, x2..x17) characters. OP-TEE reads only x2..x7 (48). Character bytes past the count are treated
//   as MBZ, so decode-then-encode stays exact.

/// <summary>
/// w2 of a v1.0 direct request or response: 0 for a partition message, or bit 31 set and the framework message type
/// in bits 7:0 (bits 30:8 MBZ). The named values are the framework messages v1.2 defines; any other type is carried
/// as is.
/// </summary>
public enum DirectMessageKind : uint
{
    /// <summary>A partition message: w2 is 0 and w3..w7 are the partition's own payload.</summary>
    Partition = 0,

    /// <summary>PSCI power-management request (SPMD to SP): the PSCI function ID and arguments in w3..</summary>
    PowerManagementRequest = 0x8000_0000,

    /// <summary>Warm-boot request: w3 = 0 exit from suspend-to-RAM, 1 exit from low power.</summary>
    WarmBootRequest = 0x8000_0001,

    /// <summary>PSCI power-management response: w3 = the PSCI status.</summary>
    PowerManagementResponse = 0x8000_0002,

    /// <summary>VM created (hypervisor to a subscribed SP): w3/w4 = VM handle, w5 bits 15:0 = VM ID.</summary>
    VmCreated = 0x8000_0004,

    /// <summary>Response to VM created: w3 = status (0 or an FF-A error code).</summary>
    VmCreatedResponse = 0x8000_0005,

    /// <summary>VM destroyed: as <see cref="VmCreated"/>.</summary>
    VmDestroyed = 0x8000_0006,

    /// <summary>Response to VM destroyed: w3 = status.</summary>
    VmDestroyedResponse = 0x8000_0007,

    /// <summary>SPMD to SPMC FFA_VERSION request: w3 = the version.</summary>
    VersionRequest = 0x8000_0008,

    /// <summary>SPMC to SPMD FFA_VERSION response: w3 = the version, or −1.</summary>
    VersionResponse = 0x8000_0009,
}

/// <summary>The bits of <see cref="DirectMessageKind"/>: the framework bit, and the type under it.</summary>
public static class DirectMessageKinds
{
    /// <summary>w2 bit 31: a framework message.</summary>
    public const uint FrameworkBit = 1u << 31;

    /// <summary>w2 bits 7:0: the framework message type.</summary>
    public const uint TypeMask = 0xFF;

    /// <summary>The bits of w2 that must be zero: all of them for a partition message, bits 30:8 for a framework one.</summary>
    public static uint MbzMask(uint w2) => (w2 & FrameworkBit) != 0 ? ~(FrameworkBit | TypeMask) : uint.MaxValue;

    public static bool IsFramework(this DirectMessageKind kind) => ((uint)kind & FrameworkBit) != 0;

    /// <summary>The framework message type (bits 7:0).</summary>
    public static byte Type(this DirectMessageKind kind) => (byte)kind;
}

/// <summary>The five payload registers of a v1.0 direct message: w3..w7 (SMC32) or x3..x7 (SMC64).</summary>
public readonly record struct DirectMessagePayload(ulong Arg0, ulong Arg1, ulong Arg2, ulong Arg3, ulong Arg4);

/// <summary>
/// FFA_MSG_SEND_DIRECT_REQ (SMC32 or SMC64): w1 = sender in bits 31:16, receiver in bits 15:0; w2 = the message
/// kind; w3..w7 / x3..x7 = payload. SMC32 carries only the low 32 bits of each payload register.
/// </summary>
public readonly record struct MsgSendDirectReq(bool Is64, SenderReceiver Endpoints, DirectMessageKind Kind, DirectMessagePayload Payload)
    : IFfaMessage<MsgSendDirectReq>
{
    public static FfaFunction Abi => FfaFunction.MsgSendDirectReq;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MsgSendDirectReq value, out AbiViolation violation)
    {
        value = default;
        if (!DirectCodec.TryDecode(frame, FfaFunction.MsgSendDirectReq, out var is64, out var endpoints, out var kind, out var payload, out violation))
        {
            return false;
        }

        value = new MsgSendDirectReq(is64, endpoints, kind, payload);
        return true;
    }

    public void Encode(ref RegisterFrame frame) => DirectCodec.Encode(ref frame, FfaFunction.MsgSendDirectReq, Is64, Endpoints, Kind, Payload);
}

/// <summary>
/// FFA_MSG_SEND_DIRECT_RESP (SMC32 or SMC64): w1 = responder (the request's receiver) in bits 31:16 and the
/// request's sender in bits 15:0; w2 and the payload as in <see cref="MsgSendDirectReq"/>.
/// </summary>
public readonly record struct MsgSendDirectResp(bool Is64, SenderReceiver Endpoints, DirectMessageKind Kind, DirectMessagePayload Payload)
    : IFfaMessage<MsgSendDirectResp>
{
    public static FfaFunction Abi => FfaFunction.MsgSendDirectResp;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MsgSendDirectResp value, out AbiViolation violation)
    {
        value = default;
        if (!DirectCodec.TryDecode(frame, FfaFunction.MsgSendDirectResp, out var is64, out var endpoints, out var kind, out var payload, out violation))
        {
            return false;
        }

        value = new MsgSendDirectResp(is64, endpoints, kind, payload);
        return true;
    }

    public void Encode(ref RegisterFrame frame) => DirectCodec.Encode(ref frame, FfaFunction.MsgSendDirectResp, Is64, Endpoints, Kind, Payload);
}

/// <summary>The layout DIRECT_REQ and DIRECT_RESP share.</summary>
internal static class DirectCodec
{
    public static bool TryDecode(
        in RegisterFrame frame,
        FfaFunction function,
        out bool is64,
        out SenderReceiver endpoints,
        out DirectMessageKind kind,
        out DirectMessagePayload payload,
        out AbiViolation violation)
    {
        endpoints = default;
        kind = default;
        payload = default;
        if (!Wire.IsEither(frame, function, out is64, out violation)
            || !Wire.Word(frame, 1, 0, is64, out violation)
            || !Wire.Word(frame, 2, DirectMessageKinds.MbzMask(frame.W(2)), is64, out violation))
        {
            return false;
        }

        endpoints = SenderReceiver.Unpack(frame.W(1));
        kind = (DirectMessageKind)frame.W(2);
        payload = new DirectMessagePayload(
            Wire.R(frame, 3, is64),
            Wire.R(frame, 4, is64),
            Wire.R(frame, 5, is64),
            Wire.R(frame, 6, is64),
            Wire.R(frame, 7, is64));
        return true;
    }

    public static void Encode(ref RegisterFrame frame, FfaFunction function, bool is64, SenderReceiver endpoints, DirectMessageKind kind, DirectMessagePayload payload)
    {
        Wire.Only((uint)kind, ~DirectMessageKinds.MbzMask((uint)kind), nameof(kind));
        Wire.Fit(payload.Arg0 | payload.Arg1 | payload.Arg2 | payload.Arg3 | payload.Arg4, is64, nameof(payload));
        Wire.Begin(ref frame, function, is64);
        frame[1] = endpoints.Pack();
        frame[2] = (uint)kind;
        frame[3] = payload.Arg0;
        frame[4] = payload.Arg1;
        frame[5] = payload.Arg2;
        frame[6] = payload.Arg3;
        frame[7] = payload.Arg4;
    }
}

/// <summary>The fourteen payload registers of DIRECT_REQ2 and DIRECT_RESP2: x4..x17.</summary>
public readonly struct DirectMessage2Payload : IEquatable<DirectMessage2Payload>
{
    /// <summary>Payload registers: x4..x17.</summary>
    public const int Count = 14;

    /// <summary>The register that holds the first payload word.</summary>
    public const int FirstRegister = 4;

    private readonly Words14 _words;

    /// <summary>A payload from up to fourteen words (the rest are zero).</summary>
    public DirectMessage2Payload(params ReadOnlySpan<ulong> words)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(words.Length, Count, nameof(words));
        words.CopyTo(_words);
    }

    /// <summary>Payload word <paramref name="index"/> (0..13: x4..x17).</summary>
    public ulong this[int index] => AsSpan()[index];

    [UnscopedRef]
    public ReadOnlySpan<ulong> AsSpan() => _words;

    public bool Equals(DirectMessage2Payload other) => AsSpan().SequenceEqual(other.AsSpan());

    public override bool Equals(object? obj) => obj is DirectMessage2Payload other && Equals(other);

    public override int GetHashCode() => SpanHash.Of(AsSpan());

    public static bool operator ==(DirectMessage2Payload left, DirectMessage2Payload right) => left.Equals(right);

    public static bool operator !=(DirectMessage2Payload left, DirectMessage2Payload right) => !left.Equals(right);

    public override string ToString() => "[" + string.Join(", ", AsSpan().ToArray().Select(Describing.Hex)) + "]";

    internal static DirectMessage2Payload Read(in RegisterFrame frame) => new(frame.AsReadOnlySpan().Slice(FirstRegister, Count));

    internal void Write(ref RegisterFrame frame) => AsSpan().CopyTo(frame.AsSpan()[FirstRegister..]);
}

/// <summary>
/// FFA_MSG_SEND_DIRECT_REQ2 (v1.2, SMC64 only): x1 = sender in bits 31:16, receiver in bits 15:0 (bits 63:32 MBZ);
/// x2/x3 = the UUID of the service (byte 0 in x2 bits 7:0; Nil allowed); x4..x17 = payload. No framework messages.
/// </summary>
public readonly record struct MsgSendDirectReq2(SenderReceiver Endpoints, Uuid Uuid, DirectMessage2Payload Payload)
    : IFfaMessage<MsgSendDirectReq2>
{
    public static FfaFunction Abi => FfaFunction.MsgSendDirectReq2;

    public static CallConventions Conventions => CallConventions.Smc64;

    public static bool TryDecode(in RegisterFrame frame, out MsgSendDirectReq2 value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is64(frame, FfaFunction.MsgSendDirectReq2, out violation) || !Wire.Word(frame, 1, 0, true, out violation))
        {
            return false;
        }

        value = new MsgSendDirectReq2(
            SenderReceiver.Unpack(frame.W(1)),
            new Uuid(Wire.X(frame, 2), Wire.X(frame, 3)),
            DirectMessage2Payload.Read(frame));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.MsgSendDirectReq2, true);
        frame[1] = Endpoints.Pack();
        frame[2] = Uuid.Low;
        frame[3] = Uuid.High;
        Payload.Write(ref frame);
    }
}

/// <summary>
/// FFA_MSG_SEND_DIRECT_RESP2 (v1.2, SMC64 only): x1 = responder in bits 31:16, requester in bits 15:0;
/// x2/x3 MBZ; x4..x17 = payload.
/// </summary>
public readonly record struct MsgSendDirectResp2(SenderReceiver Endpoints, DirectMessage2Payload Payload)
    : IFfaMessage<MsgSendDirectResp2>
{
    public static FfaFunction Abi => FfaFunction.MsgSendDirectResp2;

    public static CallConventions Conventions => CallConventions.Smc64;

    public static bool TryDecode(in RegisterFrame frame, out MsgSendDirectResp2 value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is64(frame, FfaFunction.MsgSendDirectResp2, out violation)
            || !Wire.Word(frame, 1, 0, true, out violation)
            || !Wire.Full(frame, 2, ulong.MaxValue, out violation)
            || !Wire.Full(frame, 3, ulong.MaxValue, out violation))
        {
            return false;
        }

        value = new MsgSendDirectResp2(SenderReceiver.Unpack(frame.W(1)), DirectMessage2Payload.Read(frame));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.MsgSendDirectResp2, true);
        frame[1] = Endpoints.Pack();
        Payload.Write(ref frame);
    }
}

/// <summary>FFA_MSG_SEND2 flags (w2).</summary>
[Flags]
public enum MsgSend2Flags : uint
{
    None = 0,

    /// <summary>Bit 1: delay the schedule receiver interrupt until the normal world runs again (SPs only).</summary>
    DelaySri = 1u << 1,
}

/// <summary>
/// FFA_MSG_SEND2 (v1.1, SMC32 only): w1 bits 31:16 = the sender VM when the hypervisor forwards a VM's message
/// (0 otherwise), bits 15:0 MBZ; w2 = flags. The message itself is in the sender's TX buffer.
/// </summary>
public readonly record struct MsgSend2(EndpointId SenderVmId, MsgSend2Flags Flags) : IFfaMessage<MsgSend2>
{
    /// <summary>Bits of w1 that must be zero.</summary>
    public const uint W1Mbz = 0x0000_FFFF;

    /// <summary>Bits of w2 that must be zero.</summary>
    public const uint FlagsMbz = ~(uint)MsgSend2Flags.DelaySri;

    public static FfaFunction Abi => FfaFunction.MsgSend2;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MsgSend2 value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.MsgSend2, out violation)
            || !Wire.Word(frame, 1, W1Mbz, false, out violation)
            || !Wire.Word(frame, 2, FlagsMbz, false, out violation)
            || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        value = new MsgSend2(new EndpointId(Halves.High(frame.W(1))), (MsgSend2Flags)frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Only((uint)Flags, ~FlagsMbz, nameof(Flags));
        Wire.Begin(ref frame, FfaFunction.MsgSend2, false);
        frame[1] = Halves.Pack(SenderVmId.Value, 0);
        frame[2] = (uint)Flags;
    }
}

/// <summary>FFA_MSG_WAIT flags (w2).</summary>
[Flags]
public enum MsgWaitFlags : uint
{
    None = 0,

    /// <summary>Bit 0 (v1.2): keep ownership of the RX buffer instead of releasing it.</summary>
    RetainRxBuffer = 1,
}

/// <summary>
/// FFA_MSG_WAIT (SMC32): w1 MBZ, w2 = flags (v1.2; MBZ before), w3..w7 MBZ. Also what the normal world sees
/// returned from FFA_RUN when the SP goes idle.
/// </summary>
public readonly record struct MsgWait(MsgWaitFlags Flags) : IFfaMessage<MsgWait>
{
    /// <summary>Bits of w2 that must be zero.</summary>
    public const uint FlagsMbz = ~(uint)MsgWaitFlags.RetainRxBuffer;

    public static FfaFunction Abi => FfaFunction.MsgWait;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MsgWait value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.MsgWait, out violation)
            || !Wire.Word(frame, 1, uint.MaxValue, false, out violation)
            || !Wire.Word(frame, 2, FlagsMbz, false, out violation)
            || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        value = new MsgWait((MsgWaitFlags)frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Only((uint)Flags, ~FlagsMbz, nameof(Flags));
        Wire.Begin(ref frame, FfaFunction.MsgWait, false);
        frame[2] = (uint)Flags;
    }
}

/// <summary>FFA_RUN (SMC32): w1 = target endpoint in bits 31:16, vCPU index in bits 15:0.</summary>
public readonly record struct Run(TargetInfo Target) : IFfaMessage<Run>
{
    public static FfaFunction Abi => FfaFunction.Run;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out Run value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.Run, out violation) || !Wire.Unused(frame, 2, false, out violation))
        {
            return false;
        }

        value = new Run(TargetInfo.Unpack(frame.W(1)));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.Run, false);
        frame[1] = Target.Pack();
    }
}

/// <summary>
/// FFA_YIELD (SMC32): from an SP, w2/w3 = a 64-bit timeout (low word first); returned to the normal world with
/// w1 = the SP and vCPU to resume with FFA_RUN. w4..w7 MBZ.
/// </summary>
public readonly record struct Yield(TargetInfo Target, ulong Timeout) : IFfaMessage<Yield>
{
    public static FfaFunction Abi => FfaFunction.Yield;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out Yield value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.Yield, out violation) || !Wire.Unused(frame, 4, false, out violation))
        {
            return false;
        }

        value = new Yield(TargetInfo.Unpack(frame.W(1)), ((ulong)frame.W(3) << 32) | frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.Yield, false);
        frame[1] = Target.Pack();
        frame[2] = (uint)Timeout;
        frame[3] = Timeout >> 32;
    }
}

/// <summary>
/// FFA_INTERRUPT (SMC32): w1 = the preempted SP and vCPU (to the normal world), w2 = the interrupt ID (to an SP
/// vCPU in the waiting state). w3..w7 MBZ.
/// </summary>
public readonly record struct Interrupt(TargetInfo Target, uint InterruptId) : IFfaMessage<Interrupt>
{
    public static FfaFunction Abi => FfaFunction.Interrupt;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out Interrupt value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.Interrupt, out violation) || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        value = new Interrupt(TargetInfo.Unpack(frame.W(1)), frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.Interrupt, false);
        frame[1] = Target.Pack();
        frame[2] = InterruptId;
    }
}

/// <summary>
/// Legacy FFA_MSG_SEND (v1.0, removed in v1.1; SMC32): w1 = sender/receiver, w2 MBZ, w3 = message length,
/// w4 = attributes (bit 0 blocking, per TF-A; the rest are kept as given). w5..w7 MBZ.
/// </summary>
public readonly record struct MsgSend(SenderReceiver Endpoints, uint Length, uint Attributes) : IFfaMessage<MsgSend>
{
    /// <summary>Attribute bit 0: the send blocks.</summary>
    public const uint Blocking = 1;

    public static FfaFunction Abi => FfaFunction.MsgSend;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MsgSend value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.MsgSend, out violation)
            || !Wire.Word(frame, 2, uint.MaxValue, false, out violation)
            || !Wire.Unused(frame, 5, false, out violation))
        {
            return false;
        }

        value = new MsgSend(SenderReceiver.Unpack(frame.W(1)), frame.W(3), frame.W(4));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.MsgSend, false);
        frame[1] = Endpoints.Pack();
        frame[3] = Length;
        frame[4] = Attributes;
    }
}

/// <summary>Legacy FFA_MSG_POLL (v1.0, removed in v1.1; SMC32): no arguments.</summary>
public readonly record struct MsgPoll : IFfaMessage<MsgPoll>
{
    public static FfaFunction Abi => FfaFunction.MsgPoll;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MsgPoll value, out AbiViolation violation)
    {
        value = default;
        return Wire.Is32(frame, FfaFunction.MsgPoll, out violation) && Wire.Unused(frame, 1, false, out violation);
    }

    public void Encode(ref RegisterFrame frame) => Wire.Begin(ref frame, FfaFunction.MsgPoll, false);
}

/// <summary>
/// FFA_NORMAL_WORLD_RESUME (SMC32, SPMC to SPMD only): resume the normal world after a secure interrupt that
/// arrived while it ran. No arguments.
/// </summary>
public readonly record struct NormalWorldResume : IFfaMessage<NormalWorldResume>
{
    public static FfaFunction Abi => FfaFunction.NormalWorldResume;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out NormalWorldResume value, out AbiViolation violation)
    {
        value = default;
        return Wire.Is32(frame, FfaFunction.NormalWorldResume, out violation) && Wire.Unused(frame, 1, false, out violation);
    }

    public void Encode(ref RegisterFrame frame) => Wire.Begin(ref frame, FfaFunction.NormalWorldResume, false);
}

/// <summary>
/// FFA_EL3_INTR_HANDLE (v1.2, SMC32, SPMC to SPMD only): hand an EL3-owned interrupt to EL3. No arguments.
/// </summary>
public readonly record struct El3IntrHandle : IFfaMessage<El3IntrHandle>
{
    public static FfaFunction Abi => FfaFunction.El3IntrHandle;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out El3IntrHandle value, out AbiViolation violation)
    {
        value = default;
        return Wire.Is32(frame, FfaFunction.El3IntrHandle, out violation) && Wire.Unused(frame, 1, false, out violation);
    }

    public void Encode(ref RegisterFrame frame) => Wire.Begin(ref frame, FfaFunction.El3IntrHandle, false);
}

/// <summary>
/// FFA_SECONDARY_EP_REGISTER (v1.1, SMC32 or SMC64; multi-vCPU SPs): w1/x1 = the entry point of secondary vCPUs.
/// </summary>
public readonly record struct SecondaryEpRegister(bool Is64, ulong EntryPoint) : IFfaMessage<SecondaryEpRegister>
{
    public static FfaFunction Abi => FfaFunction.SecondaryEpRegister;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out SecondaryEpRegister value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, FfaFunction.SecondaryEpRegister, out var is64, out violation)
            || !Wire.Unused(frame, 2, is64, out violation))
        {
            return false;
        }

        value = new SecondaryEpRegister(is64, Wire.R(frame, 1, is64));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        var entryPoint = Wire.Fit(EntryPoint, Is64, nameof(EntryPoint));
        Wire.Begin(ref frame, FfaFunction.SecondaryEpRegister, Is64);
        frame[1] = entryPoint;
    }
}

/// <summary>The characters of one FFA_CONSOLE_LOG call: up to 128 bytes, as the endpoint wrote them.</summary>
public readonly struct ConsoleLogText : IEquatable<ConsoleLogText>
{
    /// <summary>The most an SMC64 call carries: x2..x17.</summary>
    public const int MaxLength = 128;

    /// <summary>The most an SMC32 call carries: w2..w7.</summary>
    public const int MaxLength32 = 24;

    private readonly Bytes128 _bytes;

    /// <summary>Text from raw bytes (at most <see cref="MaxLength"/>).</summary>
    public ConsoleLogText(ReadOnlySpan<byte> chars)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chars.Length, MaxLength, nameof(chars));
        chars.CopyTo(_bytes);
        Length = chars.Length;
    }

    public int Length { get; }

    /// <summary>Text from a string, as UTF-8 bytes.</summary>
    public static ConsoleLogText FromString(string text) => new(Encoding.UTF8.GetBytes(text));

    [UnscopedRef]
    public ReadOnlySpan<byte> AsSpan() => ((ReadOnlySpan<byte>)_bytes)[..Length];

    public bool Equals(ConsoleLogText other) => AsSpan().SequenceEqual(other.AsSpan());

    public override bool Equals(object? obj) => obj is ConsoleLogText other && Equals(other);

    public override int GetHashCode() => SpanHash.Of(AsSpan());

    public static bool operator ==(ConsoleLogText left, ConsoleLogText right) => left.Equals(right);

    public static bool operator !=(ConsoleLogText left, ConsoleLogText right) => !left.Equals(right);

    /// <summary>The bytes read as UTF-8.</summary>
    public override string ToString() => Encoding.UTF8.GetString(AsSpan());
}

/// <summary>
/// FFA_CONSOLE_LOG (v1.2, SMC32 or SMC64): w1 bits 7:0 = character count (bits 31:8 MBZ); the characters packed
/// little-endian from w2 (SMC32: w2..w7, at most 24) or x2 (SMC64: x2..x17, at most 128).
/// </summary>
public readonly record struct ConsoleLog(bool Is64, ConsoleLogText Text) : IFfaMessage<ConsoleLog>
{
    /// <summary>Bits of w1 that must be zero.</summary>
    public const uint CountMbz = 0xFFFF_FF00;

    public static FfaFunction Abi => FfaFunction.ConsoleLog;

    public static CallConventions Conventions => CallConventions.Both;

    /// <summary>The most characters one call carries in a convention.</summary>
    public static int MaxLength(bool is64) => is64 ? ConsoleLogText.MaxLength : ConsoleLogText.MaxLength32;

    public static bool TryDecode(in RegisterFrame frame, out ConsoleLog value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, FfaFunction.ConsoleLog, out var is64, out violation)
            || !Wire.Word(frame, 1, CountMbz, is64, out violation))
        {
            return false;
        }

        var count = (int)frame.W(1);
        if (count > MaxLength(is64))
        {
            violation = AbiViolation.Range(1, (uint)count);
            return false;
        }

        Span<byte> chars = stackalloc byte[ConsoleLogText.MaxLength];
        var size = is64 ? sizeof(ulong) : sizeof(uint);
        var registers = MaxLength(is64) / size;
        for (var r = 0; r < registers; r++)
        {
            var word = Wire.R(frame, 2 + r, is64);
            var unused = UnusedBytes(count - (r * size), size);
            if ((word & unused) != 0)
            {
                violation = AbiViolation.Mbz(2 + r, word & unused);
                return false;
            }

            if (is64)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(chars[(r * size)..], word);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(chars[(r * size)..], (uint)word);
            }
        }

        value = new ConsoleLog(is64, new ConsoleLogText(chars[..count]));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        var chars = Text.AsSpan();
        Wire.AtMost((ulong)chars.Length, (ulong)MaxLength(Is64), nameof(Text));
        Wire.Begin(ref frame, FfaFunction.ConsoleLog, Is64);
        frame[1] = (uint)chars.Length;
        var size = Is64 ? sizeof(ulong) : sizeof(uint);
        for (var i = 0; i < chars.Length; i++)
        {
            frame[2 + (i / size)] |= (ulong)chars[i] << (8 * (i % size));
        }
    }

    /// <summary>The bits of a character register past the count: <paramref name="used"/> bytes of it hold characters.</summary>
    internal static ulong UnusedBytes(int used, int size)
    {
        var all = size == sizeof(ulong) ? ulong.MaxValue : uint.MaxValue;
        return used <= 0 ? all : used >= size ? 0 : all & (ulong.MaxValue << (8 * used));
    }
}

/// <summary>How the describer reads the messaging calls.</summary>
internal static class MessagingDescriber
{
    public static void Direct(Describing d, bool request)
    {
        var endpoints = d.SenderAndReceiver("message");
        d.MbzWord(1, 0);
        var w2 = d.W(2);
        var kind = (DirectMessageKind)w2;
        var framework = kind.IsFramework();
        d.Field("flags", w2, framework ? "framework message" : "partition message");
        d.Field("framework", framework ? 1UL : 0UL, framework ? "yes" : "no");
        if (framework)
        {
            d.Field("message_type", kind.Type(), FrameworkName(kind));
        }

        d.MbzWord(2, DirectMessageKinds.MbzMask(w2));
        for (var i = 0; i < 5; i++)
        {
            d.Field("payload" + i, d.R(3 + i), framework ? FrameworkPayloadText(kind, i, d.W(3 + i)) : string.Empty);
        }

        if (request)
        {
            NotFromAnSpToTheNormalWorld(d, endpoints);
        }

        if (framework && d.Caller == CallerKind.Vm)
        {
            d.Warn("a VM sends no framework messages: they come from the hypervisor, the SPMD or the SPMC");
        }
    }

    public static void Direct2(Describing d, bool request)
    {
        var endpoints = d.SenderAndReceiver("message");
        d.MbzWord(1, 0);
        if (request)
        {
            var x2 = d.X(2);
            d.Uuid(new Uuid(x2, d.X(3)));
            if ((x2 & DirectMessageKinds.FrameworkBit) != 0 && (x2 & ~(ulong)(DirectMessageKinds.FrameworkBit | DirectMessageKinds.TypeMask)) == 0)
            {
                d.Warn($"x2 looks like a framework-message flags word ({Describing.Hex(x2)}): REQ2 has no framework messages; x2/x3 are the UUID");
            }

            NotFromAnSpToTheNormalWorld(d, endpoints);
        }
        else
        {
            d.MbzFull(2, ulong.MaxValue);
            d.MbzFull(3, ulong.MaxValue);
        }

        for (var i = 0; i < DirectMessage2Payload.Count; i++)
        {
            d.Field("payload" + i, d.X(DirectMessage2Payload.FirstRegister + i));
        }
    }

    public static void MsgSend2(Describing d)
    {
        var sender = Halves.High(d.W(1));
        if (sender == 0)
        {
            d.Field("sender_vm", 0, "0: the caller sends for itself (the receiver is in the header in its TX buffer)");
        }
        else
        {
            d.Endpoint("sender_vm", sender);
        }

        d.MbzWord(1, Calls.MsgSend2.W1Mbz);
        var flags = d.W(2);
        d.Field("flags", flags, Describing.FlagText(flags, ((ulong)MsgSend2Flags.DelaySri, "delay SRI")));
        d.MbzWord(2, Calls.MsgSend2.FlagsMbz);
        d.HypervisorOnlyId("w1[31:16]", sender, "when it forwards a VM's message to the SPMC");
        if ((flags & (uint)MsgSend2Flags.DelaySri) != 0 && d.Caller != CallerKind.Sp)
        {
            d.Warn("the delay-SRI flag is for SPs only; from a VM or the hypervisor it is INVALID_PARAMETERS (Hafnium)");
        }

        d.Unused(3);
    }

    public static void MsgWait(Describing d)
    {
        d.MbzWord(1, uint.MaxValue);
        var flags = d.W(2);
        d.Field("flags", flags, Describing.FlagText(flags, ((ulong)MsgWaitFlags.RetainRxBuffer, "retain RX buffer")));
        d.MbzWord(2, Calls.MsgWait.FlagsMbz);
        if ((flags & (uint)MsgWaitFlags.RetainRxBuffer) != 0)
        {
            d.Since(FfaVersion.V1_2, "the retain-RX-buffer flag (w2 bit 0)");
        }

        d.Unused(3);
    }

    public static void Target(Describing d)
    {
        var target = TargetInfo.Unpack(d.W(1));
        d.Endpoint("endpoint", target.Endpoint.Value);
        d.Field("vcpu", target.Vcpu);
    }

    public static void Run(Describing d)
    {
        Target(d);
        d.Unused(2);
    }

    public static void Yield(Describing d)
    {
        Target(d);
        var timeout = ((ulong)d.W(3) << 32) | d.W(2);
        d.Field("timeout", timeout, timeout == 0 ? "none" : string.Empty);
        d.Unused(4);
    }

    public static void Interrupt(Describing d)
    {
        Target(d);
        d.Field("interrupt_id", d.W(2));
        d.Unused(3);
    }

    public static void MsgSend(Describing d)
    {
        d.SenderAndReceiver("message");
        d.MbzWord(2, uint.MaxValue);
        d.Field("length", d.W(3));
        d.Field("attributes", d.W(4), Describing.FlagText(d.W(4), (Calls.MsgSend.Blocking, "blocking")));
        d.Unused(5);
    }

    public static void SpmcToSpmd(Describing d)
    {
        d.Warn($"{d.Abi} is an SPMC-to-SPMD call (secure physical instance); no VM, SP or hypervisor makes it");
        d.Unused(1);
    }

    public static void SecondaryEpRegister(Describing d)
    {
        d.Hex("entry_point", d.R(1));
        if (d.Caller != CallerKind.Sp)
        {
            d.Warn("FFA_SECONDARY_EP_REGISTER is for multi-vCPU SPs only");
        }

        d.Unused(2);
    }

    public static void ConsoleLog(Describing d)
    {
        var count = (int)(d.W(1) & ~Calls.ConsoleLog.CountMbz);
        var max = Calls.ConsoleLog.MaxLength(d.Is64);
        d.Field("char_count", (uint)count);
        d.MbzWord(1, Calls.ConsoleLog.CountMbz);
        if (count == 0)
        {
            d.Warn("a character count of 0 logs nothing");
        }
        else if (count > max)
        {
            d.Warn($"{count} characters do not fit: {(d.Is64 ? "SMC64" : "SMC32")} carries at most {max}");
        }

        var size = d.Is64 ? sizeof(ulong) : sizeof(uint);
        var chars = new byte[Math.Min(count, max)];
        for (var r = 0; r < max / size; r++)
        {
            var word = d.R(2 + r);
            d.MbzFull(2 + r, Calls.ConsoleLog.UnusedBytes(count - (r * size), size));
            for (var b = 0; b < size && (r * size) + b < chars.Length; b++)
            {
                chars[(r * size) + b] = (byte)(word >> (8 * b));
            }
        }

        d.Field("chars", (ulong)chars.Length, Printable(chars));
    }

    private static void NotFromAnSpToTheNormalWorld(Describing d, SenderReceiver endpoints)
    {
        if (d.Caller == CallerKind.Sp && !endpoints.Receiver.IsSecure)
        {
            d.Warn("SPs cannot send direct requests to normal-world endpoints");
        }
    }

    private static string FrameworkName(DirectMessageKind kind) => kind switch
    {
        DirectMessageKind.PowerManagementRequest => "PSCI power-management request",
        DirectMessageKind.WarmBootRequest => "warm-boot request",
        DirectMessageKind.PowerManagementResponse => "PSCI power-management response",
        DirectMessageKind.VmCreated => "VM created",
        DirectMessageKind.VmCreatedResponse => "VM created response",
        DirectMessageKind.VmDestroyed => "VM destroyed",
        DirectMessageKind.VmDestroyedResponse => "VM destroyed response",
        DirectMessageKind.VersionRequest => "FFA_VERSION request",
        DirectMessageKind.VersionResponse => "FFA_VERSION response",
        _ => "not a v1.2 framework message",
    };

    private static string FrameworkPayloadText(DirectMessageKind kind, int index, uint word) => (kind, index) switch
    {
        (DirectMessageKind.VersionRequest or DirectMessageKind.VersionResponse, 0) =>
            word == FfaVersion.NotSupported ? "NOT_SUPPORTED" : FfaVersion.TryDecode(word, out var v) ? v.ToString() : "not a version",
        (DirectMessageKind.VmCreated or DirectMessageKind.VmDestroyed, 0) => "VM handle low",
        (DirectMessageKind.VmCreated or DirectMessageKind.VmDestroyed, 1) => "VM handle high",
        (DirectMessageKind.VmCreated or DirectMessageKind.VmDestroyed, 2) => "VM " + FfaDescriber.FormatEndpoint(new EndpointId((ushort)word)),
        (DirectMessageKind.VmCreatedResponse or DirectMessageKind.VmDestroyedResponse, 0) =>
            word == 0 ? "success" : FfaErrors.Name((int)word),
        (DirectMessageKind.WarmBootRequest, 0) => word switch
        {
            0 => "exit from suspend-to-RAM",
            1 => "exit from low power",
            _ => "reserved warm-boot type",
        },
        _ => string.Empty,
    };

    private static string Printable(ReadOnlySpan<byte> chars)
    {
        var text = new StringBuilder(chars.Length);
        foreach (var c in chars)
        {
            if (c is >= 0x20 and < 0x7F)
            {
                text.Append((char)c);
            }
            else
            {
                text.Append(c switch
                {
                    (byte)'\n' => "\\n",
                    (byte)'\r' => "\\r",
                    (byte)'\t' => "\\t",
                    _ => $"\\x{c:X2}",
                });
            }
        }

        return text.ToString();
    }
}
