using System.Collections.Frozen;

namespace Firmament.Abi.Gunyah;

// Naming scheme for the whole Gunyah ABI layer. A hypercall is named after the hypervisor's own hypercall definition
// (the lower-case name in its `.hvc` files and API document, e.g. `msgqueue_send`). The spec-style name is that
// name upper-cased with the `GH_` prefix Linux uses for its Gunyah constants (`GH_MSGQUEUE_SEND`); the enum member
// is the same name in PascalCase (`MsgqueueSend`). Argument names are lower snake case after the same definitions.

/// <summary>Gunyah hypercall numbers N: native <c>HVC #(0x6000 + N)</c>, SMCCC ID <c>0xC6008000 | N</c>.</summary>
public enum GunyahHypercall : ushort
{
    HypervisorIdentify = 0x00,
    PartitionCreatePartition = 0x01,
    PartitionCreateCspace = 0x02,
    PartitionCreateAddrspace = 0x03,
    PartitionCreateMemextent = 0x04,
    PartitionCreateThread = 0x05,
    PartitionCreateDoorbell = 0x06,
    PartitionCreateMsgqueue = 0x07,
    PartitionCreateWatchdog = 0x09,
    PartitionCreateVic = 0x0A,
    PartitionCreateVpmGroup = 0x0B,
    ObjectActivate = 0x0C,
    ObjectActivateFrom = 0x0D,
    ObjectReset = 0x0E,
    ObjectResetFrom = 0x0F,
    DoorbellBindVirq = 0x10,
    DoorbellUnbindVirq = 0x11,
    DoorbellSend = 0x12,
    DoorbellReceive = 0x13,
    DoorbellReset = 0x14,
    DoorbellMask = 0x15,
    MsgqueueBindSendVirq = 0x17,
    MsgqueueBindReceiveVirq = 0x18,
    MsgqueueUnbindSendVirq = 0x19,
    MsgqueueUnbindReceiveVirq = 0x1A,
    MsgqueueSend = 0x1B,
    MsgqueueReceive = 0x1C,
    MsgqueueFlush = 0x1D,
    MsgqueueConfigureSend = 0x1F,
    MsgqueueConfigureReceive = 0x20,
    MsgqueueConfigure = 0x21,
    CspaceDeleteCapFrom = 0x22,
    CspaceCopyCapFrom = 0x23,
    CspaceRevokeCapFrom = 0x24,
    CspaceConfigure = 0x25,
    HwirqBindVirq = 0x26,
    HwirqUnbindVirq = 0x27,
    VicConfigure = 0x28,
    VicAttachVcpu = 0x29,
    AddrspaceAttachThread = 0x2A,
    AddrspaceMap = 0x2B,
    AddrspaceUnmap = 0x2C,
    AddrspaceUpdateAccess = 0x2D,
    AddrspaceConfigure = 0x2E,
    AddrspaceAttachVdma = 0x2F,
    MemextentModify = 0x30,
    MemextentConfigure = 0x31,
    MemextentConfigureDerive = 0x32,
    VcpuConfigure = 0x34,
    VcpuPoweron = 0x38,
    VcpuPoweroff = 0x39,
    VcpuKill = 0x3A,
    SchedulerYield = 0x3B,
    VpmGroupAttachVcpu = 0x3C,
    VcpuSetAffinity = 0x3D,
    CspaceAttachThread = 0x3E,
    VpmGroupBindVirq = 0x43,
    VpmGroupUnbindVirq = 0x44,
    VpmGroupGetState = 0x45,
    VcpuSetPriority = 0x46,
    VcpuSetTimeslice = 0x47,
    PartitionCreateVirtioMmio = 0x48,
    VicBindMsiSource = 0x56,
    PrngGetEntropy = 0x57,
    CspaceRevokeCapsFrom = 0x59,
    AddrspaceLookup = 0x5A,
    AddrspaceConfigureInfoArea = 0x5B,
    VcpuBindVirq = 0x5C,
    VcpuUnbindVirq = 0x5D,
    AddrspaceConfigureVmmio = 0x60,
    MemextentDonate = 0x61,
    AddrspaceAttachVdevice = 0x62,
    VcpuRegisterWrite = 0x64,
    VcpuRun = 0x65,
    VpmGroupConfigure = 0x66,
    VcpuRunCheck = 0x68,
}

/// <summary>How a decoder and the describer read one argument register.</summary>
public enum GunyahArgKind : byte
{
    /// <summary>A plain 64-bit value (address, size, count, bitmap).</summary>
    Value,

    /// <summary>A capability ID in the caller's cspace.</summary>
    Cap,

    /// <summary>Virtual IRQ Info: virq 23:0, target vCPU 31:24, 63:32 MBZ.</summary>
    VirqInfo,

    /// <summary>msgqueue_send flags: bit 0 PUSH, 63:1 MBZ.</summary>
    MsgqueueSendOptions,

    /// <summary>msgqueue_configure create_info: depth 15:0, max message size 31:16, 63:32 MBZ.</summary>
    MsgqueueCreateInfo,

    /// <summary>A msgqueue threshold: a count, or −1 (unchanged), or −2 (queue depth, receive side only).</summary>
    Threshold,

    /// <summary>A msgqueue threshold delay: must be −1 (delays are not implemented).</summary>
    Delay,

    /// <summary>A 32-bit capability rights mask.</summary>
    Rights,

    /// <summary>A 0/1 boolean result.</summary>
    Boolean,

    /// <summary>An <c>error_t</c> result.</summary>
    Error,

    /// <summary>A vcpu_run state result.</summary>
    VcpuRunState,
}

/// <summary>What the slot after the last real argument must hold.</summary>
public enum GunyahReservedSlot : byte
{
    /// <summary>The call has no reserved slot (it uses all its argument registers, or it takes none).</summary>
    None,

    /// <summary>The slot must be 0 (<c>_res0</c>).</summary>
    Zero,

    /// <summary>The slot must be −1, all ones (<c>_res1</c>: msgqueue_configure_send/receive, vcpu_set_affinity).</summary>
    AllOnes,
}

/// <summary>One argument or result of a hypercall: its spec-style name and how to read it.</summary>
public readonly record struct GunyahArg(string Name, GunyahArgKind Kind);

/// <summary>
/// One row of the hypercall table: number, names, inputs (in order; native from x0, SMCCC from x1), the reserved slot
/// after them, and outputs (from x0 in both conventions; x0 is <c>error</c> for every call but hypervisor_identify).
/// </summary>
public sealed class GunyahHypercallInfo
{
    internal GunyahHypercallInfo(GunyahHypercall call, string name, GunyahArg[] inputs, GunyahReservedSlot reserved, GunyahArg[] outputs)
    {
        Call = call;
        Name = name;
        SpecName = "GH_" + name;
        Inputs = inputs;
        Reserved = reserved;
        Outputs = outputs;
    }

    public GunyahHypercall Call { get; }

    /// <summary>Hypercall number N (13:0 of the SMCCC function number).</summary>
    public ushort Number => (ushort)Call;

    /// <summary>Upper-case name without prefix: <c>MSGQUEUE_SEND</c>.</summary>
    public string Name { get; }

    /// <summary>Spec-style name: <c>GH_MSGQUEUE_SEND</c>.</summary>
    public string SpecName { get; }

    public IReadOnlyList<GunyahArg> Inputs { get; }

    public GunyahReservedSlot Reserved { get; }

    /// <summary>Number of input registers the call reads, the reserved slot included.</summary>
    public int InputRegisters => Inputs.Count + (Reserved == GunyahReservedSlot.None ? 0 : 1);

    public IReadOnlyList<GunyahArg> Outputs { get; }

    /// <summary>SMCCC function ID: <c>0xC6008000 | N</c>.</summary>
    public uint SmcccId => GunyahHypercalls.SmcccId(Call);

    /// <summary>Native HVC immediate: <c>0x6000 + N</c>.</summary>
    public ushort NativeImmediate => GunyahHypercalls.NativeImmediate(Call);

    public override string ToString() => SpecName;
}

/// <summary>Why a w0 value is not a Gunyah hypercall ID.</summary>
public enum GunyahIdProblem : byte
{
    None,

    /// <summary>Owner (bits 29:24) is not 6, vendor hypervisor.</summary>
    NotVendorHypervisor,

    /// <summary>Owner 6, but the Gunyah call class (bits 15:14) is not 0b10 hypercall.</summary>
    WrongCallClass,

    /// <summary>Hypercall class, but bit 31 (fast call) is clear: the hypervisor answers SMCCC_UNKNOWN_FUNCTION.</summary>
    NotFastCall,

    /// <summary>Hypercall class, but bit 30 (SMC64) is clear: the hypervisor answers SMCCC_UNKNOWN_FUNCTION.</summary>
    NotSmc64,

    /// <summary>Bits 23:17 are reserved, must be zero.</summary>
    ReservedBitsSet,

    /// <summary>A well-formed hypercall ID whose number N is not a hypercall.</summary>
    UnknownHypercall,
}

/// <summary>The Gunyah hypercall table (reference §1.4) and lookups by number, SMCCC ID, native immediate and name.</summary>
/// <remarks>
/// Numbers follow the 12/2023 hypervisor and Linux v17. The hypervisor's API document lists memextent_donate as
/// 0x6033; Linux v17 and the reference table use 0x61, which is what this table holds. 0x08, 0x16 (doorbell halt)
/// and 0x1E (msgqueue halt) are reserved and not in the table.
/// </remarks>
public static class GunyahHypercalls
{
    /// <summary>SMCCC ID of hypercall 0: fast, SMC64, owner 6, call class 0b10.</summary>
    public const uint SmcccBase = 0xC600_8000;

    /// <summary>The SMCCC 1.3 SVE-live-state hint, bit 16; callers may set it and the hypervisor ignores it.</summary>
    public const uint SveHintBit = 1u << 16;

    /// <summary>Bits 23:17 of an SMCCC ID: reserved, zero.</summary>
    public const uint ReservedIdBits = 0x00FE_0000;

    /// <summary>Native immediate of hypercall 0.</summary>
    public const ushort NativeBase = 0x6000;

    /// <summary>Last immediate of the range the hypervisor reserves (0x6000–0x61FF).</summary>
    public const ushort NativeLast = 0x61FF;

    /// <summary>Bits 13:0: the largest number an SMCCC ID can carry.</summary>
    public const ushort MaxNumber = 0x3FFF;

    private const int CallClassShift = 14;
    private const uint CallClassHypercall = 0b10;

    private static readonly GunyahHypercallInfo?[] ByNumber = Build();

    private static readonly GunyahHypercallInfo[] Rows = [.. ByNumber.OfType<GunyahHypercallInfo>()];

    private static readonly FrozenDictionary<string, GunyahHypercallInfo> ByName =
        Rows.ToFrozenDictionary(static info => info.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every hypercall, in number order.</summary>
    public static IReadOnlyList<GunyahHypercallInfo> All => Rows;

    public static uint SmcccId(GunyahHypercall call) => SmcccBase | (ushort)call;

    public static ushort NativeImmediate(GunyahHypercall call) => (ushort)(NativeBase + (ushort)call);

    /// <summary>The row for a hypercall.</summary>
    public static GunyahHypercallInfo Info(GunyahHypercall call) =>
        TryGet((ushort)call, out var info) ? info : throw new ArgumentOutOfRangeException(nameof(call), call, "Not a Gunyah hypercall.");

    /// <summary>The row for hypercall number N, if N is a hypercall.</summary>
    public static bool TryGet(ushort number, out GunyahHypercallInfo info)
    {
        info = number < ByNumber.Length ? ByNumber[number]! : null!;
        return info is not null;
    }

    /// <summary>The row for a native HVC immediate (0x6000 + N).</summary>
    public static bool TryGetByNativeImmediate(ushort immediate, out GunyahHypercallInfo info)
    {
        if (immediate is < NativeBase or > NativeLast)
        {
            info = null!;
            return false;
        }

        return TryGet((ushort)(immediate - NativeBase), out info);
    }

    /// <summary>The row for an SMCCC function ID (w0), if it is a valid hypercall ID.</summary>
    public static bool TryGetBySmcccId(uint w0, out GunyahHypercallInfo info) => TryClassify(w0, out info, out _);

    /// <summary>
    /// Classifies w0 as a Gunyah hypercall ID, with the precise reason when it is not one. The SVE hint (bit 16) is
    /// accepted, as the hypervisor does; reserved bits 23:17 are rejected here although the hypervisor ignores them,
    /// because no caller following the spec sets them.
    /// </summary>
    public static bool TryClassify(uint w0, out GunyahHypercallInfo info, out GunyahIdProblem problem)
    {
        info = null!;
        var id = new FunctionId(w0);
        problem = id.Owner != SmcccOwner.VendorHypervisor ? GunyahIdProblem.NotVendorHypervisor
            : ((w0 >> CallClassShift) & 0b11) != CallClassHypercall ? GunyahIdProblem.WrongCallClass
            : !id.IsFast ? GunyahIdProblem.NotFastCall
            : !id.Is64 ? GunyahIdProblem.NotSmc64
            : (w0 & ReservedIdBits) != 0 ? GunyahIdProblem.ReservedBitsSet
            : !TryGet((ushort)(w0 & MaxNumber), out info) ? GunyahIdProblem.UnknownHypercall
            : GunyahIdProblem.None;
        return problem == GunyahIdProblem.None;
    }

    /// <summary>Hypercall number N of an ID in the hypercall class (bits 13:0), whether or not N is a hypercall.</summary>
    public static ushort NumberOf(uint w0) => (ushort)(w0 & MaxNumber);

    /// <summary>Looks a hypercall up by name: <c>GH_MSGQUEUE_SEND</c>, <c>MSGQUEUE_SEND</c> or <c>msgqueue_send</c>.</summary>
    public static bool TryParseName(string name, out GunyahHypercallInfo info)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim();
        if (key.StartsWith("GH_", StringComparison.OrdinalIgnoreCase))
        {
            key = key[3..];
        }

        return ByName.TryGetValue(key, out info!);
    }

    /// <summary>What a number that is not a hypercall is, in words (reserved slots have a name in the API document).</summary>
    public static string DescribeUnknown(ushort number) => number switch
    {
        0x08 => "reserved (partition object create)",
        0x16 => "reserved (doorbell halt)",
        0x1E => "reserved (msgqueue halt)",
        _ => "not a hypercall",
    };

    private static GunyahHypercallInfo?[] Build()
    {
        var table = new GunyahHypercallInfo?[(int)GunyahHypercall.VcpuRunCheck + 1];

        void Add(GunyahHypercall call, string name, GunyahArg[] inputs, GunyahReservedSlot reserved, params GunyahArg[] results) =>
            table[(int)call] = new GunyahHypercallInfo(call, name, inputs, reserved, [Arg("error", GunyahArgKind.Error), .. results]);

        const GunyahReservedSlot Res0 = GunyahReservedSlot.Zero;
        const GunyahReservedSlot Res1 = GunyahReservedSlot.AllOnes;
        const GunyahReservedSlot NoRes = GunyahReservedSlot.None;
        var newCap = Cap("new_cap");
        var vcpuState = new[] { Arg("state", GunyahArgKind.VcpuRunState), Val("state_data0"), Val("state_data1"), Val("state_data2") };

        table[0] = new GunyahHypercallInfo(
            GunyahHypercall.HypervisorIdentify, "HYPERVISOR_IDENTIFY", [], NoRes,
            [Val("hyp_api_info"), Val("api_flags0"), Val("api_flags1"), Val("api_flags2")]);

        (GunyahHypercall Call, string Name)[] creates =
        [
            (GunyahHypercall.PartitionCreatePartition, "PARTITION_CREATE_PARTITION"),
            (GunyahHypercall.PartitionCreateCspace, "PARTITION_CREATE_CSPACE"),
            (GunyahHypercall.PartitionCreateAddrspace, "PARTITION_CREATE_ADDRSPACE"),
            (GunyahHypercall.PartitionCreateMemextent, "PARTITION_CREATE_MEMEXTENT"),
            (GunyahHypercall.PartitionCreateThread, "PARTITION_CREATE_THREAD"),
            (GunyahHypercall.PartitionCreateDoorbell, "PARTITION_CREATE_DOORBELL"),
            (GunyahHypercall.PartitionCreateMsgqueue, "PARTITION_CREATE_MSGQUEUE"),
            (GunyahHypercall.PartitionCreateWatchdog, "PARTITION_CREATE_WATCHDOG"),
            (GunyahHypercall.PartitionCreateVic, "PARTITION_CREATE_VIC"),
            (GunyahHypercall.PartitionCreateVpmGroup, "PARTITION_CREATE_VPM_GROUP"),
            (GunyahHypercall.PartitionCreateVirtioMmio, "PARTITION_CREATE_VIRTIO_MMIO"),
        ];
        foreach (var (call, name) in creates)
        {
            Add(call, name, [Cap("partition"), Cap("cspace")], Res0, newCap);
        }

        Add(GunyahHypercall.ObjectActivate, "OBJECT_ACTIVATE", [Cap("cap")], Res0);
        Add(GunyahHypercall.ObjectActivateFrom, "OBJECT_ACTIVATE_FROM", [Cap("cspace"), Cap("cap")], Res0);
        Add(GunyahHypercall.ObjectReset, "OBJECT_RESET", [Cap("cap")], Res0);
        Add(GunyahHypercall.ObjectResetFrom, "OBJECT_RESET_FROM", [Cap("cspace"), Cap("cap")], Res0);

        Add(GunyahHypercall.DoorbellBindVirq, "DOORBELL_BIND_VIRQ", [Cap("cap"), Cap("vic"), Virq()], Res0);
        Add(GunyahHypercall.DoorbellUnbindVirq, "DOORBELL_UNBIND_VIRQ", [Cap("cap")], Res0);
        Add(GunyahHypercall.DoorbellSend, "DOORBELL_SEND", [Cap("cap"), Val("new_flags")], Res0, Val("old_flags"));
        Add(GunyahHypercall.DoorbellReceive, "DOORBELL_RECEIVE", [Cap("cap"), Val("clear_flags")], Res0, Val("old_flags"));
        Add(GunyahHypercall.DoorbellReset, "DOORBELL_RESET", [Cap("cap")], Res0);
        Add(GunyahHypercall.DoorbellMask, "DOORBELL_MASK", [Cap("cap"), Val("enable_mask"), Val("ack_mask")], Res0);

        Add(GunyahHypercall.MsgqueueBindSendVirq, "MSGQUEUE_BIND_SEND_VIRQ", [Cap("cap"), Cap("vic"), Virq()], Res0);
        Add(GunyahHypercall.MsgqueueBindReceiveVirq, "MSGQUEUE_BIND_RECEIVE_VIRQ", [Cap("cap"), Cap("vic"), Virq()], Res0);
        Add(GunyahHypercall.MsgqueueUnbindSendVirq, "MSGQUEUE_UNBIND_SEND_VIRQ", [Cap("cap")], Res0);
        Add(GunyahHypercall.MsgqueueUnbindReceiveVirq, "MSGQUEUE_UNBIND_RECEIVE_VIRQ", [Cap("cap")], Res0);
        Add(
            GunyahHypercall.MsgqueueSend, "MSGQUEUE_SEND",
            [Cap("cap"), Val("size"), Val("buffer"), Arg("flags", GunyahArgKind.MsgqueueSendOptions)], Res0,
            Arg("not_full", GunyahArgKind.Boolean));
        Add(
            GunyahHypercall.MsgqueueReceive, "MSGQUEUE_RECEIVE", [Cap("cap"), Val("buffer"), Val("buffer_size")], Res0,
            Val("size"), Arg("not_empty", GunyahArgKind.Boolean));
        Add(GunyahHypercall.MsgqueueFlush, "MSGQUEUE_FLUSH", [Cap("cap")], Res0);
        Add(GunyahHypercall.MsgqueueConfigureSend, "MSGQUEUE_CONFIGURE_SEND", [Cap("cap"), Threshold(), Delay()], Res1);
        Add(GunyahHypercall.MsgqueueConfigureReceive, "MSGQUEUE_CONFIGURE_RECEIVE", [Cap("cap"), Threshold(), Delay()], Res1);
        Add(GunyahHypercall.MsgqueueConfigure, "MSGQUEUE_CONFIGURE", [Cap("cap"), Arg("create_info", GunyahArgKind.MsgqueueCreateInfo)], Res0);

        Add(GunyahHypercall.CspaceDeleteCapFrom, "CSPACE_DELETE_CAP_FROM", [Cap("cspace"), Cap("cap")], Res0);
        Add(
            GunyahHypercall.CspaceCopyCapFrom, "CSPACE_COPY_CAP_FROM",
            [Cap("src_cspace"), Cap("src_cap"), Cap("dest_cspace"), Arg("rights_mask", GunyahArgKind.Rights)], Res0, newCap);
        Add(GunyahHypercall.CspaceRevokeCapFrom, "CSPACE_REVOKE_CAP_FROM", [Cap("src_cspace"), Cap("src_cap")], Res0);
        Add(GunyahHypercall.CspaceConfigure, "CSPACE_CONFIGURE", [Cap("cspace"), Val("max_caps")], Res0);
        Add(GunyahHypercall.CspaceAttachThread, "CSPACE_ATTACH_THREAD", [Cap("cspace"), Cap("thread")], Res0);
        Add(GunyahHypercall.CspaceRevokeCapsFrom, "CSPACE_REVOKE_CAPS_FROM", [Cap("src_cspace"), Cap("master_cap")], Res0);

        Add(GunyahHypercall.HwirqBindVirq, "HWIRQ_BIND_VIRQ", [Cap("hwirq"), Cap("vic"), Virq()], Res0);
        Add(GunyahHypercall.HwirqUnbindVirq, "HWIRQ_UNBIND_VIRQ", [Cap("hwirq")], Res0);
        Add(GunyahHypercall.VicConfigure, "VIC_CONFIGURE", [Cap("vic"), Val("max_vcpus"), Val("max_virqs")], Res0);
        Add(GunyahHypercall.VicAttachVcpu, "VIC_ATTACH_VCPU", [Cap("vic"), Cap("vcpu"), Val("index")], Res0);
        Add(GunyahHypercall.VicBindMsiSource, "VIC_BIND_MSI_SOURCE", [Cap("vic"), Cap("msi_source"), Val("index")], Res0);

        Add(GunyahHypercall.AddrspaceAttachThread, "ADDRSPACE_ATTACH_THREAD", [Cap("addrspace"), Cap("thread")], Res0);
        Add(
            GunyahHypercall.AddrspaceMap, "ADDRSPACE_MAP",
            [Cap("addrspace"), Cap("memextent"), Val("vbase"), Val("map_attrs"), Val("map_flags"), Val("offset"), Val("size")], NoRes);
        Add(
            GunyahHypercall.AddrspaceUnmap, "ADDRSPACE_UNMAP",
            [Cap("addrspace"), Cap("memextent"), Val("vbase"), Val("map_flags"), Val("offset"), Val("size")], NoRes);
        Add(
            GunyahHypercall.AddrspaceUpdateAccess, "ADDRSPACE_UPDATE_ACCESS",
            [Cap("addrspace"), Cap("memextent"), Val("vbase"), Val("access_attrs"), Val("map_flags"), Val("offset"), Val("size")], NoRes);
        Add(GunyahHypercall.AddrspaceConfigure, "ADDRSPACE_CONFIGURE", [Cap("addrspace"), Val("vmid")], Res0);
        Add(GunyahHypercall.AddrspaceAttachVdma, "ADDRSPACE_ATTACH_VDMA", [Cap("addrspace"), Cap("dma_device"), Val("index")], Res0);
        Add(
            GunyahHypercall.AddrspaceLookup, "ADDRSPACE_LOOKUP", [Cap("addrspace"), Cap("memextent"), Val("vbase"), Val("size")], Res0,
            Val("offset"), Val("size"), Val("map_attrs"));
        Add(
            GunyahHypercall.AddrspaceConfigureInfoArea, "ADDRSPACE_CONFIGURE_INFO_AREA",
            [Cap("addrspace"), Cap("info_area_memextent"), Val("ipa")], Res0);
        Add(
            GunyahHypercall.AddrspaceConfigureVmmio, "ADDRSPACE_CONFIGURE_VMMIO",
            [Cap("addrspace"), Val("vbase"), Val("size"), Val("op")], Res0);
        Add(
            GunyahHypercall.AddrspaceAttachVdevice, "ADDRSPACE_ATTACH_VDEVICE",
            [Cap("addrspace"), Cap("vdevice"), Val("index"), Val("vbase"), Val("size")], Res0);

        Add(GunyahHypercall.MemextentModify, "MEMEXTENT_MODIFY", [Cap("memextent"), Val("flags"), Val("offset"), Val("size")], NoRes);
        Add(
            GunyahHypercall.MemextentConfigure, "MEMEXTENT_CONFIGURE",
            [Cap("memextent"), Val("phys_base"), Val("size"), Val("attributes")], Res0);
        Add(
            GunyahHypercall.MemextentConfigureDerive, "MEMEXTENT_CONFIGURE_DERIVE",
            [Cap("memextent"), Cap("parent_memextent"), Val("offset"), Val("size"), Val("attributes")], Res0);
        Add(
            GunyahHypercall.MemextentDonate, "MEMEXTENT_DONATE",
            [Val("options"), Cap("from"), Cap("to"), Val("offset"), Val("size")], Res0);

        // vcpu_poweron/poweroff and set_priority/timeslice take no reserved slot in the current API document (older
        // .hvc files had a res0 after the cap); vcpu_run_check's res0 follows the cap as in vcpu_run.hvc, though the
        // document's table shows it as x4.
        Add(GunyahHypercall.VcpuConfigure, "VCPU_CONFIGURE", [Cap("cap"), Val("vcpu_options")], Res0);
        Add(GunyahHypercall.VcpuPoweron, "VCPU_POWERON", [Cap("cap"), Val("entry_point"), Val("context"), Val("flags")], NoRes);
        Add(GunyahHypercall.VcpuPoweroff, "VCPU_POWEROFF", [Cap("cap"), Val("flags")], NoRes);
        Add(GunyahHypercall.VcpuKill, "VCPU_KILL", [Cap("cap")], Res0);
        Add(GunyahHypercall.SchedulerYield, "SCHEDULER_YIELD", [Val("control"), Val("arg1")], Res0);
        Add(GunyahHypercall.VcpuSetAffinity, "VCPU_SET_AFFINITY", [Cap("cap"), Val("affinity")], Res1);
        Add(GunyahHypercall.VcpuSetPriority, "VCPU_SET_PRIORITY", [Cap("cap"), Val("priority")], NoRes);
        Add(GunyahHypercall.VcpuSetTimeslice, "VCPU_SET_TIMESLICE", [Cap("cap"), Val("timeslice")], NoRes);
        Add(GunyahHypercall.VcpuBindVirq, "VCPU_BIND_VIRQ", [Cap("cap"), Cap("vic"), Virq(), Val("virq_type")], Res0);
        Add(GunyahHypercall.VcpuUnbindVirq, "VCPU_UNBIND_VIRQ", [Cap("cap"), Val("virq_type")], Res0);
        Add(
            GunyahHypercall.VcpuRegisterWrite, "VCPU_REGISTER_WRITE",
            [Cap("cap"), Val("register_set"), Val("index"), Val("value")], Res0);
        Add(
            GunyahHypercall.VcpuRun, "VCPU_RUN",
            [Cap("cap"), Val("resume_data0"), Val("resume_data1"), Val("resume_data2")], Res0, vcpuState);
        Add(GunyahHypercall.VcpuRunCheck, "VCPU_RUN_CHECK", [Cap("cap")], Res0, vcpuState);

        Add(GunyahHypercall.VpmGroupAttachVcpu, "VPM_GROUP_ATTACH_VCPU", [Cap("vpm_group"), Cap("vcpu"), Val("index")], Res0);
        Add(GunyahHypercall.VpmGroupBindVirq, "VPM_GROUP_BIND_VIRQ", [Cap("vpm_group"), Cap("vic"), Virq()], Res0);
        Add(GunyahHypercall.VpmGroupUnbindVirq, "VPM_GROUP_UNBIND_VIRQ", [Cap("vpm_group")], Res0);
        Add(GunyahHypercall.VpmGroupGetState, "VPM_GROUP_GET_STATE", [Cap("vpm_group")], Res0, Val("vpm_state"));
        Add(GunyahHypercall.VpmGroupConfigure, "VPM_GROUP_CONFIGURE", [Cap("vpm_group"), Val("flags")], Res0);

        Add(
            GunyahHypercall.PrngGetEntropy, "PRNG_GET_ENTROPY", [Val("num_bytes")], Res0,
            Val("data0"), Val("data1"), Val("data2"), Val("data3"));

        return table;

        static GunyahArg Arg(string name, GunyahArgKind kind) => new(name, kind);
        static GunyahArg Val(string name) => new(name, GunyahArgKind.Value);
        static GunyahArg Cap(string name) => new(name, GunyahArgKind.Cap);
        static GunyahArg Virq() => new("virq_info", GunyahArgKind.VirqInfo);
        static GunyahArg Threshold() => new("threshold", GunyahArgKind.Threshold);
        static GunyahArg Delay() => new("delay", GunyahArgKind.Delay);
    }
}

/// <summary>The SMCCC service calls of the Gunyah vendor-hypervisor owner (fast, SMC32, call class 0b11).</summary>
public enum GunyahServiceCall : ushort
{
    /// <summary>Deprecated; the hypervisor answers SMCCC_UNKNOWN_FUNCTION (−1).</summary>
    CallCount = 0xFF00,

    /// <summary>Returns the Gunyah UUID in w0..w3.</summary>
    CallUid = 0xFF01,

    /// <summary>Returns the hyp_api_info word in x0.</summary>
    Revision = 0xFF03,
}

/// <summary>IDs and names of the vendor-hypervisor service calls.</summary>
public static class GunyahServiceCalls
{
    /// <summary>Call UID: <c>0x8600FF01</c>.</summary>
    public const uint CallUidId = 0x8600_FF01;

    /// <summary>Revision: <c>0x8600FF03</c>.</summary>
    public const uint RevisionId = 0x8600_FF03;

    /// <summary>Call count (deprecated): <c>0x8600FF00</c>.</summary>
    public const uint CallCountId = 0x8600_FF00;

    public static uint Id(GunyahServiceCall call) => FunctionId.Fast(SmcccOwner.VendorHypervisor, (ushort)call, is64: false).Value;

    /// <summary>Spec-style name: <c>GH_CALL_UID</c>, <c>GH_REVISION</c>, <c>GH_CALL_COUNT</c>.</summary>
    public static string Name(GunyahServiceCall call) => call switch
    {
        GunyahServiceCall.CallCount => "GH_CALL_COUNT",
        GunyahServiceCall.CallUid => "GH_CALL_UID",
        GunyahServiceCall.Revision => "GH_REVISION",
        _ => "GH_SERVICE_UNKNOWN",
    };

    /// <summary>Whether w0 is one of the three service call IDs (SVE hint bit 16 accepted).</summary>
    public static bool TryClassify(uint w0, out GunyahServiceCall call)
    {
        call = (GunyahServiceCall)(ushort)w0;
        var canonical = w0 & ~GunyahHypercalls.SveHintBit;
        return canonical is CallUidId or RevisionId or CallCountId;
    }
}
