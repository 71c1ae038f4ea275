using System.Globalization;
using Firmament.Abi.Gunyah.Rm;

namespace Firmament.Abi.Gunyah;

/// <summary>
/// Reads Gunyah frames and RM RPC packets in words, for <c>firmament decode</c> and traces: the spec-style name,
/// every argument by its reference name, and a warning for every reserved slot or MBZ bit set and every argument the
/// hypervisor is known to refuse. Not for the hot path (it allocates).
/// </summary>
public static class GunyahDescriber
{
    /// <summary>Convention of a hypercall made through SMCCC.</summary>
    public const string SmcccConvention = "HVC64 (SMCCC)";

    /// <summary>Convention of the SMC32 service calls (Call UID, revision).</summary>
    public const string SmcccServiceConvention = "HVC32 (SMCCC)";

    /// <summary>Convention of a return frame.</summary>
    public const string ReturnConvention = "return";

    /// <summary>A frame in the SMCCC convention: x0 = function ID, arguments from x1.</summary>
    public static CallDescription Describe(in RegisterFrame frame)
    {
        var x = frame.AsReadOnlySpan();
        var w0 = frame.W(0);
        if (GunyahServiceCalls.TryClassify(w0, out var service))
        {
            var call = new CallDescription(GunyahServiceCalls.Name(service), w0) { Convention = SmcccServiceConvention };
            if (service == GunyahServiceCall.CallCount)
            {
                call.Warn("CALL_COUNT is deprecated: the hypervisor answers SMCCC_UNKNOWN_FUNCTION (-1)");
            }

            return call;
        }

        var known = GunyahHypercalls.TryClassify(w0, out var info, out var problem);
        var number = GunyahHypercalls.NumberOf(w0);
        if (!known && problem == GunyahIdProblem.ReservedBitsSet && GunyahHypercalls.TryGet(number, out info))
        {
            known = true;
        }

        if (!known)
        {
            var unknown = new CallDescription("UNKNOWN", w0) { Convention = new FunctionId(w0).Is64 ? SmcccConvention : SmcccServiceConvention };
            unknown.Warn(Reason(w0, problem));
            return unknown;
        }

        var description = new CallDescription(info.SpecName, w0) { Convention = SmcccConvention };
        if (problem == GunyahIdProblem.ReservedBitsSet)
        {
            description.Warn(Reason(w0, problem));
        }

        if ((x[0] >> 32) != 0)
        {
            description.Warn($"x0 bits 63:32 (0x{x[0] >> 32:X}) are not part of the function ID and are ignored");
        }

        DescribeArguments(description, info, x, GunyahFrame.First(GunyahConvention.Smccc));
        return description;
    }

    /// <summary>
    /// A frame in the native convention: the hypercall number is in the HVC immediate, arguments from x0. The
    /// description's function ID is the SMCCC ID of the same hypercall (0 when the immediate is not Gunyah's).
    /// </summary>
    public static CallDescription DescribeNative(ushort hvcImmediate, in RegisterFrame frame)
    {
        var convention = $"HVC #0x{hvcImmediate:X4}";
        if (hvcImmediate is < GunyahHypercalls.NativeBase or > GunyahHypercalls.NativeLast)
        {
            return new CallDescription("UNKNOWN", 0) { Convention = convention }
                .Warn($"HVC #0x{hvcImmediate:X4} is outside Gunyah's immediates 0x6000-0x61FF");
        }

        var number = (ushort)(hvcImmediate - GunyahHypercalls.NativeBase);
        if (!GunyahHypercalls.TryGet(number, out var info))
        {
            return new CallDescription("UNKNOWN", GunyahHypercalls.SmcccBase | number) { Convention = convention }
                .Warn($"unknown hypercall number 0x{number:X2}: {GunyahHypercalls.DescribeUnknown(number)}");
        }

        var description = new CallDescription(info.SpecName, info.SmcccId) { Convention = convention };
        DescribeArguments(description, info, frame.AsReadOnlySpan(), GunyahFrame.First(GunyahConvention.Native));
        return description;
    }

    /// <summary>The return frame of a hypercall (the same in both conventions): error and named results.</summary>
    public static CallDescription DescribeResult(GunyahHypercall call, in RegisterFrame frame)
    {
        var info = GunyahHypercalls.Info(call);
        var x = frame.AsReadOnlySpan();
        var description = new CallDescription(info.SpecName, info.SmcccId) { Convention = ReturnConvention };
        for (var i = 0; i < info.Outputs.Count; i++)
        {
            var (name, kind) = info.Outputs[i];
            var value = x[i];
            switch (kind)
            {
                case GunyahArgKind.Error:
                    description.Fields.Add(DescribedField.OfSigned(name, (long)value, GunyahErrors.Name((long)value)));
                    if (!GunyahErrors.TryFromRegister(value, out _))
                    {
                        description.Warn($"x{i}: 0x{value:X} is not a sign-extended 32-bit error");
                    }

                    break;
                case GunyahArgKind.Boolean:
                    description.Add(name, value, value switch { 0 => "false", 1 => "true", _ => "not a boolean" });
                    if (value > 1)
                    {
                        description.Warn($"x{i} ({name}): {value} is not 0 or 1");
                    }

                    break;
                case GunyahArgKind.VcpuRunState:
                    description.Add(name, value, VcpuRunStates.Name(value));
                    break;
                case GunyahArgKind.Cap:
                    description.Add(name, value, CapText(value));
                    break;
                default:
                    description.Add(name, value, ResultText(call, name, value));
                    break;
            }
        }

        if (call == GunyahHypercall.HypervisorIdentify)
        {
            var api = new HypApiInfo(x[0]);
            description.CheckMbz("x0 (hyp_api_info) bits 55:16", x[0], HypApiInfo.ReservedMask);
            if (api.ApiVersion != HypApiInfo.CurrentApiVersion)
            {
                description.Warn($"API version {api.ApiVersion}: Linux accepts only version 1");
            }
        }

        return description;
    }

    /// <summary>One RM RPC packet: header fields, message name, and for a reply's first packet the RM error word.</summary>
    public static CallDescription DescribeRmPacket(ReadOnlySpan<byte> packet)
    {
        var status = RmPacketHeader.TryRead(packet, out var header);
        if (status == RmHeaderStatus.TooShort)
        {
            return new CallDescription("UNKNOWN", 0) { Convention = "RM RPC" }
                .Add("length", (ulong)packet.Length)
                .Warn($"{packet.Length} bytes is shorter than the 8-byte header: receivers drop it");
        }

        var name = RmMessageIds.Name(header.MessageId);
        var description = new CallDescription(name ?? "UNKNOWN", header.MessageId) { Convention = "RM RPC " + TypeName(header.Type) };
        description
            .Add("version", (ulong)(packet[0] & 0xF))
            .Add("header_words", (ulong)(packet[0] >> 4))
            .Add("type", (ulong)header.Type, TypeName(header.Type))
            .Add("num_fragments", header.Fragments)
            .Add("seq", header.Sequence)
            .Add("msg_id", header.MessageId, name ?? "unknown")
            .Add("payload_length", (ulong)(packet.Length - RmRpc.HeaderSize));

        switch (status)
        {
            case RmHeaderStatus.WrongVersion:
                description.Warn($"API version {packet[0] & 0xF} is not 1: receivers drop the packet");
                break;
            case RmHeaderStatus.WrongHeaderWords:
                description.Warn($"header words {packet[0] >> 4} is not 2: receivers drop the packet");
                break;
            case RmHeaderStatus.TooManyFragments:
                description.Warn($"num_fragments {header.Fragments} is above {RmRpc.MaxFragments}: receivers drop the packet");
                break;
            default:
                break;
        }

        if (packet.Length > RmRpc.PacketSize)
        {
            description.Warn($"{packet.Length} bytes is longer than one {RmRpc.PacketSize}-byte RPC message");
        }

        if (header.MessageId == 0)
        {
            description.Warn("message ID 0 is reserved");
        }
        else if (name is null)
        {
            description.Warn($"unknown message ID 0x{header.MessageId:X8}");
        }
        else if (header.Type != RmMessageType.Continuation
            && (header.Type == RmMessageType.Notification) != RmMessageIds.IsNotification(header.MessageId))
        {
            description.Warn($"{name} is {(RmMessageIds.IsNotification(header.MessageId) ? "a notification" : "not a notification")} but the packet is a {TypeName(header.Type)}");
        }

        if (header.Type == RmMessageType.Reply)
        {
            if (RmErrors.TryReadReply(packet[RmRpc.HeaderSize..], out var error, out _))
            {
                description.Add("error", (uint)error, RmErrors.Name((uint)error));
            }
            else
            {
                description.Warn("a reply's payload starts with a 4-byte RM error; this one is shorter");
            }
        }

        return description;
    }

    private static void DescribeArguments(CallDescription description, GunyahHypercallInfo info, ReadOnlySpan<ulong> x, int first)
    {
        for (var i = 0; i < info.Inputs.Count; i++)
        {
            var register = first + i;
            var (name, kind) = info.Inputs[i];
            DescribeArgument(description, info.Call, name, kind, register, x[register]);
        }

        var slot = first + info.Inputs.Count;
        switch (info.Reserved)
        {
            case GunyahReservedSlot.Zero when x[slot] != 0:
                description.Warn($"x{slot}: reserved, must be zero (0x{x[slot]:X})");
                break;
            case GunyahReservedSlot.AllOnes when x[slot] != ulong.MaxValue:
                description.Warn($"x{slot}: reserved, must be -1 (0x{x[slot]:X})");
                break;
            default:
                break;
        }

        var call = info.Call;
        if (call == GunyahHypercall.DoorbellReceive && x[first + 1] == 0)
        {
            description.Warn("clear_flags is zero: the hypervisor answers ERROR_ARGUMENT_INVALID");
        }
        else if (call == GunyahHypercall.MsgqueueSend && x[first + 1] == 0)
        {
            description.Warn("size is zero: the hypervisor answers ERROR_ARGUMENT_SIZE");
        }
        else if (call == GunyahHypercall.MsgqueueSend && x[first + 1] > MsgqueueCreateInfo.MaxMaxMsgSize)
        {
            description.Warn($"size {x[first + 1]} is above any queue's max_msg_size ({MsgqueueCreateInfo.MaxMaxMsgSize}): ERROR_ARGUMENT_SIZE");
        }
        else if (call == GunyahHypercall.CspaceRevokeCapFrom)
        {
            description.Warn("the hypervisor does not implement this call (ERROR_UNIMPLEMENTED); cspace_revoke_caps_from revokes children");
        }
        else if (call == GunyahHypercall.CspaceCopyCapFrom && (uint)x[first + 3] == 0)
        {
            description.Warn("rights_mask is zero: the copy would have no rights (ERROR_CSPACE_INSUFFICIENT_RIGHTS)");
        }
    }

    private static void DescribeArgument(CallDescription description, GunyahHypercall call, string name, GunyahArgKind kind, int register, ulong value)
    {
        switch (kind)
        {
            case GunyahArgKind.Cap:
                description.Add(name, value, CapText(value));
                break;
            case GunyahArgKind.VirqInfo:
                var virq = VirqInfo.Unpack(value);
                description.Add("virq", virq.Virq, VirqText(virq.Virq)).Add("target_vcpu", virq.TargetVcpu);
                description.CheckMbz($"x{register} (virq_info) bits 63:32", value, VirqInfo.MbzMask);
                break;
            case GunyahArgKind.MsgqueueSendOptions:
                description.Add(name, value, (value & 1) != 0 ? "PUSH" : string.Empty).Add("push", value & 1);
                description.CheckMbz($"x{register} (flags) bits 63:1", value, MsgqueueSend.FlagsMbzMask);
                break;
            case GunyahArgKind.MsgqueueCreateInfo:
                MsgqueueCreateInfo.TryUnpack(value, out var info, out _);
                description.Add("queue_depth", info.QueueDepth).Add("max_msg_size", info.MaxMsgSize);
                description.CheckMbz($"x{register} (create_info) bits 63:32", value, MsgqueueCreateInfo.MbzMask);
                if (!info.IsQueueDepthInRange)
                {
                    description.Warn($"queue_depth {info.QueueDepth} is outside 1..{MsgqueueCreateInfo.MaxQueueDepth}: ERROR_ARGUMENT_INVALID");
                }

                if (!info.IsMaxMsgSizeInRange)
                {
                    description.Warn($"max_msg_size {info.MaxMsgSize} is outside 1..{MsgqueueCreateInfo.MaxMaxMsgSize}: ERROR_ARGUMENT_INVALID");
                }

                break;
            case GunyahArgKind.Threshold:
                description.Fields.Add(DescribedField.OfSigned(name, (long)value, value switch
                {
                    MsgqueueThreshold.Unchanged => "unchanged",
                    MsgqueueThreshold.QueueDepth => "queue depth",
                    _ => string.Empty,
                }));
                if (call == GunyahHypercall.MsgqueueConfigureSend && value == MsgqueueThreshold.QueueDepth)
                {
                    description.Warn("threshold -2 (queue depth) is defined for configure_receive only: ERROR_ARGUMENT_INVALID");
                }
                else if (call == GunyahHypercall.MsgqueueConfigureReceive && value == 0)
                {
                    description.Warn("threshold 0 is invalid for configure_receive: ERROR_ARGUMENT_INVALID");
                }

                break;
            case GunyahArgKind.Delay:
                description.Fields.Add(DescribedField.OfSigned(name, (long)value, value == ulong.MaxValue ? "none" : string.Empty));
                if (value != ulong.MaxValue)
                {
                    description.Warn($"delay must be -1 (threshold delays are not implemented): ERROR_UNIMPLEMENTED (got 0x{value:X})");
                }

                break;
            case GunyahArgKind.Rights:
                description.Add(name, value);
                description.CheckMbz($"x{register} (rights_mask) bits 63:32", value, CspaceCopyCapFrom.RightsMbzMask);
                break;
            default:
                description.Add(name, value);
                break;
        }
    }

    private static string Reason(uint w0, GunyahIdProblem problem)
    {
        var id = new FunctionId(w0);
        var callClass = (w0 >> 14) & 0b11;
        return problem switch
        {
            GunyahIdProblem.NotVendorHypervisor =>
                $"w0 0x{w0:X8}: owner {(int)id.Owner} is not 6 (vendor hypervisor): not a Gunyah call",
            GunyahIdProblem.WrongCallClass => callClass switch
            {
                0b00 => $"w0 0x{w0:X8}: call class 0b00 is a Gunyah platform call, not a hypercall",
                0b11 => $"w0 0x{w0:X8}: call class 0b11 (service) but function 0x{w0 & 0x3FFF:X4} is not CALL_UID or REVISION",
                _ => $"w0 0x{w0:X8}: call class 0b01 is reserved",
            },
            GunyahIdProblem.NotFastCall =>
                $"w0 0x{w0:X8}: hypercall class but bit 31 (fast call) is clear: the hypervisor answers SMCCC_UNKNOWN_FUNCTION",
            GunyahIdProblem.NotSmc64 =>
                $"w0 0x{w0:X8}: hypercall class but bit 30 (SMC64) is clear: the hypervisor answers SMCCC_UNKNOWN_FUNCTION",
            GunyahIdProblem.ReservedBitsSet =>
                $"w0 0x{w0:X8}: reserved bits 23:17 set (0x{w0 & GunyahHypercalls.ReservedIdBits:X}); the hypervisor ignores them",
            _ => $"unknown hypercall number 0x{GunyahHypercalls.NumberOf(w0):X2}: {GunyahHypercalls.DescribeUnknown(GunyahHypercalls.NumberOf(w0))}",
        };
    }

    private static string CapText(ulong value) => value == ulong.MaxValue ? "CSPACE_CAP_INVALID" : string.Empty;

    /// <summary>How Linux maps a VIRQ to a GIC interrupt: 32–1019 SPI, 4096–5119 extended SPI.</summary>
    private static string VirqText(uint virq) => virq switch
    {
        >= 32 and <= 1019 => "SPI " + (virq - 32).ToString(CultureInfo.InvariantCulture),
        >= 4096 and <= 5119 => "ESPI " + (virq - 4096).ToString(CultureInfo.InvariantCulture),
        _ => string.Empty,
    };

    private static string ResultText(GunyahHypercall call, string name, ulong value) => (call, name) switch
    {
        (GunyahHypercall.HypervisorIdentify, "hyp_api_info") => new HypApiInfo(value).ToString(),
        (GunyahHypercall.HypervisorIdentify, "api_flags0") => new HypApiFlags0(value).ToString(),
        (GunyahHypercall.HypervisorIdentify, "api_flags1") => ((ApiFlags1)value).ToString(),
        _ => string.Empty,
    };

    private static string TypeName(RmMessageType type) => type switch
    {
        RmMessageType.Continuation => "CONTINUATION",
        RmMessageType.Request => "REQUEST",
        RmMessageType.Reply => "REPLY",
        _ => "NOTIFICATION",
    };
}
