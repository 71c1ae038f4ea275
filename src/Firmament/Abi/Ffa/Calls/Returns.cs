namespace Firmament.Abi.Ffa.Calls;

// Returns: FFA_ERROR, FFA_SUCCESS (32/64) read generically, VERSION's bare w0, and the function-specific views of
// FFA_SUCCESS: FEATURES, ID_GET/SPM_ID_GET, PARTITION_INFO_GET, PARTITION_INFO_GET_REGS, a memory send's handle,
// NOTIFICATION_GET, MEM_PERM_GET and NOTIFICATION_INFO_GET.
// Limits, stated once:
// - A success frame does not say which call it answers: the caller picks the view. Each view accepts SUCCESS_32 and
//   SUCCESS_64 (a caller must accept both), except PARTITION_INFO_GET_REGS (SUCCESS_64 only: x2 needs 64 bits).
//   Under SUCCESS_64, the upper halves of registers holding 32-bit fields are MBZ.
// - FFA_ERROR is the v1.2 one: SMC32 only, w1 MBZ, w3 MBZ (v1.3 adds an error argument there).
// - Error codes outside −1..−10 are decoded as they are (a newer callee may define more); the describer warns.
// - The SPM and hypervisor framework bitmaps of NOTIFICATION_GET are kept whole: only bit 0 (RX buffer full) is
//   defined, the other IDs are reserved for later frameworks rather than MBZ.

/// <summary>
/// FFA_VERSION's answer: a bare w0 holding the callee's own version, or −1 (0xFFFFFFFF, NOT_SUPPORTED). Not an
/// FFA_SUCCESS or FFA_ERROR. Any other value with bit 31 set (an SMCCC error such as −3) is refused.
/// </summary>
public readonly record struct VersionReturn(FfaVersion? Version) : IFfaMessage<VersionReturn>
{
    public static FfaFunction Abi => FfaFunction.Version;

    public static CallConventions Conventions => CallConventions.Smc32;

    /// <summary>The answer NOT_SUPPORTED.</summary>
    public static VersionReturn NotSupported => default;

    public static bool TryDecode(in RegisterFrame frame, out VersionReturn value, out AbiViolation violation)
    {
        value = default;
        var w0 = frame.W(0);
        if (w0 != FfaVersion.NotSupported && !FfaVersion.TryDecode(w0, out _))
        {
            violation = AbiViolation.Reserved(0, w0);
            return false;
        }

        if (!Wire.Unused(frame, 1, false, out violation))
        {
            return false;
        }

        value = w0 == FfaVersion.NotSupported ? NotSupported : new VersionReturn(new FfaVersion((ushort)(w0 >> 16), (ushort)w0));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        frame.Clear();
        if (Version is { } version)
        {
            Wire.AtMost(version.Major, 0x7FFF, nameof(Version));
            frame[0] = version.Encode();
        }
        else
        {
            frame[0] = FfaVersion.NotSupported;
        }
    }
}

/// <summary>FFA_ERROR (SMC32): w1 MBZ, w2 = the error code (a signed 32-bit value), w3..w7 MBZ.</summary>
public readonly record struct ErrorReturn(FfaError Error) : IFfaMessage<ErrorReturn>
{
    public static FfaFunction Abi => FfaFunction.Error;

    public static CallConventions Conventions => CallConventions.Smc32;

    /// <summary>The raw code, as a signed number.</summary>
    public int Code => (int)Error;

    public static bool TryDecode(in RegisterFrame frame, out ErrorReturn value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.Error, out violation)
            || !Wire.Word(frame, 1, uint.MaxValue, false, out violation)
            || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        value = new ErrorReturn((FfaError)(int)frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.Error, false);
        frame[2] = (uint)Error;
    }
}

/// <summary>
/// FFA_SUCCESS read without knowing the call it answers: w1 = 0 or target info, and the function-specific
/// registers x2..x7 as they are (x8..x17 of SUCCESS_64 belong to the call's own view).
/// </summary>
public readonly record struct SuccessReturn(bool Is64, TargetInfo Target, ulong Arg2, ulong Arg3, ulong Arg4, ulong Arg5, ulong Arg6, ulong Arg7)
    : IFfaMessage<SuccessReturn>
{
    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out SuccessReturn value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, FfaFunction.Success, out var is64, out violation) || !Wire.Word(frame, 1, 0, is64, out violation))
        {
            return false;
        }

        value = new SuccessReturn(
            is64,
            TargetInfo.Unpack(frame.W(1)),
            Wire.R(frame, 2, is64),
            Wire.R(frame, 3, is64),
            Wire.R(frame, 4, is64),
            Wire.R(frame, 5, is64),
            Wire.R(frame, 6, is64),
            Wire.R(frame, 7, is64));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Fit(Arg2 | Arg3 | Arg4 | Arg5 | Arg6 | Arg7, Is64, "Args");
        Wire.Begin(ref frame, FfaFunction.Success, Is64);
        frame[1] = Target.Pack();
        frame[2] = Arg2;
        frame[3] = Arg3;
        frame[4] = Arg4;
        frame[5] = Arg5;
        frame[6] = Arg6;
        frame[7] = Arg7;
    }
}

/// <summary>FFA_FEATURES's success: w2 = interface properties, w3 = properties 2 (their meaning depends on the query).</summary>
public readonly record struct FeaturesSuccess(bool Is64, uint Properties, uint Properties2) : IFfaMessage<FeaturesSuccess>
{
    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out FeaturesSuccess value, out AbiViolation violation)
    {
        var ok = SuccessCodec.TryTwoWords(frame, out var is64, out var w2, out var w3, out violation);
        value = ok ? new FeaturesSuccess(is64, w2, w3) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => SuccessCodec.EncodeTwoWords(ref frame, Is64, Properties, Properties2);
}

/// <summary>The success of FFA_ID_GET (the caller's own ID) and FFA_SPM_ID_GET (the SPMC's ID): w2 bits 15:0.</summary>
public readonly record struct IdGetSuccess(bool Is64, EndpointId Id) : IFfaMessage<IdGetSuccess>
{
    /// <summary>Bits of w2 that must be zero.</summary>
    public const uint W2Mbz = 0xFFFF_0000;

    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out IdGetSuccess value, out AbiViolation violation)
    {
        value = default;
        if (!SuccessCodec.TryBegin(frame, out var is64, out violation)
            || !Wire.Word(frame, 2, W2Mbz, is64, out violation)
            || !Wire.Unused(frame, 3, is64, out violation))
        {
            return false;
        }

        value = new IdGetSuccess(is64, new EndpointId(Halves.Low(frame.W(2))));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.Success, Is64);
        frame[2] = Id.Value;
    }
}

/// <summary>
/// FFA_PARTITION_INFO_GET's success: w2 = the number of partitions, w3 = the size of each descriptor in the RX
/// buffer (v1.1+; Firmament reports it with the count-only flag too, Xen puts 0 there).
/// </summary>
public readonly record struct PartitionInfoGetSuccess(bool Is64, uint Count, uint DescriptorSize) : IFfaMessage<PartitionInfoGetSuccess>
{
    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out PartitionInfoGetSuccess value, out AbiViolation violation)
    {
        var ok = SuccessCodec.TryTwoWords(frame, out var is64, out var w2, out var w3, out violation);
        value = ok ? new PartitionInfoGetSuccess(is64, w2, w3) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => SuccessCodec.EncodeTwoWords(ref frame, Is64, Count, DescriptorSize);
}

/// <summary>
/// FFA_PARTITION_INFO_GET_REGS's success (SUCCESS_64 only): x2 = last index [15:0] (count − 1), current index
/// [31:16] (of the last descriptor in this answer), UUID information tag [47:32], descriptor size [63:48];
/// x3..x17 = the descriptors (see <see cref="PartitionInfoRegsEntry"/>).
/// </summary>
public readonly record struct PartitionInfoGetRegsSuccess(
    ushort LastIndex,
    ushort CurrentIndex,
    ushort Tag,
    ushort DescriptorSize,
    PartitionInfoRegsDescriptors Descriptors) : IFfaMessage<PartitionInfoGetRegsSuccess>
{
    private const ulong CurrentIndexMask = 0xFFFF_0000;

    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Smc64;

    public static bool TryDecode(in RegisterFrame frame, out PartitionInfoGetRegsSuccess value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is64(frame, FfaFunction.Success, out violation) || !Wire.Full(frame, 1, ulong.MaxValue, out violation))
        {
            return false;
        }

        var x2 = Wire.X(frame, 2);
        var last = (ushort)x2;
        var current = (ushort)(x2 >> 16);
        if (current > last)
        {
            violation = AbiViolation.Range(2, x2 & CurrentIndexMask);
            return false;
        }

        value = new PartitionInfoGetRegsSuccess(last, current, (ushort)(x2 >> 32), (ushort)(x2 >> 48), PartitionInfoRegsDescriptors.Read(frame));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.AtMost(CurrentIndex, LastIndex, nameof(CurrentIndex));
        Wire.Begin(ref frame, FfaFunction.Success, true);
        frame[2] = LastIndex | ((ulong)CurrentIndex << 16) | ((ulong)Tag << 32) | ((ulong)DescriptorSize << 48);
        Descriptors.Write(ref frame);
    }

    /// <summary>
    /// Reads this answer's descriptors, given the start index of the request: current − start + 1 of them, each
    /// 24 bytes. Fails (precisely) when the descriptor size is not 24, or the count does not fit five.
    /// </summary>
    public bool TryRead(ushort startIndex, out PartitionInfoRegsReader reader, out AbiViolation violation)
    {
        reader = default;
        if (DescriptorSize != PartitionInfoRegsEntry.DescriptorSize)
        {
            violation = AbiViolation.Range(2, (ulong)DescriptorSize << 48);
            return false;
        }

        var count = CurrentIndex - startIndex + 1;
        if (count <= 0 || count > PartitionInfoRegsDescriptors.MaxEntries)
        {
            violation = AbiViolation.Range(2, (ulong)CurrentIndex << 16);
            return false;
        }

        violation = default;
        reader = new PartitionInfoRegsReader(Descriptors, count);
        return true;
    }
}

/// <summary>
/// The success of a memory send (DONATE, LEND, SHARE, or the last FRAG_TX): w2/w3 = the handle, low word first.
/// The 64-bit sends answer with SUCCESS_32 too.
/// </summary>
public readonly record struct MemSendSuccess(bool Is64, MemoryHandle Handle) : IFfaMessage<MemSendSuccess>
{
    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemSendSuccess value, out AbiViolation violation)
    {
        value = default;
        if (!SuccessCodec.TryBegin(frame, out var is64, out violation)
            || !Wire.Word(frame, 2, 0, is64, out violation)
            || !Wire.Word(frame, 3, 0, is64, out violation)
            || !Wire.Unused(frame, 4, is64, out violation))
        {
            return false;
        }

        value = new MemSendSuccess(is64, MemoryHandle.FromHalves(frame.W(2), frame.W(3)));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.Success, Is64);
        frame[2] = Handle.Low;
        frame[3] = Handle.High;
    }
}

/// <summary>Framework notification IDs (the SPM and hypervisor framework bitmaps of NOTIFICATION_GET).</summary>
[Flags]
public enum FrameworkNotifications : uint
{
    None = 0,

    /// <summary>Bit 0: the RX buffer is full (a message was delivered).</summary>
    RxBufferFull = 1,
}

/// <summary>
/// FFA_NOTIFICATION_GET's success: w2/w3 = notifications from SPs (low word first), w4/w5 = from VMs, w6 = the SPM
/// framework bitmap, w7 = the hypervisor framework bitmap. The bits returned are cleared.
/// </summary>
public readonly record struct NotificationGetSuccess(
    bool Is64,
    NotificationBitmap SpBitmap,
    NotificationBitmap VmBitmap,
    FrameworkNotifications SpmFramework,
    FrameworkNotifications HypervisorFramework) : IFfaMessage<NotificationGetSuccess>
{
    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out NotificationGetSuccess value, out AbiViolation violation)
    {
        value = default;
        if (!SuccessCodec.TryBegin(frame, out var is64, out violation))
        {
            return false;
        }

        for (var i = 2; i <= Wire.LastClassicRegister; i++)
        {
            if (!Wire.Word(frame, i, 0, is64, out violation))
            {
                return false;
            }
        }

        value = new NotificationGetSuccess(
            is64,
            NotificationBitmap.FromHalves(frame.W(2), frame.W(3)),
            NotificationBitmap.FromHalves(frame.W(4), frame.W(5)),
            (FrameworkNotifications)frame.W(6),
            (FrameworkNotifications)frame.W(7));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.Success, Is64);
        frame[2] = SpBitmap.Low;
        frame[3] = SpBitmap.High;
        frame[4] = VmBitmap.Low;
        frame[5] = VmBitmap.High;
        frame[6] = (uint)SpmFramework;
        frame[7] = (uint)HypervisorFramework;
    }
}

/// <summary>FFA_MEM_PERM_GET's success: w2 = the permissions.</summary>
public readonly record struct MemPermGetSuccess(bool Is64, MemPermissions Permissions) : IFfaMessage<MemPermGetSuccess>
{
    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemPermGetSuccess value, out AbiViolation violation)
    {
        value = default;
        if (!SuccessCodec.TryBegin(frame, out var is64, out violation)
            || !Wire.Word(frame, 2, 0, is64, out violation)
            || !MemPermissions.TryDecode(frame.W(2), 2, out var permissions, out violation)
            || !Wire.Unused(frame, 3, is64, out violation))
        {
            return false;
        }

        value = new MemPermGetSuccess(is64, permissions);
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        var permissions = Permissions.Encode();
        Wire.Begin(ref frame, FfaFunction.Success, Is64);
        frame[2] = permissions;
    }
}

/// <summary>
/// FFA_NOTIFICATION_INFO_GET's success, in the call's convention: w2/x2 = more-pending bit and list header, then
/// the IDs (see <see cref="NotificationInfoLists"/>). Build one with <see cref="NotificationInfoListWriter"/>.
/// </summary>
public readonly record struct NotificationInfoGetSuccess(bool Is64, bool MorePending, NotificationInfoLists Lists)
    : IFfaMessage<NotificationInfoGetSuccess>
{
    public static FfaFunction Abi => FfaFunction.Success;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out NotificationInfoGetSuccess value, out AbiViolation violation)
    {
        value = default;
        if (!SuccessCodec.TryBegin(frame, out var is64, out violation)
            || !NotificationInfoLists.TryDecode(frame, is64, out var lists, out var morePending, out violation))
        {
            return false;
        }

        value = new NotificationInfoGetSuccess(is64, morePending, lists);
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.AtMost((ulong)Lists.IdCount, (ulong)NotificationInfoLists.Capacity(Is64), nameof(Lists));
        Wire.Begin(ref frame, FfaFunction.Success, Is64);
        Lists.Encode(ref frame, MorePending, Is64);
    }
}

/// <summary>What every function-specific success view checks first.</summary>
internal static class SuccessCodec
{
    /// <summary>w0 is SUCCESS_32 or SUCCESS_64 and w1 (target info, unused by these views) is zero.</summary>
    public static bool TryBegin(in RegisterFrame frame, out bool is64, out AbiViolation violation) =>
        Wire.IsEither(frame, FfaFunction.Success, out is64, out violation) && Wire.Word(frame, 1, uint.MaxValue, is64, out violation);

    /// <summary>A success that carries two 32-bit words, in w2 and w3, and nothing after them.</summary>
    public static bool TryTwoWords(in RegisterFrame frame, out bool is64, out uint w2, out uint w3, out AbiViolation violation)
    {
        var ok = TryBegin(frame, out is64, out violation)
            && Wire.Word(frame, 2, 0, is64, out violation)
            && Wire.Word(frame, 3, 0, is64, out violation)
            && Wire.Unused(frame, 4, is64, out violation);
        (w2, w3) = ok ? (frame.W(2), frame.W(3)) : (0u, 0u);
        return ok;
    }

    public static void EncodeTwoWords(ref RegisterFrame frame, bool is64, uint w2, uint w3)
    {
        Wire.Begin(ref frame, FfaFunction.Success, is64);
        frame[2] = w2;
        frame[3] = w3;
    }
}

/// <summary>How the describer reads the returns.</summary>
internal static class ReturnsDescriber
{
    public static void Error(Describing d)
    {
        d.MbzWord(1, uint.MaxValue);
        var code = (int)d.W(2);
        d.Signed("error", code, FfaErrors.Name(code));
        if (!FfaErrors.IsDefined(code))
        {
            d.Warn($"error code {code} is not one the spec defines (-1..-10)");
        }

        d.Unused(3);
    }

    public static void Version(Describing d)
    {
        var w0 = d.W(0);
        var text = w0 == FfaVersion.NotSupported ? "NOT_SUPPORTED" : FfaVersion.TryDecode(w0, out var v) ? v.ToString() : "not a version";
        d.Field("version", w0, text);
        d.Unused(1);
    }

    /// <summary>A success, read as the answer to <paramref name="replyTo"/> when it is known.</summary>
    public static void Success(Describing d, FfaFunction? replyTo)
    {
        switch (replyTo)
        {
            case FfaFunction.Features:
                NoTarget(d);
                d.Hex("properties", d.W(2));
                d.Hex("properties2", d.W(3));
                d.MbzWord(2, 0);
                d.MbzWord(3, 0);
                d.Unused(4);
                break;
            case FfaFunction.IdGet or FfaFunction.SpmIdGet:
                NoTarget(d);
                d.Endpoint("id", Halves.Low(d.W(2)));
                d.MbzWord(2, IdGetSuccess.W2Mbz);
                d.Unused(3);
                break;
            case FfaFunction.PartitionInfoGet:
                NoTarget(d);
                d.Field("count", d.W(2));
                d.Field("descriptor_size", d.W(3));
                d.MbzWord(2, 0);
                d.MbzWord(3, 0);
                d.Unused(4);
                break;
            case FfaFunction.PartitionInfoGetRegs:
                PartitionInfoGetRegs(d);
                break;
            case FfaFunction.MemDonate or FfaFunction.MemLend or FfaFunction.MemShare or FfaFunction.MemFragTx:
                NoTarget(d);
                var handle = MemoryHandle.FromHalves(d.W(2), d.W(3));
                d.Field("handle", handle.Value, MemoryDescriber.HandleText(handle));
                d.MbzWord(2, 0);
                d.MbzWord(3, 0);
                d.Unused(4);
                break;
            case FfaFunction.NotificationGet:
                NoTarget(d);
                d.Bitmap("sp_bitmap", NotificationBitmap.FromHalves(d.W(2), d.W(3)));
                d.Bitmap("vm_bitmap", NotificationBitmap.FromHalves(d.W(4), d.W(5)));
                d.Field("spm_bitmap", d.W(6), FrameworkText(d.W(6)));
                d.Field("hyp_bitmap", d.W(7), FrameworkText(d.W(7)));
                for (var i = 2; i <= Wire.LastClassicRegister; i++)
                {
                    d.MbzWord(i, 0);
                }

                break;
            case FfaFunction.MemPermGet:
                NoTarget(d);
                d.Field("permissions", d.W(2), MemPermissions.Text(d.W(2)));
                d.MbzWord(2, MemPermissions.Mbz);
                d.Unused(3);
                break;
            case FfaFunction.NotificationInfoGet:
                NotificationInfoGet(d);
                break;
            default:
                Generic(d);
                break;
        }
    }

    private static void Generic(Describing d)
    {
        var target = TargetInfo.Unpack(d.W(1));
        d.Field("arg1", d.R(1), d.R(1) == 0 ? string.Empty : $"target {FfaDescriber.FormatEndpoint(target.Endpoint)} vCPU {target.Vcpu}");
        var last = d.Is64 && d.Version >= FfaVersion.V1_2 ? RegisterFrame.Count - 1 : Wire.LastClassicRegister;
        while (last > Wire.LastClassicRegister && d.X(last) == 0)
        {
            last--;
        }

        for (var i = 2; i <= last; i++)
        {
            d.Field("arg" + i, d.R(i));
        }
    }

    private static void NoTarget(Describing d) => d.MbzWord(1, uint.MaxValue);

    private static void PartitionInfoGetRegs(Describing d)
    {
        if (!d.Is64)
        {
            d.Warn("PARTITION_INFO_GET_REGS answers with FFA_SUCCESS_64; x2 does not fit SUCCESS_32");
        }

        d.MbzFull(1, ulong.MaxValue);
        var x2 = d.X(2);
        var last = (ushort)x2;
        var current = (ushort)(x2 >> 16);
        var size = (ushort)(x2 >> 48);
        d.Field("last_index", last, $"{last + 1} partitions");
        d.Field("current_index", current);
        d.Field("tag", (ushort)(x2 >> 32));
        d.Field("descriptor_size", size);
        if (current > last)
        {
            d.Warn($"the current index ({current}) is past the last index ({last})");
        }

        if (size != PartitionInfoRegsEntry.DescriptorSize)
        {
            d.Warn($"descriptor size {size}: only 24-byte (v1.1/v1.2) descriptors are read from registers");
            return;
        }

        var descriptors = PartitionInfoRegsDescriptors.Read(in d.Frame);
        for (var i = 0; i < PartitionInfoRegsDescriptors.MaxEntries; i++)
        {
            var raw = descriptors.AsSpan().Slice(i * PartitionInfoRegsEntry.Registers, PartitionInfoRegsEntry.Registers);
            if (raw[0] == 0 && raw[1] == 0 && raw[2] == 0)
            {
                continue;
            }

            var entry = descriptors.GetEntry(i);
            var prefix = "partition" + i + "_";
            d.Endpoint(prefix + "id", entry.Id.Value);
            d.Field(prefix + "execution_contexts", entry.ExecutionContexts);
            d.Hex(prefix + "properties", entry.Properties);
            d.Field(prefix + "uuid_lo", entry.Uuid.Low, entry.Uuid.ToString());
            d.Field(prefix + "uuid_hi", entry.Uuid.High, entry.Uuid.ToString());
        }
    }

    private static void NotificationInfoGet(Describing d)
    {
        NoTarget(d);
        var header = d.R(2);
        d.Field("more_pending", header & NotificationInfoLists.MorePendingBit, (header & 1) != 0 ? "yes: call again" : "no");
        d.Field("list_count", (header & NotificationInfoLists.ListCountMask) >> NotificationInfoLists.ListCountShift);
        if (!NotificationInfoLists.TryDecode(in d.Frame, d.Is64, out var lists, out _, out var violation))
        {
            d.Warn("the lists do not decode: " + violation);
            return;
        }

        var k = 0;
        foreach (var list in lists)
        {
            var vcpus = list.IsGlobal ? "global" : "vCPU " + string.Join(", ", list.Vcpus.ToArray());
            d.Field("list" + k++, list.Endpoint.Value, $"{FfaDescriber.FormatEndpoint(list.Endpoint)}: {vcpus}");
        }

        if (lists.Count == 0)
        {
            d.Warn("no list: a callee with nothing pending answers NO_DATA");
        }
    }

    private static string FrameworkText(uint bits) => Describing.FlagText(bits, ((ulong)FrameworkNotifications.RxBufferFull, "RX buffer full"));
}
