namespace Firmament.Abi.Ffa.Calls;

// RX/TX buffers: FFA_RXTX_MAP (32/64), FFA_RXTX_UNMAP, FFA_RX_RELEASE, FFA_RX_ACQUIRE.
// Limits, stated once:
// - RXTX_MAP's page count is w3 bits 5:0 (bits 31:6 MBZ). TF-A masks it with 0x1F; we follow the spec field.
// - The VM ID sits in w1 bits 31:16 for RXTX_UNMAP but in bits 15:0 for RX_RELEASE and RX_ACQUIRE; the other half is MBZ.
//   Only the hypervisor (acting for a VM) may put a non-zero ID there: that is a caller rule, left to the describer
//   and to the partition manager.

/// <summary>
/// FFA_RXTX_MAP (SMC32 or SMC64): w1/x1 = TX buffer address, w2/x2 = RX buffer address, w3 bits 5:0 = page count
/// (4 KiB pages). A hypervisor forwarding a VM's buffers passes zero in all three (the endpoint RX/TX descriptor is
/// in its TX buffer).
/// </summary>
public readonly record struct RxTxMap(bool Is64, ulong TxAddress, ulong RxAddress, uint PageCount) : IFfaMessage<RxTxMap>
{
    /// <summary>The largest page count the 6-bit field holds.</summary>
    public const uint MaxPageCount = 0x3F;

    /// <summary>Bits of w3 that must be zero.</summary>
    public const uint PageCountMbz = ~MaxPageCount;

    public static FfaFunction Abi => FfaFunction.RxTxMap;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out RxTxMap value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, FfaFunction.RxTxMap, out var is64, out violation)
            || !Wire.Word(frame, 3, PageCountMbz, is64, out violation)
            || !Wire.Unused(frame, 4, is64, out violation))
        {
            return false;
        }

        value = new RxTxMap(is64, Wire.R(frame, 1, is64), Wire.R(frame, 2, is64), frame.W(3));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        var tx = Wire.Fit(TxAddress, Is64, nameof(TxAddress));
        var rx = Wire.Fit(RxAddress, Is64, nameof(RxAddress));
        Wire.AtMost(PageCount, MaxPageCount, nameof(PageCount));
        Wire.Begin(ref frame, FfaFunction.RxTxMap, Is64);
        frame[1] = tx;
        frame[2] = rx;
        frame[3] = PageCount;
    }
}

/// <summary>
/// FFA_RXTX_UNMAP (SMC32 only): w1 bits 31:16 = the VM whose buffers the hypervisor unmaps (0 otherwise),
/// bits 15:0 MBZ.
/// </summary>
public readonly record struct RxTxUnmap(EndpointId VmId) : IFfaMessage<RxTxUnmap>
{
    /// <summary>Bits of w1 that must be zero.</summary>
    public const uint W1Mbz = 0x0000_FFFF;

    public static FfaFunction Abi => FfaFunction.RxTxUnmap;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out RxTxUnmap value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.RxTxUnmap, out violation)
            || !Wire.Word(frame, 1, W1Mbz, false, out violation)
            || !Wire.Unused(frame, 2, false, out violation))
        {
            return false;
        }

        value = new RxTxUnmap(new EndpointId(Halves.High(frame.W(1))));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.RxTxUnmap, false);
        frame[1] = Halves.Pack(VmId.Value, 0);
    }
}

/// <summary>
/// FFA_RX_RELEASE (SMC32 only): w1 bits 15:0 = the VM whose RX buffer the hypervisor releases at the SPMC
/// (0 otherwise), bits 31:16 MBZ.
/// </summary>
public readonly record struct RxRelease(EndpointId VmId) : IFfaMessage<RxRelease>
{
    /// <summary>Bits of w1 that must be zero.</summary>
    public const uint W1Mbz = 0xFFFF_0000;

    public static FfaFunction Abi => FfaFunction.RxRelease;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out RxRelease value, out AbiViolation violation)
    {
        value = default;
        if (!RxTxCodec.TryDecodeLowVmId(frame, FfaFunction.RxRelease, out var vmId, out violation))
        {
            return false;
        }

        value = new RxRelease(vmId);
        return true;
    }

    public void Encode(ref RegisterFrame frame) => RxTxCodec.EncodeLowVmId(ref frame, FfaFunction.RxRelease, VmId);
}

/// <summary>
/// FFA_RX_ACQUIRE (v1.1, SMC32 only, hypervisor to SPMC): w1 bits 15:0 = the VM whose RX buffer the hypervisor
/// takes from the SPMC before writing into it; bits 31:16 MBZ.
/// </summary>
public readonly record struct RxAcquire(EndpointId VmId) : IFfaMessage<RxAcquire>
{
    public static FfaFunction Abi => FfaFunction.RxAcquire;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out RxAcquire value, out AbiViolation violation)
    {
        value = default;
        if (!RxTxCodec.TryDecodeLowVmId(frame, FfaFunction.RxAcquire, out var vmId, out violation))
        {
            return false;
        }

        value = new RxAcquire(vmId);
        return true;
    }

    public void Encode(ref RegisterFrame frame) => RxTxCodec.EncodeLowVmId(ref frame, FfaFunction.RxAcquire, VmId);
}

/// <summary>The shape RX_RELEASE and RX_ACQUIRE share: a VM ID in w1 bits 15:0 and nothing else.</summary>
internal static class RxTxCodec
{
    public static bool TryDecodeLowVmId(in RegisterFrame frame, FfaFunction function, out EndpointId vmId, out AbiViolation violation)
    {
        vmId = default;
        if (!Wire.Is32(frame, function, out violation)
            || !Wire.Word(frame, 1, RxRelease.W1Mbz, false, out violation)
            || !Wire.Unused(frame, 2, false, out violation))
        {
            return false;
        }

        vmId = new EndpointId(Halves.Low(frame.W(1)));
        return true;
    }

    public static void EncodeLowVmId(ref RegisterFrame frame, FfaFunction function, EndpointId vmId)
    {
        Wire.Begin(ref frame, function, false);
        frame[1] = vmId.Value;
    }
}

/// <summary>How the describer reads the RX/TX buffer calls.</summary>
internal static class RxTxDescriber
{
    private const ulong PageMask = 0xFFF;

    public static void Map(Describing d)
    {
        var tx = d.R(1);
        var rx = d.R(2);
        var pages = d.W(3) & RxTxMap.MaxPageCount;
        d.Hex("tx_address", tx);
        d.Hex("rx_address", rx);
        d.Field("page_count", pages, pages == 1 ? "1 page (4 KiB)" : $"{pages} pages ({pages * 4} KiB)");
        d.MbzWord(3, RxTxMap.PageCountMbz);
        if (tx == 0 && rx == 0 && pages == 0)
        {
            if (!d.IsHypervisor)
            {
                d.Warn("TX, RX and page count are all 0: only the hypervisor forwards a map that way (v1.1 endpoint RX/TX descriptor)");
            }
        }
        else
        {
            if (pages == 0)
            {
                d.Warn("a page count of 0 maps nothing");
            }

            if ((tx & PageMask) != 0 || (rx & PageMask) != 0)
            {
                d.Warn("the TX and RX addresses must be 4 KiB aligned (at least)");
            }

            if (tx == rx)
            {
                d.Warn("TX and RX are the same address");
            }
        }

        d.Unused(4);
    }

    public static void Unmap(Describing d)
    {
        var vm = Halves.High(d.W(1));
        d.Endpoint("vm_id", vm);
        d.MbzWord(1, RxTxUnmap.W1Mbz);
        d.HypervisorOnlyId("w1[31:16]", vm, "to unmap a VM's buffers at the SPMC");
        d.Unused(2);
    }

    public static void Release(Describing d)
    {
        var vm = Halves.Low(d.W(1));
        d.Endpoint("vm_id", vm);
        d.MbzWord(1, RxRelease.W1Mbz);
        d.HypervisorOnlyId("w1[15:0]", vm, "to release a VM's RX buffer at the SPMC");
        d.Unused(2);
    }

    public static void Acquire(Describing d)
    {
        var vm = Halves.Low(d.W(1));
        d.Endpoint("vm_id", vm);
        d.MbzWord(1, RxRelease.W1Mbz);
        if (!d.IsHypervisor)
        {
            d.Warn("FFA_RX_ACQUIRE is the hypervisor's call to the SPMC; other callers get NOT_SUPPORTED");
        }

        d.Unused(2);
    }
}
