using System.Globalization;
using Firmament.Abi.Ffa.Calls;

namespace Firmament.Abi.Ffa;

/// <summary>
/// Reads any FF-A frame in words, for people (the <c>firmament decode</c> command, traces): the ABI's spec name, every
/// field named and interpreted, and a warning for everything suspicious — MBZ bits set, an ABI newer than the
/// caller's version, a convention the ABI does not have, IDs a caller may not use. It never throws and never
/// refuses a frame: where the codecs in <see cref="Calls"/> say "no", this says why.
/// </summary>
/// <remarks>
/// Field names are a contract (the CLI's JSON): lower-case snake_case after the spec, e.g. <c>sender</c>,
/// <c>receiver</c>, <c>vcpu</c>, <c>endpoint</c>, <c>flags</c>, <c>bitmap</c>, <c>major</c>, <c>minor</c>,
/// <c>error</c>. The per-ABI readers sit beside each ABI's codec in <c>Calls/</c>.
/// </remarks>
public static class FfaDescriber
{
    /// <summary>Describes a call or a return.</summary>
    public static CallDescription Describe(in RegisterFrame frame, CallerKind caller, FfaVersion version) =>
        Describe(frame, caller, version, replyTo: null);

    /// <summary>
    /// Describes a call or a return; an FFA_SUCCESS is read as the answer to <paramref name="replyTo"/> when given
    /// (a success frame does not say which call it answers).
    /// </summary>
    public static CallDescription Describe(in RegisterFrame frame, CallerKind caller, FfaVersion version, FfaFunction? replyTo)
    {
        var w0 = frame.W(0);
        var defined = FfaFunctions.TryClassify(w0, out var info, out var is64);
        if (info is null)
        {
            return LooksLikeVersionReturn(w0) ? DescribeVersionReturn(frame, caller, version) : Unknown(w0, is64);
        }

        var description = new CallDescription(info.Name, w0) { Convention = ConventionName(is64) };
        var d = new Describing(description, frame, is64, caller, version);
        if (!defined)
        {
            d.Warn(info.Conventions == CallConventions.Smc64
                ? $"{info.Name} is SMC64 only; w0 uses the SMC32 ID"
                : $"{info.Name} is SMC32 only in v1.2; w0 uses the SMC64 ID");
        }

        d.Since(info.Introduced, info.Name);

        if (info.Legacy && version >= FfaVersion.V1_1)
        {
            d.Warn($"{info.Name} is legacy: removed in v1.1");
        }

        DescribeFields(d, info.Function, replyTo);
        if (is64 && version >= FfaVersion.V1_2)
        {
            UpperRegisters(d, info.Function);
        }

        return description;
    }

    /// <summary>An endpoint ID with its kind: <c>0x8001 (SP)</c>, <c>0x0002 (VM)</c>, <c>0x0000 (hypervisor)</c>, <c>0x8000 (SPMC)</c>.</summary>
    public static string FormatEndpoint(EndpointId id)
    {
        var kind = id.Value switch
        {
            0x0000 => "hypervisor",
            0x8000 => "SPMC",
            0xFFFF => "SPMD",
            0x7FFF => "invalid ID",
            _ => id.IsSecure ? "SP" : "VM",
        };
        return $"{id} ({kind})";
    }

    private static void DescribeFields(Describing d, FfaFunction function, FfaFunction? replyTo)
    {
        switch (function)
        {
            case FfaFunction.Error: ReturnsDescriber.Error(d); break;
            case FfaFunction.Success: ReturnsDescriber.Success(d, replyTo); break;
            case FfaFunction.Interrupt: MessagingDescriber.Interrupt(d); break;
            case FfaFunction.Version: DiscoveryDescriber.Version(d); break;
            case FfaFunction.Features: DiscoveryDescriber.Features(d); break;
            case FfaFunction.RxRelease: RxTxDescriber.Release(d); break;
            case FfaFunction.RxTxMap: RxTxDescriber.Map(d); break;
            case FfaFunction.RxTxUnmap: RxTxDescriber.Unmap(d); break;
            case FfaFunction.PartitionInfoGet: DiscoveryDescriber.PartitionInfoGet(d); break;
            case FfaFunction.IdGet or FfaFunction.SpmIdGet or FfaFunction.MsgPoll or FfaFunction.MemRelinquish: d.Unused(1); break;
            case FfaFunction.MsgWait: MessagingDescriber.MsgWait(d); break;
            case FfaFunction.Yield: MessagingDescriber.Yield(d); break;
            case FfaFunction.Run: MessagingDescriber.Run(d); break;
            case FfaFunction.MsgSend: MessagingDescriber.MsgSend(d); break;
            case FfaFunction.MsgSendDirectReq: MessagingDescriber.Direct(d, request: true); break;
            case FfaFunction.MsgSendDirectResp: MessagingDescriber.Direct(d, request: false); break;
            case FfaFunction.MemDonate or FfaFunction.MemLend or FfaFunction.MemShare or FfaFunction.MemRetrieveReq:
                MemoryDescriber.Transaction(d);
                break;
            case FfaFunction.MemRetrieveResp: MemoryDescriber.RetrieveResp(d); break;
            case FfaFunction.MemReclaim: MemoryDescriber.Reclaim(d); break;
            case FfaFunction.MemOpPause or FfaFunction.MemOpResume: MemoryDescriber.HandleOnly(d); break;
            case FfaFunction.MemFragRx: MemoryDescriber.Fragment(d, rx: true); break;
            case FfaFunction.MemFragTx: MemoryDescriber.Fragment(d, rx: false); break;
            case FfaFunction.NormalWorldResume or FfaFunction.El3IntrHandle: MessagingDescriber.SpmcToSpmd(d); break;
            case FfaFunction.NotificationBitmapCreate: NotificationsDescriber.BitmapCreate(d); break;
            case FfaFunction.NotificationBitmapDestroy: NotificationsDescriber.BitmapDestroy(d); break;
            case FfaFunction.NotificationBind: NotificationsDescriber.Bind(d); break;
            case FfaFunction.NotificationUnbind: NotificationsDescriber.Unbind(d); break;
            case FfaFunction.NotificationSet: NotificationsDescriber.Set(d); break;
            case FfaFunction.NotificationGet: NotificationsDescriber.Get(d); break;
            case FfaFunction.NotificationInfoGet: NotificationsDescriber.InfoGet(d); break;
            case FfaFunction.RxAcquire: RxTxDescriber.Acquire(d); break;
            case FfaFunction.MsgSend2: MessagingDescriber.MsgSend2(d); break;
            case FfaFunction.SecondaryEpRegister: MessagingDescriber.SecondaryEpRegister(d); break;
            case FfaFunction.MemPermGet: MemoryDescriber.PermGet(d); break;
            case FfaFunction.MemPermSet: MemoryDescriber.PermSet(d); break;
            case FfaFunction.ConsoleLog: MessagingDescriber.ConsoleLog(d); break;
            case FfaFunction.PartitionInfoGetRegs: DiscoveryDescriber.PartitionInfoGetRegs(d); break;
            case FfaFunction.MsgSendDirectReq2: MessagingDescriber.Direct2(d, request: true); break;
            case FfaFunction.MsgSendDirectResp2: MessagingDescriber.Direct2(d, request: false); break;
            default: d.Warn($"no reader for {d.Abi}"); break;
        }
    }

    /// <summary>v1.2: x8..x17 an SMC64 ABI does not use are MBZ.</summary>
    private static void UpperRegisters(Describing d, FfaFunction function)
    {
        var usesAll = function is FfaFunction.MsgSendDirectReq2 or FfaFunction.MsgSendDirectResp2 or FfaFunction.ConsoleLog or FfaFunction.Success;
        if (usesAll)
        {
            return;
        }

        for (var i = Wire.LastClassicRegister + 1; i < RegisterFrame.Count; i++)
        {
            if (d.X(i) != 0)
            {
                d.Warn($"x{i}: MBZ bits set (0x{d.X(i):X}) (v1.2: x8..x17 unused by {d.Abi} are MBZ)");
            }
        }
    }

    /// <summary>
    /// VERSION's answer carries no function ID: w0 is the callee's version (major 1) or −1. Nothing else that is
    /// not an FF-A function ID looks like that.
    /// </summary>
    private static bool LooksLikeVersionReturn(uint w0) => w0 == FfaVersion.NotSupported || (w0 >> 16) == 1;

    private static CallDescription DescribeVersionReturn(in RegisterFrame frame, CallerKind caller, FfaVersion version)
    {
        var description = new CallDescription("FFA_VERSION", frame.W(0)) { Convention = ConventionName(false) };
        ReturnsDescriber.Version(new Describing(description, frame, false, caller, version));
        return description;
    }

    private static CallDescription Unknown(uint w0, bool is64) =>
        new CallDescription("UNKNOWN", w0) { Convention = ConventionName(is64) }
            .Warn("unknown function ID 0x" + w0.ToString("X8", CultureInfo.InvariantCulture));

    private static string ConventionName(bool is64) => is64 ? "SMC64" : "SMC32";
}
