namespace Firmament.Abi.Ffa.Calls;

// Memory management: FFA_MEM_DONATE/LEND/SHARE (32/64), FFA_MEM_RETRIEVE_REQ (32/64), FFA_MEM_RETRIEVE_RESP,
// FFA_MEM_RELINQUISH, FFA_MEM_RECLAIM, FFA_MEM_OP_PAUSE/RESUME, FFA_MEM_FRAG_RX/TX, FFA_MEM_PERM_GET/SET (32/64).
// The descriptors these calls move (in the TX/RX buffers) are decoded in Abi/Ffa/Descriptors, not here; a send's
// success (the handle) is in Returns.cs.
// Limits, stated once:
// - A handle is always two 32-bit words, low first.
// - MEM_PERM_GET's w2 is read as "page count − 1" (Hafnium and the arm-ffa crate; the per-version detail is
//   unverified), so w2 = 0xFFFFFFFF (2^32 pages) is refused.
// - MEM_OP_PAUSE/RESUME are defined only by Linux and the arm-ffa crate: a handle in w1/w2 and nothing else.

/// <summary>
/// The register shape every memory-transaction call that names a descriptor shares (DONATE, LEND, SHARE,
/// RETRIEVE_REQ): w1 = total descriptor length, w2 = length of this fragment, w3/x3 = buffer address (0 = the TX
/// buffer), w4 = buffer page count (0 with the TX buffer).
/// </summary>
public readonly record struct MemoryTransaction(uint TotalLength, uint FragmentLength, ulong Address, uint PageCount)
{
    /// <summary>A transaction whose descriptor is wholly in the TX buffer.</summary>
    public static MemoryTransaction InTxBuffer(uint length) => new(length, length, 0, 0);

    internal static bool TryDecode(in RegisterFrame frame, FfaFunction function, out bool is64, out MemoryTransaction value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, function, out is64, out violation)
            || !Wire.Word(frame, 1, 0, is64, out violation)
            || !Wire.Word(frame, 2, 0, is64, out violation)
            || !Wire.Word(frame, 4, 0, is64, out violation)
            || !Wire.Unused(frame, 5, is64, out violation))
        {
            return false;
        }

        value = new MemoryTransaction(frame.W(1), frame.W(2), Wire.R(frame, 3, is64), frame.W(4));
        return true;
    }

    internal void Encode(ref RegisterFrame frame, FfaFunction function, bool is64)
    {
        var address = Wire.Fit(Address, is64, nameof(Address));
        Wire.Begin(ref frame, function, is64);
        frame[1] = TotalLength;
        frame[2] = FragmentLength;
        frame[3] = address;
        frame[4] = PageCount;
    }
}

/// <summary>FFA_MEM_DONATE (SMC32 or SMC64): give memory away; the owner loses access.</summary>
public readonly record struct MemDonate(bool Is64, MemoryTransaction Transaction) : IFfaMessage<MemDonate>
{
    public static FfaFunction Abi => FfaFunction.MemDonate;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemDonate value, out AbiViolation violation)
    {
        var ok = MemoryTransaction.TryDecode(frame, FfaFunction.MemDonate, out var is64, out var transaction, out violation);
        value = ok ? new MemDonate(is64, transaction) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => Transaction.Encode(ref frame, FfaFunction.MemDonate, Is64);
}

/// <summary>FFA_MEM_LEND (SMC32 or SMC64): lend memory; the owner loses access until it reclaims it.</summary>
public readonly record struct MemLend(bool Is64, MemoryTransaction Transaction) : IFfaMessage<MemLend>
{
    public static FfaFunction Abi => FfaFunction.MemLend;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemLend value, out AbiViolation violation)
    {
        var ok = MemoryTransaction.TryDecode(frame, FfaFunction.MemLend, out var is64, out var transaction, out violation);
        value = ok ? new MemLend(is64, transaction) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => Transaction.Encode(ref frame, FfaFunction.MemLend, Is64);
}

/// <summary>FFA_MEM_SHARE (SMC32 or SMC64): share memory; the owner keeps access.</summary>
public readonly record struct MemShare(bool Is64, MemoryTransaction Transaction) : IFfaMessage<MemShare>
{
    public static FfaFunction Abi => FfaFunction.MemShare;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemShare value, out AbiViolation violation)
    {
        var ok = MemoryTransaction.TryDecode(frame, FfaFunction.MemShare, out var is64, out var transaction, out violation);
        value = ok ? new MemShare(is64, transaction) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => Transaction.Encode(ref frame, FfaFunction.MemShare, Is64);
}

/// <summary>FFA_MEM_RETRIEVE_REQ (SMC32 or SMC64): a borrower (or the hypervisor) asks for a transaction's memory.</summary>
public readonly record struct MemRetrieveReq(bool Is64, MemoryTransaction Transaction) : IFfaMessage<MemRetrieveReq>
{
    public static FfaFunction Abi => FfaFunction.MemRetrieveReq;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemRetrieveReq value, out AbiViolation violation)
    {
        var ok = MemoryTransaction.TryDecode(frame, FfaFunction.MemRetrieveReq, out var is64, out var transaction, out violation);
        value = ok ? new MemRetrieveReq(is64, transaction) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => Transaction.Encode(ref frame, FfaFunction.MemRetrieveReq, Is64);
}

/// <summary>
/// FFA_MEM_RETRIEVE_RESP (SMC32, returned to the retriever): w1 = total length of the response descriptor,
/// w2 = length of the fragment in the RX buffer.
/// </summary>
public readonly record struct MemRetrieveResp(uint TotalLength, uint FragmentLength) : IFfaMessage<MemRetrieveResp>
{
    public static FfaFunction Abi => FfaFunction.MemRetrieveResp;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MemRetrieveResp value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.MemRetrieveResp, out violation) || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        value = new MemRetrieveResp(frame.W(1), frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.MemRetrieveResp, false);
        frame[1] = TotalLength;
        frame[2] = FragmentLength;
    }
}

/// <summary>FFA_MEM_RELINQUISH (SMC32): no arguments; the relinquish descriptor is in the TX buffer.</summary>
public readonly record struct MemRelinquish : IFfaMessage<MemRelinquish>
{
    public static FfaFunction Abi => FfaFunction.MemRelinquish;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MemRelinquish value, out AbiViolation violation)
    {
        value = default;
        return Wire.Is32(frame, FfaFunction.MemRelinquish, out violation) && Wire.Unused(frame, 1, false, out violation);
    }

    public void Encode(ref RegisterFrame frame) => Wire.Begin(ref frame, FfaFunction.MemRelinquish, false);
}

/// <summary>FFA_MEM_RECLAIM flags (w3).</summary>
[Flags]
public enum MemReclaimFlags : uint
{
    None = 0,

    /// <summary>Bit 0: zero the memory before it returns to the owner.</summary>
    ZeroMemory = 1,

    /// <summary>Bit 1: the operation may be time-sliced.</summary>
    TimeSlicing = 1u << 1,
}

/// <summary>FFA_MEM_RECLAIM (SMC32; by the owner): w1/w2 = handle, w3 = flags (bits 31:2 MBZ).</summary>
public readonly record struct MemReclaim(MemoryHandle Handle, MemReclaimFlags Flags) : IFfaMessage<MemReclaim>
{
    /// <summary>Bits of w3 that must be zero.</summary>
    public const uint FlagsMbz = ~(uint)(MemReclaimFlags.ZeroMemory | MemReclaimFlags.TimeSlicing);

    public static FfaFunction Abi => FfaFunction.MemReclaim;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MemReclaim value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.MemReclaim, out violation)
            || !Wire.Word(frame, 3, FlagsMbz, false, out violation)
            || !Wire.Unused(frame, 4, false, out violation))
        {
            return false;
        }

        value = new MemReclaim(MemoryHandle.FromHalves(frame.W(1), frame.W(2)), (MemReclaimFlags)frame.W(3));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Only((uint)Flags, ~FlagsMbz, nameof(Flags));
        Wire.Begin(ref frame, FfaFunction.MemReclaim, false);
        frame[1] = Handle.Low;
        frame[2] = Handle.High;
        frame[3] = (uint)Flags;
    }
}

/// <summary>FFA_MEM_OP_PAUSE (SMC32): w1/w2 = handle of a time-sliced operation to pause.</summary>
public readonly record struct MemOpPause(MemoryHandle Handle) : IFfaMessage<MemOpPause>
{
    public static FfaFunction Abi => FfaFunction.MemOpPause;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MemOpPause value, out AbiViolation violation)
    {
        var ok = MemoryCodec.TryDecodeHandleOnly(frame, FfaFunction.MemOpPause, out var handle, out violation);
        value = new MemOpPause(handle);
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => MemoryCodec.EncodeHandleOnly(ref frame, FfaFunction.MemOpPause, Handle);
}

/// <summary>FFA_MEM_OP_RESUME (SMC32): w1/w2 = handle of a paused operation to resume.</summary>
public readonly record struct MemOpResume(MemoryHandle Handle) : IFfaMessage<MemOpResume>
{
    public static FfaFunction Abi => FfaFunction.MemOpResume;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MemOpResume value, out AbiViolation violation)
    {
        var ok = MemoryCodec.TryDecodeHandleOnly(frame, FfaFunction.MemOpResume, out var handle, out violation);
        value = new MemOpResume(handle);
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => MemoryCodec.EncodeHandleOnly(ref frame, FfaFunction.MemOpResume, Handle);
}

/// <summary>
/// FFA_MEM_FRAG_RX (SMC32): w1/w2 = handle, w3 = offset (bytes received so far), w4 bits 31:16 = the endpoint the
/// hypervisor acts for (0 otherwise), bits 15:0 MBZ.
/// </summary>
public readonly record struct MemFragRx(MemoryHandle Handle, uint Offset, EndpointId Endpoint) : IFfaMessage<MemFragRx>
{
    /// <summary>Bits of w4 that must be zero.</summary>
    public const uint W4Mbz = 0x0000_FFFF;

    public static FfaFunction Abi => FfaFunction.MemFragRx;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MemFragRx value, out AbiViolation violation)
    {
        var ok = MemoryCodec.TryDecodeFragment(frame, FfaFunction.MemFragRx, out var handle, out var w3, out var endpoint, out violation);
        value = ok ? new MemFragRx(handle, w3, endpoint) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => MemoryCodec.EncodeFragment(ref frame, FfaFunction.MemFragRx, Handle, Offset, Endpoint);
}

/// <summary>
/// FFA_MEM_FRAG_TX (SMC32): w1/w2 = handle, w3 = length of this fragment, w4 bits 31:16 = the sender the hypervisor
/// acts for (0 otherwise), bits 15:0 MBZ.
/// </summary>
public readonly record struct MemFragTx(MemoryHandle Handle, uint FragmentLength, EndpointId Endpoint) : IFfaMessage<MemFragTx>
{
    public static FfaFunction Abi => FfaFunction.MemFragTx;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out MemFragTx value, out AbiViolation violation)
    {
        var ok = MemoryCodec.TryDecodeFragment(frame, FfaFunction.MemFragTx, out var handle, out var w3, out var endpoint, out violation);
        value = ok ? new MemFragTx(handle, w3, endpoint) : default;
        return ok;
    }

    public void Encode(ref RegisterFrame frame) => MemoryCodec.EncodeFragment(ref frame, FfaFunction.MemFragTx, Handle, FragmentLength, Endpoint);
}

/// <summary>Data access in MEM_PERM_GET/SET: bits 1:0 of the permissions word (2 is reserved).</summary>
public enum MemDataAccess : byte
{
    NoAccess = 0,
    ReadWrite = 1,
    ReadOnly = 3,
}

/// <summary>
/// The MEM_PERM_GET/SET permissions word: bits 1:0 data access, bit 2 set = not executable; bits 31:3 MBZ.
/// </summary>
public readonly record struct MemPermissions(MemDataAccess Access, bool Executable)
{
    /// <summary>Bits of the word that must be zero.</summary>
    public const uint Mbz = 0xFFFF_FFF8;

    /// <summary>Bit 2: the memory is not executable.</summary>
    public const uint NonExecutableBit = 1u << 2;

    private const uint AccessMask = 0x3;

    public uint Encode()
    {
        if (Access is not (MemDataAccess.NoAccess or MemDataAccess.ReadWrite or MemDataAccess.ReadOnly))
        {
            Wire.Refuse(nameof(Access), (ulong)Access, "Data access 2 is reserved.");
        }

        return (uint)Access | (Executable ? 0 : NonExecutableBit);
    }

    /// <summary>Reads a permissions word in register <paramref name="register"/>: MBZ bits and the reserved access value are refused.</summary>
    internal static bool TryDecode(uint word, int register, out MemPermissions permissions, out AbiViolation violation)
    {
        permissions = default;
        if ((word & Mbz) != 0)
        {
            violation = AbiViolation.Mbz(register, word & Mbz);
            return false;
        }

        if ((word & AccessMask) == 2)
        {
            violation = AbiViolation.Reserved(register, word & AccessMask);
            return false;
        }

        violation = default;
        permissions = new MemPermissions((MemDataAccess)(word & AccessMask), (word & NonExecutableBit) == 0);
        return true;
    }

    public override string ToString() => Text((uint)Access | (Executable ? 0 : NonExecutableBit));

    internal static string Text(uint word)
    {
        var access = (word & AccessMask) switch
        {
            0 => "no access",
            1 => "RW",
            3 => "RO",
            _ => "reserved access",
        };
        return access + ((word & NonExecutableBit) != 0 ? ", NX" : ", X");
    }
}

/// <summary>
/// FFA_MEM_PERM_GET (v1.1, SMC32 or SMC64; S-EL0 SPs): x1 = base VA; w2 = page count − 1.
/// The answer is <see cref="MemPermGetSuccess"/>.
/// </summary>
public readonly record struct MemPermGet(bool Is64, ulong BaseAddress, uint PageCount) : IFfaMessage<MemPermGet>
{
    public static FfaFunction Abi => FfaFunction.MemPermGet;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemPermGet value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, FfaFunction.MemPermGet, out var is64, out violation)
            || !Wire.Word(frame, 2, 0, is64, out violation)
            || !Wire.Unused(frame, 3, is64, out violation))
        {
            return false;
        }

        var w2 = frame.W(2);
        if (w2 == uint.MaxValue)
        {
            violation = AbiViolation.Range(2, w2);
            return false;
        }

        value = new MemPermGet(is64, Wire.R(frame, 1, is64), w2 + 1);
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        if (PageCount == 0)
        {
            Wire.Refuse(nameof(PageCount), PageCount, "MEM_PERM_GET covers at least one page.");
        }

        var address = Wire.Fit(BaseAddress, Is64, nameof(BaseAddress));
        Wire.Begin(ref frame, FfaFunction.MemPermGet, Is64);
        frame[1] = address;
        frame[2] = PageCount - 1;
    }
}

/// <summary>
/// FFA_MEM_PERM_SET (v1.1, SMC32 or SMC64; S-EL0 SPs): x1 = base VA, w2 = page count, w3 = permissions.
/// </summary>
public readonly record struct MemPermSet(bool Is64, ulong BaseAddress, uint PageCount, MemPermissions Permissions) : IFfaMessage<MemPermSet>
{
    public static FfaFunction Abi => FfaFunction.MemPermSet;

    public static CallConventions Conventions => CallConventions.Both;

    public static bool TryDecode(in RegisterFrame frame, out MemPermSet value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.IsEither(frame, FfaFunction.MemPermSet, out var is64, out violation)
            || !Wire.Word(frame, 2, 0, is64, out violation)
            || !Wire.Word(frame, 3, 0, is64, out violation)
            || !MemPermissions.TryDecode(frame.W(3), 3, out var permissions, out violation)
            || !Wire.Unused(frame, 4, is64, out violation))
        {
            return false;
        }

        value = new MemPermSet(is64, Wire.R(frame, 1, is64), frame.W(2), permissions);
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        var permissions = Permissions.Encode();
        var address = Wire.Fit(BaseAddress, Is64, nameof(BaseAddress));
        Wire.Begin(ref frame, FfaFunction.MemPermSet, Is64);
        frame[1] = address;
        frame[2] = PageCount;
        frame[3] = permissions;
    }
}

/// <summary>The layouts the handle-carrying memory calls share.</summary>
internal static class MemoryCodec
{
    public static bool TryDecodeHandleOnly(in RegisterFrame frame, FfaFunction function, out MemoryHandle handle, out AbiViolation violation)
    {
        var ok = Wire.Is32(frame, function, out violation) && Wire.Unused(frame, 3, false, out violation);
        handle = ok ? MemoryHandle.FromHalves(frame.W(1), frame.W(2)) : default;
        return ok;
    }

    public static void EncodeHandleOnly(ref RegisterFrame frame, FfaFunction function, MemoryHandle handle)
    {
        Wire.Begin(ref frame, function, false);
        frame[1] = handle.Low;
        frame[2] = handle.High;
    }

    public static bool TryDecodeFragment(
        in RegisterFrame frame,
        FfaFunction function,
        out MemoryHandle handle,
        out uint w3,
        out EndpointId endpoint,
        out AbiViolation violation)
    {
        handle = default;
        w3 = 0;
        endpoint = default;
        if (!Wire.Is32(frame, function, out violation)
            || !Wire.Word(frame, 4, MemFragRx.W4Mbz, false, out violation)
            || !Wire.Unused(frame, 5, false, out violation))
        {
            return false;
        }

        handle = MemoryHandle.FromHalves(frame.W(1), frame.W(2));
        w3 = frame.W(3);
        endpoint = new EndpointId(Halves.High(frame.W(4)));
        return true;
    }

    public static void EncodeFragment(ref RegisterFrame frame, FfaFunction function, MemoryHandle handle, uint w3, EndpointId endpoint)
    {
        Wire.Begin(ref frame, function, false);
        frame[1] = handle.Low;
        frame[2] = handle.High;
        frame[3] = w3;
        frame[4] = Halves.Pack(endpoint.Value, 0);
    }
}

/// <summary>How the describer reads the memory calls.</summary>
internal static class MemoryDescriber
{
    public static void Transaction(Describing d)
    {
        var total = d.W(1);
        var fragment = d.W(2);
        var address = d.R(3);
        var pages = d.W(4);
        d.Field("total_length", total);
        d.Field("fragment_length", fragment, fragment < total ? "first fragment" : string.Empty);
        d.Field("address", address, address == 0 ? "0: the TX buffer" : Describing.Hex(address));
        d.Field("page_count", pages);
        d.MbzWord(1, 0);
        d.MbzWord(2, 0);
        d.MbzWord(4, 0);
        if (fragment > total)
        {
            d.Warn($"the fragment ({fragment} bytes) is longer than the whole descriptor ({total} bytes)");
        }

        if (total == 0)
        {
            d.Warn("a total length of 0: there is no descriptor");
        }

        if (address == 0 && pages != 0)
        {
            d.Warn("the page count is MBZ when the descriptor is in the TX buffer (address 0)");
        }
        else if (address != 0 && pages == 0)
        {
            d.Warn("a buffer address with a page count of 0");
        }

        d.Unused(5);
    }

    public static void RetrieveResp(Describing d)
    {
        d.Field("total_length", d.W(1));
        d.Field("fragment_length", d.W(2));
        if (d.W(2) > d.W(1))
        {
            d.Warn($"the fragment ({d.W(2)} bytes) is longer than the whole descriptor ({d.W(1)} bytes)");
        }

        d.Unused(3);
    }

    public static void Reclaim(Describing d)
    {
        Handle(d);
        var flags = d.W(3);
        d.Field("flags", flags, Describing.FlagText(flags, ((ulong)MemReclaimFlags.ZeroMemory, "zero memory"), ((ulong)MemReclaimFlags.TimeSlicing, "time slicing")));
        d.MbzWord(3, MemReclaim.FlagsMbz);
        d.Unused(4);
    }

    public static void HandleOnly(Describing d)
    {
        Handle(d);
        d.Unused(3);
    }

    public static void Fragment(Describing d, bool rx)
    {
        Handle(d);
        d.Field(rx ? "offset" : "fragment_length", d.W(3));
        var endpoint = Halves.High(d.W(4));
        d.Endpoint("endpoint", endpoint);
        d.MbzWord(4, MemFragRx.W4Mbz);
        d.HypervisorOnlyId("w4[31:16]", endpoint, "when it acts for a VM");
        d.Unused(5);
    }

    public static void PermGet(Describing d)
    {
        d.Hex("address", d.R(1));
        var w2 = d.W(2);
        d.Field("page_count", (ulong)w2 + 1, "w2 = page count - 1");
        d.MbzWord(2, 0);
        S0Only(d);
        d.Unused(3);
    }

    public static void PermSet(Describing d)
    {
        d.Hex("address", d.R(1));
        d.Field("page_count", d.W(2));
        var permissions = d.W(3);
        d.Field("permissions", permissions, MemPermissions.Text(permissions));
        d.MbzWord(2, 0);
        d.MbzWord(3, MemPermissions.Mbz);
        if ((permissions & 3) == 2)
        {
            d.Warn("w3: data access 2 is reserved");
        }

        if (d.W(2) == 0)
        {
            d.Warn("a page count of 0 changes nothing");
        }

        S0Only(d);
        d.Unused(4);
    }

    private static void Handle(Describing d)
    {
        var handle = MemoryHandle.FromHalves(d.W(1), d.W(2));
        d.Field("handle", handle.Value, HandleText(handle));
    }

    internal static string HandleText(MemoryHandle handle) =>
        !handle.IsValid ? "invalid handle" : handle.IsHypervisorAllocated ? "allocated by the hypervisor" : "allocated by the SPMC";

    private static void S0Only(Describing d)
    {
        if (d.Caller != CallerKind.Sp)
        {
            d.Warn($"{d.Abi} is for S-EL0 SPs only");
        }
    }
}
