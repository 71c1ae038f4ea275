namespace Firmament.Abi.Ffa.Calls;

// Notifications (v1.1): FFA_NOTIFICATION_BITMAP_CREATE/DESTROY, BIND, UNBIND, SET, GET, INFO_GET (32/64).
// GET's and INFO_GET's answers are in Returns.cs; the INFO_GET list packing is in NotificationInfoLists.cs.
// Limits, stated once:
// - w1 of BIND, UNBIND and SET is sender[31:16] | receiver[15:0], where the sender is the endpoint that will set
//   the bits; w1 of GET is vCPU[31:16] | receiver[15:0]. (Several implementations had to fix one or the other.)
// - The bitmap is always two 32-bit words, low first (w3, w4), whatever the convention.
// - SET's vCPU ID (w2 bits 31:16) is MBZ unless the per-vCPU flag is set: the codec refuses it otherwise.
// - Whether per-vCPU notifications are supported, and who may bind or set what, is the partition manager's call.

/// <summary>
/// FFA_NOTIFICATION_BITMAP_CREATE (SMC32; hypervisor, or the OS with ID 0, to the SPMC): w1 bits 15:0 = VM ID
/// (bits 31:16 MBZ), w2 = the VM's vCPU count.
/// </summary>
public readonly record struct NotificationBitmapCreate(EndpointId VmId, uint VcpuCount) : IFfaMessage<NotificationBitmapCreate>
{
    /// <summary>Bits of w1 that must be zero.</summary>
    public const uint W1Mbz = 0xFFFF_0000;

    public static FfaFunction Abi => FfaFunction.NotificationBitmapCreate;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out NotificationBitmapCreate value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.NotificationBitmapCreate, out violation)
            || !Wire.Word(frame, 1, W1Mbz, false, out violation)
            || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        value = new NotificationBitmapCreate(new EndpointId(Halves.Low(frame.W(1))), frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.NotificationBitmapCreate, false);
        frame[1] = VmId.Value;
        frame[2] = VcpuCount;
    }
}

/// <summary>FFA_NOTIFICATION_BITMAP_DESTROY (SMC32; as CREATE): w1 bits 15:0 = VM ID (bits 31:16 MBZ).</summary>
public readonly record struct NotificationBitmapDestroy(EndpointId VmId) : IFfaMessage<NotificationBitmapDestroy>
{
    public static FfaFunction Abi => FfaFunction.NotificationBitmapDestroy;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out NotificationBitmapDestroy value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.NotificationBitmapDestroy, out violation)
            || !Wire.Word(frame, 1, NotificationBitmapCreate.W1Mbz, false, out violation)
            || !Wire.Unused(frame, 2, false, out violation))
        {
            return false;
        }

        value = new NotificationBitmapDestroy(new EndpointId(Halves.Low(frame.W(1))));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.NotificationBitmapDestroy, false);
        frame[1] = VmId.Value;
    }
}

/// <summary>FFA_NOTIFICATION_BIND flags (w2).</summary>
[Flags]
public enum NotificationBindFlags : uint
{
    /// <summary>A global binding: any vCPU of the receiver may get the notifications.</summary>
    None = 0,

    /// <summary>Bit 0: the IDs are per-vCPU notifications.</summary>
    PerVcpu = 1,
}

/// <summary>
/// FFA_NOTIFICATION_BIND (SMC32; by the receiver): w1 = sender[31:16] | receiver[15:0]; w2 = flags (bits 31:1 MBZ);
/// w3/w4 = the bitmap, low word first.
/// </summary>
public readonly record struct NotificationBind(SenderReceiver Endpoints, NotificationBindFlags Flags, NotificationBitmap Bitmap)
    : IFfaMessage<NotificationBind>
{
    /// <summary>Bits of w2 that must be zero.</summary>
    public const uint FlagsMbz = ~(uint)NotificationBindFlags.PerVcpu;

    public static FfaFunction Abi => FfaFunction.NotificationBind;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out NotificationBind value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.NotificationBind, out violation)
            || !Wire.Word(frame, 2, FlagsMbz, false, out violation)
            || !Wire.Unused(frame, 5, false, out violation))
        {
            return false;
        }

        value = new NotificationBind(
            SenderReceiver.Unpack(frame.W(1)),
            (NotificationBindFlags)frame.W(2),
            NotificationBitmap.FromHalves(frame.W(3), frame.W(4)));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Only((uint)Flags, ~FlagsMbz, nameof(Flags));
        Wire.Begin(ref frame, FfaFunction.NotificationBind, false);
        frame[1] = Endpoints.Pack();
        frame[2] = (uint)Flags;
        frame[3] = Bitmap.Low;
        frame[4] = Bitmap.High;
    }
}

/// <summary>
/// FFA_NOTIFICATION_UNBIND (SMC32; by the receiver): w1 = sender[31:16] | receiver[15:0]; w2 MBZ; w3/w4 = the bitmap.
/// </summary>
public readonly record struct NotificationUnbind(SenderReceiver Endpoints, NotificationBitmap Bitmap) : IFfaMessage<NotificationUnbind>
{
    public static FfaFunction Abi => FfaFunction.NotificationUnbind;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out NotificationUnbind value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.NotificationUnbind, out violation)
            || !Wire.Word(frame, 2, uint.MaxValue, false, out violation)
            || !Wire.Unused(frame, 5, false, out violation))
        {
            return false;
        }

        value = new NotificationUnbind(SenderReceiver.Unpack(frame.W(1)), NotificationBitmap.FromHalves(frame.W(3), frame.W(4)));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.NotificationUnbind, false);
        frame[1] = Endpoints.Pack();
        frame[3] = Bitmap.Low;
        frame[4] = Bitmap.High;
    }
}

/// <summary>FFA_NOTIFICATION_SET flags (w2 bits 15:0; the receiver's vCPU ID is in bits 31:16).</summary>
[Flags]
public enum NotificationSetFlags : uint
{
    None = 0,

    /// <summary>Bit 0: per-vCPU notifications, for the vCPU in w2 bits 31:16.</summary>
    PerVcpu = 1,

    /// <summary>Bit 1: delay the schedule receiver interrupt until the normal world runs again (SPs only).</summary>
    DelaySri = 1u << 1,
}

/// <summary>
/// FFA_NOTIFICATION_SET (SMC32; by the sender): w1 = sender[31:16] | receiver[15:0]; w2 = flags in bits 1:0,
/// bits 15:2 MBZ, the receiver's vCPU ID in bits 31:16 (MBZ unless per-vCPU); w3/w4 = the bitmap.
/// </summary>
public readonly record struct NotificationSet(SenderReceiver Endpoints, NotificationSetFlags Flags, ushort Vcpu, NotificationBitmap Bitmap)
    : IFfaMessage<NotificationSet>
{
    /// <summary>Bits 15:2 of w2, always MBZ.</summary>
    public const uint FlagsMbz = 0x0000_FFFC;

    /// <summary>Bits 31:16 of w2: the receiver's vCPU ID, MBZ without <see cref="NotificationSetFlags.PerVcpu"/>.</summary>
    public const uint VcpuMask = 0xFFFF_0000;

    public static FfaFunction Abi => FfaFunction.NotificationSet;

    public static CallConventions Conventions => CallConventions.Smc32;

    /// <summary>The bits of a w2 value that must be zero.</summary>
    public static uint MbzMask(uint w2) => (w2 & (uint)NotificationSetFlags.PerVcpu) != 0 ? FlagsMbz : FlagsMbz | VcpuMask;

    public static bool TryDecode(in RegisterFrame frame, out NotificationSet value, out AbiViolation violation)
    {
        value = default;
        var w2 = frame.W(2);
        if (!Wire.Is32(frame, FfaFunction.NotificationSet, out violation)
            || !Wire.Word(frame, 2, MbzMask(w2), false, out violation)
            || !Wire.Unused(frame, 5, false, out violation))
        {
            return false;
        }

        value = new NotificationSet(
            SenderReceiver.Unpack(frame.W(1)),
            (NotificationSetFlags)(w2 & ~VcpuMask),
            Halves.High(w2),
            NotificationBitmap.FromHalves(frame.W(3), frame.W(4)));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Only((uint)Flags, (uint)(NotificationSetFlags.PerVcpu | NotificationSetFlags.DelaySri), nameof(Flags));
        if ((Flags & NotificationSetFlags.PerVcpu) == 0)
        {
            Wire.AtMost(Vcpu, 0, nameof(Vcpu));
        }

        Wire.Begin(ref frame, FfaFunction.NotificationSet, false);
        frame[1] = Endpoints.Pack();
        frame[2] = Halves.Pack(Vcpu, (ushort)Flags);
        frame[3] = Bitmap.Low;
        frame[4] = Bitmap.High;
    }
}

/// <summary>FFA_NOTIFICATION_GET flags (w2): which bitmaps to get (and clear).</summary>
[Flags]
public enum NotificationGetFlags : uint
{
    None = 0,

    /// <summary>Bit 0: notifications from SPs.</summary>
    SpBitmap = 1,

    /// <summary>Bit 1: notifications from VMs.</summary>
    VmBitmap = 1u << 1,

    /// <summary>Bit 2: the SPM framework bitmap.</summary>
    SpmFrameworkBitmap = 1u << 2,

    /// <summary>Bit 3: the hypervisor framework bitmap.</summary>
    HypervisorFrameworkBitmap = 1u << 3,

    /// <summary>All four bitmaps.</summary>
    All = SpBitmap | VmBitmap | SpmFrameworkBitmap | HypervisorFrameworkBitmap,
}

/// <summary>
/// FFA_NOTIFICATION_GET (SMC32; by the receiver): w1 = the caller's vCPU ID[31:16] | receiver[15:0]; w2 = flags
/// (bits 31:4 MBZ). The answer is <see cref="NotificationGetSuccess"/>.
/// </summary>
public readonly record struct NotificationGet(ushort Vcpu, EndpointId Receiver, NotificationGetFlags Flags) : IFfaMessage<NotificationGet>
{
    /// <summary>Bits of w2 that must be zero.</summary>
    public const uint FlagsMbz = ~(uint)NotificationGetFlags.All;

    public static FfaFunction Abi => FfaFunction.NotificationGet;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out NotificationGet value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.NotificationGet, out violation)
            || !Wire.Word(frame, 2, FlagsMbz, false, out violation)
            || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        var w1 = frame.W(1);
        value = new NotificationGet(Halves.High(w1), new EndpointId(Halves.Low(w1)), (NotificationGetFlags)frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Only((uint)Flags, (uint)NotificationGetFlags.All, nameof(Flags));
        Wire.Begin(ref frame, FfaFunction.NotificationGet, false);
        frame[1] = Halves.Pack(Vcpu, Receiver.Value);
        frame[2] = (uint)Flags;
    }
}

/// <summary>
/// FFA_NOTIFICATION_INFO_GET (SMC32 or SMC64; the normal-world scheduler): no arguments. The answer is
/// <see cref="NotificationInfoGetSuccess"/> in the same convention, or NO_DATA.
/// </summary>
public readonly record struct NotificationInfoGet(bool Is64) : IFfaMessage<NotificationInfoGet>
{
    public static FfaFunction Abi => FfaFunction.NotificationInfoGet;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out NotificationInfoGet value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, FfaFunction.NotificationInfoGet, out var is64, out violation) || !Wire.Unused(frame, 1, is64, out violation))
        {
            return false;
        }

        value = new NotificationInfoGet(is64);
        return true;
    }

    public void Encode(ref RegisterFrame frame) => Wire.Begin(ref frame, FfaFunction.NotificationInfoGet, Is64);
}

/// <summary>How the describer reads the notification calls.</summary>
internal static class NotificationsDescriber
{
    public static void BitmapCreate(Describing d)
    {
        d.Endpoint("vm_id", Halves.Low(d.W(1)));
        d.MbzWord(1, NotificationBitmapCreate.W1Mbz);
        d.Field("vcpu_count", d.W(2));
        if (d.W(2) == 0)
        {
            d.Warn("a vCPU count of 0: the VM has no vCPU to notify");
        }

        PhysicalInstanceOnly(d);
        d.Unused(3);
    }

    public static void BitmapDestroy(Describing d)
    {
        d.Endpoint("vm_id", Halves.Low(d.W(1)));
        d.MbzWord(1, NotificationBitmapCreate.W1Mbz);
        PhysicalInstanceOnly(d);
        d.Unused(2);
    }

    public static void Bind(Describing d)
    {
        d.SenderAndReceiver("notify");
        var flags = d.W(2);
        d.Field("flags", flags, (flags & (uint)NotificationBindFlags.PerVcpu) != 0 ? "per-vCPU" : "global");
        d.MbzWord(2, NotificationBind.FlagsMbz);
        Bitmap(d);
        if ((flags & (uint)NotificationBindFlags.PerVcpu) != 0)
        {
            PerVcpuNote(d);
        }

        d.Unused(5);
    }

    public static void Unbind(Describing d)
    {
        d.SenderAndReceiver("notify");
        d.MbzWord(2, uint.MaxValue);
        Bitmap(d);
        d.Unused(5);
    }

    public static void Set(Describing d)
    {
        d.SenderAndReceiver("notify");
        var w2 = d.W(2);
        var perVcpu = (w2 & (uint)NotificationSetFlags.PerVcpu) != 0;
        var vcpu = Halves.High(w2);
        d.Field(
            "flags",
            w2 & ~NotificationSet.VcpuMask,
            Describing.FlagText(w2 & ~NotificationSet.VcpuMask, ((ulong)NotificationSetFlags.PerVcpu, "per-vCPU"), ((ulong)NotificationSetFlags.DelaySri, "delay SRI")));
        d.Field("vcpu", vcpu);
        d.MbzWord(2, NotificationSet.FlagsMbz);
        Bitmap(d);
        if (!perVcpu && vcpu != 0)
        {
            d.Warn($"w2[31:16] gives vCPU {vcpu} but the per-vCPU flag (bit 0) is clear: the vCPU ID is MBZ");
        }

        if (perVcpu)
        {
            PerVcpuNote(d);
        }

        if ((w2 & (uint)NotificationSetFlags.DelaySri) != 0 && d.Caller != CallerKind.Sp)
        {
            d.Warn("the delay-SRI flag is for SPs only; from a VM or the hypervisor it is INVALID_PARAMETERS (Hafnium)");
        }

        d.Unused(5);
    }

    public static void Get(Describing d)
    {
        var w1 = d.W(1);
        d.Field("vcpu", Halves.High(w1));
        d.Endpoint("receiver", Halves.Low(w1));
        var flags = d.W(2);
        d.Field(
            "flags",
            flags,
            Describing.FlagText(
                flags,
                ((ulong)NotificationGetFlags.SpBitmap, "SP"),
                ((ulong)NotificationGetFlags.VmBitmap, "VM"),
                ((ulong)NotificationGetFlags.SpmFrameworkBitmap, "SPM framework"),
                ((ulong)NotificationGetFlags.HypervisorFrameworkBitmap, "hypervisor framework")));
        d.MbzWord(2, NotificationGet.FlagsMbz);
        if ((flags & (uint)NotificationGetFlags.All) == 0)
        {
            d.Warn("no bitmap asked for (flags 0): nothing is returned or cleared");
        }

        d.Unused(3);
    }

    public static void InfoGet(Describing d)
    {
        if (d.Caller == CallerKind.Sp)
        {
            d.Warn("FFA_NOTIFICATION_INFO_GET is the normal-world scheduler's call; SPs do not make it");
        }

        d.Unused(1);
    }

    private static void Bitmap(Describing d)
    {
        var bitmap = NotificationBitmap.FromHalves(d.W(3), d.W(4));
        d.Bitmap("bitmap", bitmap);
        if (bitmap.IsEmpty)
        {
            d.Warn("the bitmap is empty: no notification ID is named (INVALID_PARAMETERS)");
        }
    }

    private static void PerVcpuNote(Describing d) => d.Warn(d.Caller switch
    {
        CallerKind.Vm => "per-vCPU flag from a VM: Xen supports only global notifications (DENIED); Hafnium >= 2.14 answers INVALID_PARAMETERS",
        CallerKind.Sp => "per-vCPU flag from an SP: per-vCPU notifications are optional (Hafnium >= 2.14: INVALID_PARAMETERS; OP-TEE: DENIED)",
        _ => "per-vCPU flag from the hypervisor: per-vCPU notifications are optional at the SPMC (Hafnium >= 2.14: INVALID_PARAMETERS)",
    });

    private static void PhysicalInstanceOnly(Describing d)
    {
        if (!d.IsHypervisor)
        {
            d.Warn($"{d.Abi} is a physical-instance call: the hypervisor (or the OS with ID 0) makes it, not a {(d.Caller == CallerKind.Vm ? "VM" : "SP")}");
        }
    }
}
