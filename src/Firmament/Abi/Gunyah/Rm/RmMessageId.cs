using System.Collections.Frozen;

namespace Firmament.Abi.Gunyah.Rm;

/// <summary>
/// Resource Manager RPC message IDs: 0x56xxxxxx VM services, 0x51xxxxxx memory services; bit 20 set for
/// notifications. Names are the RM's, without its prefixes.
/// </summary>
public enum RmMessageId : uint
{
    VmAllocate = 0x5600_0001,
    VmDeallocate = 0x5600_0002,
    VmStart = 0x5600_0004,
    VmStop = 0x5600_0005,
    VmReset = 0x5600_0006,
    VmSuspend = 0x5600_0007,
    VmResume = 0x5600_0008,
    VmConfigImage = 0x5600_0009,
    VmAuthImage = 0x5600_000A,
    VmInit = 0x5600_000B,
    VmSetBootContext = 0x5600_000C,
    VmGetId = 0x5600_0010,
    VmLookupUri = 0x5600_0011,
    VmLookupGuid = 0x5600_0012,
    VmLookupName = 0x5600_0013,
    VmGetOwner = 0x5600_0015,
    VmGetState = 0x5600_0017,
    VmGetCrashMsg = 0x5600_0019,
    VmGetHypResources = 0x5600_0020,
    VmGetHypCapIds = 0x5600_0021,
    VmGetHypIrqs = 0x5600_0022,
    VmGetVmid = 0x5600_0024,
    VmGetPeers = 0x5600_0025,
    VmSetTimeBase = 0x5600_0030,
    VmSetContext = 0x5600_0031,
    VmSetFirmwareMem = 0x5600_0032,
    VmSetDemandPaging = 0x5600_0033,
    VmSetAddressLayout = 0x5600_0034,
    VmIrqAccept = 0x5600_0050,
    VmIrqLend = 0x5600_0051,
    VmIrqRelease = 0x5600_0052,
    VmIrqReclaim = 0x5600_0053,
    VmIrqNotify = 0x5600_0054,
    VmIrqUnmap = 0x5600_0055,
    VmSetStatus = 0x5600_0080,
    VmConsoleOpen = 0x5600_0081,
    VmConsoleClose = 0x5600_0082,
    VmConsoleWrite = 0x5600_0083,
    VmConsoleFlush = 0x5600_0084,
    VmExit = 0x5600_0085,
    VmSetCrashMsg = 0x5600_0086,
    VmHostGetType = 0x5600_00A0,
    IpaReserve = 0x5600_00B0,
    IpaUnreserve = 0x5600_00B1,

    MemDonate = 0x5100_0010,
    MemAccept = 0x5100_0011,
    MemLend = 0x5100_0012,
    MemShare = 0x5100_0013,
    MemRelease = 0x5100_0014,
    MemReclaim = 0x5100_0015,
    MemNotify = 0x5100_0017,
    MemAppend = 0x5100_0018,
    MemQcomLookupSgl = 0x5100_001A,
    FwMilestone = 0x5100_0020,
    FwSetVmFirmware = 0x5100_0021,

    VmExitedNotification = 0x5610_0001,
    VmShutdownNotification = 0x5610_0002,
    VmStatusNotification = 0x5610_0008,
    VmIrqLentNotification = 0x5610_0011,
    VmIrqReleasedNotification = 0x5610_0012,
    VmIrqAcceptedNotification = 0x5610_0013,
    VmConsoleCharsNotification = 0x5610_0080,
    MemSharedNotification = 0x5110_0011,
    MemReleasedNotification = 0x5110_0012,
    MemAcceptedNotification = 0x5110_0013,
    MemRecallNotification = 0x5110_0014,
}

/// <summary>Names and kinds of RM message IDs.</summary>
public static class RmMessageIds
{
    /// <summary>Bit 20: set in every notification ID (an observed pattern, not a documented rule).</summary>
    public const uint NotificationBit = 0x0010_0000;

    private static readonly FrozenDictionary<uint, string> Names = new Dictionary<uint, string>
    {
        [0x5600_0001] = "VM_ALLOCATE",
        [0x5600_0002] = "VM_DEALLOCATE",
        [0x5600_0004] = "VM_START",
        [0x5600_0005] = "VM_STOP",
        [0x5600_0006] = "VM_RESET",
        [0x5600_0007] = "VM_SUSPEND",
        [0x5600_0008] = "VM_RESUME",
        [0x5600_0009] = "VM_CONFIG_IMAGE",
        [0x5600_000A] = "VM_AUTH_IMAGE",
        [0x5600_000B] = "VM_INIT",
        [0x5600_000C] = "VM_SET_BOOT_CONTEXT",
        [0x5600_0010] = "VM_GET_ID",
        [0x5600_0011] = "VM_LOOKUP_URI",
        [0x5600_0012] = "VM_LOOKUP_GUID",
        [0x5600_0013] = "VM_LOOKUP_NAME",
        [0x5600_0015] = "VM_GET_OWNER",
        [0x5600_0017] = "VM_GET_STATE",
        [0x5600_0019] = "VM_GET_CRASH_MSG",
        [0x5600_0020] = "VM_GET_HYP_RESOURCES",
        [0x5600_0021] = "VM_GET_HYP_CAPIDS",
        [0x5600_0022] = "VM_GET_HYP_IRQS",
        [0x5600_0024] = "VM_GET_VMID",
        [0x5600_0025] = "VM_GET_PEERS",
        [0x5600_0030] = "VM_SET_TIME_BASE",
        [0x5600_0031] = "VM_SET_CONTEXT",
        [0x5600_0032] = "VM_SET_FIRMWARE_MEM",
        [0x5600_0033] = "VM_SET_DEMAND_PAGING",
        [0x5600_0034] = "VM_SET_ADDRESS_LAYOUT",
        [0x5600_0050] = "VM_IRQ_ACCEPT",
        [0x5600_0051] = "VM_IRQ_LEND",
        [0x5600_0052] = "VM_IRQ_RELEASE",
        [0x5600_0053] = "VM_IRQ_RECLAIM",
        [0x5600_0054] = "VM_IRQ_NOTIFY",
        [0x5600_0055] = "VM_IRQ_UNMAP",
        [0x5600_0080] = "VM_SET_STATUS",
        [0x5600_0081] = "VM_CONSOLE_OPEN",
        [0x5600_0082] = "VM_CONSOLE_CLOSE",
        [0x5600_0083] = "VM_CONSOLE_WRITE",
        [0x5600_0084] = "VM_CONSOLE_FLUSH",
        [0x5600_0085] = "VM_EXIT",
        [0x5600_0086] = "VM_SET_CRASH_MSG",
        [0x5600_00A0] = "VM_HOST_GET_TYPE",
        [0x5600_00B0] = "IPA_RESERVE",
        [0x5600_00B1] = "IPA_UNRESERVE",
        [0x5100_0010] = "MEM_DONATE",
        [0x5100_0011] = "MEM_ACCEPT",
        [0x5100_0012] = "MEM_LEND",
        [0x5100_0013] = "MEM_SHARE",
        [0x5100_0014] = "MEM_RELEASE",
        [0x5100_0015] = "MEM_RECLAIM",
        [0x5100_0017] = "MEM_NOTIFY",
        [0x5100_0018] = "MEM_APPEND",
        [0x5100_001A] = "MEM_QCOM_LOOKUP_SGL",
        [0x5100_0020] = "FW_MILESTONE",
        [0x5100_0021] = "FW_SET_VM_FIRMWARE",
        [0x5610_0001] = "VM_EXITED",
        [0x5610_0002] = "VM_SHUTDOWN",
        [0x5610_0008] = "VM_STATUS",
        [0x5610_0011] = "VM_IRQ_LENT",
        [0x5610_0012] = "VM_IRQ_RELEASED",
        [0x5610_0013] = "VM_IRQ_ACCEPTED",
        [0x5610_0080] = "VM_CONSOLE_CHARS",
        [0x5110_0011] = "MEM_SHARED",
        [0x5110_0012] = "MEM_RELEASED",
        [0x5110_0013] = "MEM_ACCEPTED",
        [0x5110_0014] = "MEM_RECALL",
    }.ToFrozenDictionary();

    /// <summary>Every known ID.</summary>
    public static IReadOnlyCollection<uint> All => Names.Keys;

    /// <summary>The name (<c>VM_CONSOLE_OPEN</c>), or null for an ID not in the table.</summary>
    public static string? Name(uint id) => Names.GetValueOrDefault(id);

    public static string? Name(this RmMessageId id) => Name((uint)id);

    public static bool IsKnown(uint id) => Names.ContainsKey(id);

    /// <summary>Whether a known ID is a notification (RM sends it unsolicited, with no error word).</summary>
    public static bool IsNotification(uint id) => (id & NotificationBit) != 0;

    /// <summary>Message ID 0 is reserved (Linux refuses to send it).</summary>
    public static bool IsReserved(uint id) => id == 0;
}
