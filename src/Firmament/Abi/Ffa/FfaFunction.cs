using System.Collections.Frozen;

namespace Firmament.Abi.Ffa;

/// <summary>FF-A function numbers (function ID bits 15:0). Names are the spec's minus the <c>FFA_</c> prefix.</summary>
public enum FfaFunction : ushort
{
    Error = 0x60,
    Success = 0x61,
    Interrupt = 0x62,
    Version = 0x63,
    Features = 0x64,
    RxRelease = 0x65,
    RxTxMap = 0x66,
    RxTxUnmap = 0x67,
    PartitionInfoGet = 0x68,
    IdGet = 0x69,
    MsgPoll = 0x6A,
    MsgWait = 0x6B,
    Yield = 0x6C,
    Run = 0x6D,
    MsgSend = 0x6E,
    MsgSendDirectReq = 0x6F,
    MsgSendDirectResp = 0x70,
    MemDonate = 0x71,
    MemLend = 0x72,
    MemShare = 0x73,
    MemRetrieveReq = 0x74,
    MemRetrieveResp = 0x75,
    MemRelinquish = 0x76,
    MemReclaim = 0x77,
    MemOpPause = 0x78,
    MemOpResume = 0x79,
    MemFragRx = 0x7A,
    MemFragTx = 0x7B,
    NormalWorldResume = 0x7C,
    NotificationBitmapCreate = 0x7D,
    NotificationBitmapDestroy = 0x7E,
    NotificationBind = 0x7F,
    NotificationUnbind = 0x80,
    NotificationSet = 0x81,
    NotificationGet = 0x82,
    NotificationInfoGet = 0x83,
    RxAcquire = 0x84,
    SpmIdGet = 0x85,
    MsgSend2 = 0x86,
    SecondaryEpRegister = 0x87,
    MemPermGet = 0x88,
    MemPermSet = 0x89,
    ConsoleLog = 0x8A,
    PartitionInfoGetRegs = 0x8B,
    El3IntrHandle = 0x8C,
    MsgSendDirectReq2 = 0x8D,
    MsgSendDirectResp2 = 0x8E,
}

/// <summary>Which calling conventions the spec defines for a function (up to v1.2).</summary>
[Flags]
public enum CallConventions : byte
{
    None = 0,
    Smc32 = 1,
    Smc64 = 2,
    Both = Smc32 | Smc64,
}

/// <summary>One row of the FF-A function table: the spec name, its IDs and the version that introduced it.</summary>
public sealed record FfaFunctionInfo(FfaFunction Function, string Name, CallConventions Conventions, FfaVersion Introduced, bool Legacy)
{
    /// <summary>The SMC32 ID (<c>0x84000000 | fn</c>), or null where the spec defines none.</summary>
    public FunctionId? Smc32Id => (Conventions & CallConventions.Smc32) != 0 ? FfaFunctions.Id(Function, false) : null;

    /// <summary>The SMC64 ID (<c>0xC4000000 | fn</c>), or null where the spec defines none.</summary>
    public FunctionId? Smc64Id => (Conventions & CallConventions.Smc64) != 0 ? FfaFunctions.Id(Function, true) : null;
}

/// <summary>The complete FF-A v1.2 function table (0x60..0x8E) and lookups over it.</summary>
public static class FfaFunctions
{
    /// <summary>Lowest FF-A function number.</summary>
    public const ushort First = 0x60;

    /// <summary>Highest function number defined by v1.2.</summary>
    public const ushort Last = 0x8E;

    private static readonly FfaFunctionInfo[] Table = Build();

    private static readonly FrozenDictionary<string, FfaFunctionInfo> ByName =
        Table.ToFrozenDictionary(static info => info.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every function, in number order.</summary>
    public static IReadOnlyList<FfaFunctionInfo> All => Table;

    /// <summary>The ID for a function in one convention (whether or not the spec defines that convention).</summary>
    public static FunctionId Id(FfaFunction function, bool is64) => FunctionId.Fast(SmcccOwner.StandardSecure, (ushort)function, is64);

    /// <summary>The SMC32 ID of a function, as a raw w0 value.</summary>
    public static uint Id32(FfaFunction function) => Id(function, false).Value;

    /// <summary>The SMC64 ID of a function, as a raw w0 value.</summary>
    public static uint Id64(FfaFunction function) => Id(function, true).Value;

    /// <summary>The table row for a function number, or null if the number is outside 0x60..0x8E.</summary>
    public static FfaFunctionInfo? Info(FfaFunction function)
    {
        var index = (int)function - First;
        return (uint)index < (uint)Table.Length ? Table[index] : null;
    }

    /// <summary>Looks a function up by its spec name, with or without the <c>FFA_</c> prefix and the _32/_64 suffix.</summary>
    public static bool TryParseName(string name, out FfaFunctionInfo info, out bool? is64)
    {
        ArgumentNullException.ThrowIfNull(name);
        is64 = null;
        var key = name.Trim();
        if (!key.StartsWith("FFA_", StringComparison.OrdinalIgnoreCase))
        {
            key = "FFA_" + key;
        }

        if (key.EndsWith("_64", StringComparison.Ordinal) || key.EndsWith("_32", StringComparison.Ordinal))
        {
            is64 = key.EndsWith("_64", StringComparison.Ordinal);
            key = key[..^3];
        }

        return ByName.TryGetValue(key, out info!);
    }

    /// <summary>
    /// Classifies a w0 value as an FF-A function ID: the function, and whether the ID is one the spec defines
    /// (right owner, fast, MBZ bits clear, the convention exists for that function).
    /// </summary>
    public static bool TryClassify(uint w0, out FfaFunctionInfo info, out bool is64)
    {
        var id = new FunctionId(w0);
        is64 = id.Is64;
        info = null!;
        if (!id.IsFast || id.Owner != SmcccOwner.StandardSecure || id.ReservedBits != 0)
        {
            return false;
        }

        var found = Info((FfaFunction)id.Number);
        if (found is null)
        {
            return false;
        }

        info = found;
        return (found.Conventions & (is64 ? CallConventions.Smc64 : CallConventions.Smc32)) != 0;
    }

    private static FfaFunctionInfo[] Build()
    {
        var v10 = FfaVersion.V1_0;
        var v11 = FfaVersion.V1_1;
        var v12 = FfaVersion.V1_2;
        const CallConventions s32 = CallConventions.Smc32;
        const CallConventions both = CallConventions.Both;
        const CallConventions s64 = CallConventions.Smc64;

        // SMC64 IDs that only v1.3 adds (ERROR, INTERRUPT, MSG_WAIT, YIELD, RUN, NORMAL_WORLD_RESUME) are left out:
        // this table is v1.2.
        FfaFunctionInfo[] rows =
        [
            new(FfaFunction.Error, "FFA_ERROR", s32, v10, false),
            new(FfaFunction.Success, "FFA_SUCCESS", both, v10, false),
            new(FfaFunction.Interrupt, "FFA_INTERRUPT", s32, v10, false),
            new(FfaFunction.Version, "FFA_VERSION", s32, v10, false),
            new(FfaFunction.Features, "FFA_FEATURES", s32, v10, false),
            new(FfaFunction.RxRelease, "FFA_RX_RELEASE", s32, v10, false),
            new(FfaFunction.RxTxMap, "FFA_RXTX_MAP", both, v10, false),
            new(FfaFunction.RxTxUnmap, "FFA_RXTX_UNMAP", s32, v10, false),
            new(FfaFunction.PartitionInfoGet, "FFA_PARTITION_INFO_GET", s32, v10, false),
            new(FfaFunction.IdGet, "FFA_ID_GET", s32, v10, false),
            new(FfaFunction.MsgPoll, "FFA_MSG_POLL", s32, v10, true),
            new(FfaFunction.MsgWait, "FFA_MSG_WAIT", s32, v10, false),
            new(FfaFunction.Yield, "FFA_YIELD", s32, v10, false),
            new(FfaFunction.Run, "FFA_RUN", s32, v10, false),
            new(FfaFunction.MsgSend, "FFA_MSG_SEND", s32, v10, true),
            new(FfaFunction.MsgSendDirectReq, "FFA_MSG_SEND_DIRECT_REQ", both, v10, false),
            new(FfaFunction.MsgSendDirectResp, "FFA_MSG_SEND_DIRECT_RESP", both, v10, false),
            new(FfaFunction.MemDonate, "FFA_MEM_DONATE", both, v10, false),
            new(FfaFunction.MemLend, "FFA_MEM_LEND", both, v10, false),
            new(FfaFunction.MemShare, "FFA_MEM_SHARE", both, v10, false),
            new(FfaFunction.MemRetrieveReq, "FFA_MEM_RETRIEVE_REQ", both, v10, false),
            new(FfaFunction.MemRetrieveResp, "FFA_MEM_RETRIEVE_RESP", s32, v10, false),
            new(FfaFunction.MemRelinquish, "FFA_MEM_RELINQUISH", s32, v10, false),
            new(FfaFunction.MemReclaim, "FFA_MEM_RECLAIM", s32, v10, false),
            new(FfaFunction.MemOpPause, "FFA_MEM_OP_PAUSE", s32, v10, false),
            new(FfaFunction.MemOpResume, "FFA_MEM_OP_RESUME", s32, v10, false),
            new(FfaFunction.MemFragRx, "FFA_MEM_FRAG_RX", s32, v10, false),
            new(FfaFunction.MemFragTx, "FFA_MEM_FRAG_TX", s32, v10, false),
            new(FfaFunction.NormalWorldResume, "FFA_NORMAL_WORLD_RESUME", s32, v10, false),
            new(FfaFunction.NotificationBitmapCreate, "FFA_NOTIFICATION_BITMAP_CREATE", s32, v11, false),
            new(FfaFunction.NotificationBitmapDestroy, "FFA_NOTIFICATION_BITMAP_DESTROY", s32, v11, false),
            new(FfaFunction.NotificationBind, "FFA_NOTIFICATION_BIND", s32, v11, false),
            new(FfaFunction.NotificationUnbind, "FFA_NOTIFICATION_UNBIND", s32, v11, false),
            new(FfaFunction.NotificationSet, "FFA_NOTIFICATION_SET", s32, v11, false),
            new(FfaFunction.NotificationGet, "FFA_NOTIFICATION_GET", s32, v11, false),
            new(FfaFunction.NotificationInfoGet, "FFA_NOTIFICATION_INFO_GET", both, v11, false),
            new(FfaFunction.RxAcquire, "FFA_RX_ACQUIRE", s32, v11, false),
            new(FfaFunction.SpmIdGet, "FFA_SPM_ID_GET", s32, v11, false),
            new(FfaFunction.MsgSend2, "FFA_MSG_SEND2", s32, v11, false),
            new(FfaFunction.SecondaryEpRegister, "FFA_SECONDARY_EP_REGISTER", both, v11, false),
            new(FfaFunction.MemPermGet, "FFA_MEM_PERM_GET", both, v11, false),
            new(FfaFunction.MemPermSet, "FFA_MEM_PERM_SET", both, v11, false),
            new(FfaFunction.ConsoleLog, "FFA_CONSOLE_LOG", both, v12, false),
            new(FfaFunction.PartitionInfoGetRegs, "FFA_PARTITION_INFO_GET_REGS", s64, v12, false),
            new(FfaFunction.El3IntrHandle, "FFA_EL3_INTR_HANDLE", s32, v12, false),
            new(FfaFunction.MsgSendDirectReq2, "FFA_MSG_SEND_DIRECT_REQ2", s64, v12, false),
            new(FfaFunction.MsgSendDirectResp2, "FFA_MSG_SEND_DIRECT_RESP2", s64, v12, false),
        ];

        for (var i = 0; i < rows.Length; i++)
        {
            if ((int)rows[i].Function != First + i)
            {
                throw new InvalidOperationException($"FF-A function table out of order at {rows[i].Name}.");
            }
        }

        return rows;
    }
}
