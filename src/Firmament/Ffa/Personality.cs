using Firmament.Abi.Ffa;

namespace Firmament.Ffa;

/// <summary>Which partition managers a personality describes; the others in the platform keep the default's answers.</summary>
[Flags]
public enum PersonalityRoles
{
    None = 0,

    /// <summary>The secure world's partition manager.</summary>
    Spmc = 1,

    /// <summary>The normal world's hypervisor (mediator or proxy).</summary>
    Hypervisor = 2,

    Both = Spmc | Hypervisor,
}

/// <summary>
/// A function (in one or both calling conventions) that an implementation does not serve: the dispatcher answers
/// NOT_SUPPORTED and FEATURES says NOT_SUPPORTED, from this one table.
/// </summary>
public readonly record struct WithheldFunction(FfaFunction Function, CallConventions Conventions = CallConventions.Both)
{
    public bool Covers(FfaFunction function, bool is64) =>
        function == Function && (Conventions & (is64 ? CallConventions.Smc64 : CallConventions.Smc32)) != 0;

    public override string ToString()
    {
        var name = FfaFunctions.Info(Function)?.Name ?? Function.ToString();
        var defined = FfaFunctions.Info(Function)?.Conventions ?? CallConventions.Both;
        return (Conventions & defined) == defined ? name : name + (Conventions == CallConventions.Smc64 ? "_64" : "_32");
    }
}

/// <summary>
/// How one implementation answers where implementations differ. The default follows the FF-A v1.2 spec and Hafnium
/// where the spec is silent; the others are tables of differences, never forks of the code. Each field is read at one
/// place in <c>Ffa/</c> and changes only which error a call gets or whether it is served — never what a served call
/// does — so every handler keeps its validate-then-commit shape. Facts are from the project's reference notes
/// (<c>reference/ffa-abi.md</c> §4, §6.3, §11, §12 and the feature matrix in <c>reference/implementations.md</c> §1);
/// <c>docs/personalities.md</c> has the table.
/// </summary>
public sealed record Personality
{
    public required string Name { get; init; }

    /// <summary>
    /// The partition managers this personality describes (an SPMC, a hypervisor, or both); a platform's other manager
    /// answers as <see cref="Default"/>. Read by <see cref="For"/>.
    /// </summary>
    public PersonalityRoles Roles { get; init; } = PersonalityRoles.Both;

    /// <summary>
    /// A VERSION asking for a newer minor than ours: answer our version (the spec's negotiation; Xen does) or
    /// NOT_SUPPORTED (Hafnium). Read in <c>Discovery.cs</c> (HandleVersion).
    /// </summary>
    public bool RejectNewerMinorVersion { get; init; }

    /// <summary>
    /// What any call other than VERSION gets before the endpoint has called VERSION: null to serve it at our own
    /// version (Hafnium), NOT_SUPPORTED (Xen), INVALID_PARAMETERS (pKVM). Checked before anything else about the call,
    /// as Xen and pKVM do. Read in <c>PartitionManager.cs</c> (Dispatch).
    /// </summary>
    public FfaError? ErrorBeforeVersion { get; init; }

    /// <summary>Largest RX/TX buffer in 4 KiB pages that RXTX_MAP accepts (FEATURES reports it to v1.2 callers). Read in <c>RxTx.cs</c>.</summary>
    public uint MaxRxTxPages { get; init; } = 16;

    /// <summary>
    /// List the caller's own entry in PARTITION_INFO_GET for callers older than v1.2. No built-in personality does:
    /// Linux before its v1.2 support refused its own entry, so Xen and Hafnium list it for v1.2 callers only. Read in
    /// <c>Discovery.cs</c> (Matching).
    /// </summary>
    public bool ListSelfBeforeV12 { get; init; }

    /// <summary>
    /// Functions this implementation does not serve: NOT_SUPPORTED from the dispatcher and from FEATURES alike (one
    /// table, so the two cannot disagree). Read in <c>PartitionManager.cs</c> (the constructor builds the mask
    /// <c>Serves</c> reads).
    /// </summary>
    public IReadOnlyList<WithheldFunction> Withheld { get; init; } = [];

    /// <summary>
    /// Direct requests (DIRECT_REQ, REQ2) from a VM to another VM: handled by the hypervisor (Hafnium) or refused with
    /// NOT_SUPPORTED after the sender check (Xen: "we do not support direct messages to VMs"). Read in
    /// <c>DirectMessaging.cs</c> (Request).
    /// </summary>
    public bool DirectRequestsBetweenVms { get; init; } = true;

    /// <summary>
    /// MSG_SEND2 from a VM to another VM: delivered by the hypervisor (Hafnium) or INVALID_PARAMETERS after the header
    /// checks (Xen without CONFIG_FFA_VM_TO_VM, its default). Read in <c>IndirectMessaging.cs</c>.
    /// </summary>
    public bool IndirectMessagesBetweenVms { get; init; } = true;

    /// <summary>
    /// PARTITION_INFO_GET_REGS with a non-zero information tag on the first call (start index 0): RETRY (Hafnium: any
    /// non-zero tag) or INVALID_PARAMETERS (Xen; later calls with a stale tag are RETRY in both). Read in
    /// <c>Discovery.cs</c> (HandlePartitionInfoGetRegs).
    /// </summary>
    public FfaError RegsTagOnFirstCall { get; init; } = FfaError.Retry;

    /// <summary>
    /// What a per-vCPU BIND or SET gets where per-vCPU notifications are not offered: null to serve them (the spec),
    /// INVALID_PARAMETERS (Hafnium ≥ 2.14, "only global notifications"), DENIED (OP-TEE, Xen). Read in
    /// <c>Notifications.cs</c>.
    /// </summary>
    public FfaError? PerVcpuNotifications { get; init; }

    /// <summary>
    /// Notifications between two VMs, bound and delivered by the hypervisor (Hafnium, Xen with CONFIG_FFA_VM_TO_VM), or
    /// NOT_SUPPORTED (Xen's default). Read in <c>Notifications.cs</c>.
    /// </summary>
    public bool NotificationsBetweenVms { get; init; } = true;

    /// <summary>The Notification Pending Interrupt's ID, as FEATURES(NPI) reports it (Hafnium: 5; Xen gives guests 8).</summary>
    public uint NotificationPendingInterrupt { get; init; } = 5;

    /// <summary>The Schedule Receiver Interrupt's ID, as FEATURES(SRI) reports it (Hafnium: SGI 8; Xen gives guests 9).</summary>
    public uint ScheduleReceiverInterrupt { get; init; } = 8;

    /// <summary>
    /// INFO_GET from a guest is answered with a list of its own (its ID when something is pending for it, else NO_DATA)
    /// and every guest is told an SRI ID that is never raised (Xen); otherwise only the primary scheduler VM may call it
    /// and gets the SPs that need cycles (Hafnium). Read in <c>Hypervisor.Notifications.cs</c>.
    /// </summary>
    public bool GuestInfoGetIsSynthesized { get; init; }

    /// <summary>
    /// The Xen VM-to-VM notification patch as first posted, before its review: the hypervisor marks the NPI raised and
    /// drops its lock before injecting; finding no vCPU online, it takes the lock again and rolls back the IDs it had
    /// added, answering BUSY — racing any SET that ran in the window. No built-in personality sets it: it is for
    /// exploration tests that must find that race. Read in <c>Hypervisor.Notifications.cs</c>.
    /// </summary>
    public bool NotificationRollbackWindow { get; init; }
    /// A memory send or retrieve whose descriptor is in a buffer of the caller's own (w3/w4 non-zero) rather than
    /// the TX buffer: null to serve it (FEATURES reports the dynamic buffer), NOT_SUPPORTED (Xen), INVALID_PARAMETERS
    /// (pKVM's MBZ check). Read in <c>MemorySharing.cs</c> (ReadTransactionBuffer) and <c>Discovery.cs</c>.
    /// </summary>
    public FfaError? ErrorForCallerBuffer { get; init; }

    /// <summary>
    /// A memory send whose first fragment is shorter than the whole descriptor: null to take the rest with FRAG_TX,
    /// NOT_SUPPORTED (Xen: single fragment only). Read in <c>MemorySharing.cs</c> (HandleMemSend).
    /// </summary>
    public FfaError? ErrorForFragmentedSend { get; init; }

    /// <summary>
    /// A VM sharing memory with another VM: null to let the hypervisor handle it (Hafnium), else the error (Xen and
    /// pKVM share only with the secure world: NOT_SUPPORTED). Read in <c>MemorySharing.cs</c> (ValidateSend).
    /// </summary>
    public FfaError? ErrorForMemoryBetweenVms { get; init; }

    /// <summary>Borrowers one transaction may name (Xen and pKVM: one; more is NOT_SUPPORTED). Read in <c>MemorySharing.cs</c>.</summary>
    public int MaxMemoryBorrowers { get; init; } = 64;

    /// <summary>Live transactions one sender may have (Xen: 32 per guest; NO_MEMORY past it), or null for no limit. Read in <c>MemorySharing.cs</c>.</summary>
    public int? MaxMemorySharesPerSender { get; init; }

    /// <summary>
    /// A reclaim that checks no borrower holds the memory, drops its lock, and closes the grant later — racing a
    /// borrower's retrieve in the window, which then keeps a mapping of pages the owner has back. No built-in
    /// personality sets it: it is for exploration tests that must find that race. Read in <c>MemorySharing.cs</c>.
    /// </summary>
    public bool MemoryReclaimWindow { get; init; }

    /// <summary>The spec, and Hafnium where the spec is silent.</summary>
    public static Personality Default { get; } = new() { Name = "default" };

    /// <summary>Hafnium as it answers today, as SPMC and as hypervisor (newer-minor VERSION refused).</summary>
    public static Personality Hafnium { get; } = Default with
    {
        Name = "hafnium",
        RejectNewerMinorVersion = true,
        PerVcpuNotifications = FfaError.InvalidParameters,
    };

    /// <summary>
    /// OP-TEE as an S-EL1 SPMC (CFG_CORE_SEL1_SPMC). The feature matrix marks PARTITION_INFO_GET_REGS, MSG_SEND2 and
    /// YIELD as not implemented.
    /// </summary>
    public static Personality OpTee { get; } = Default with
    {
        Name = "optee",
        Roles = PersonalityRoles.Spmc,
        PerVcpuNotifications = FfaError.Denied,
        Withheld = [new(FfaFunction.PartitionInfoGetRegs), new(FfaFunction.MsgSend2), new(FfaFunction.Yield), new(FfaFunction.MemDonate)],
    };

    /// <summary>
    /// TF-A's EL3 SPMC. Not in <c>spmc_main.c</c>: MSG_SEND2 and PARTITION_INFO_GET_REGS (only the SPMD has them, for
    /// an S-EL2 SPMC and for EL3 logical partitions, which Firmament does not model), and YIELD.
    /// </summary>
    public static Personality El3Spmc { get; } = Default with
    {
        Name = "el3-spmc",
        Roles = PersonalityRoles.Spmc,
        Withheld = [new(FfaFunction.PartitionInfoGetRegs), new(FfaFunction.MsgSend2), new(FfaFunction.Yield), new(FfaFunction.MemDonate), .. AllNotificationAbis],
    };

    /// <summary>
    /// Xen's FF-A mediator toward its guests: VERSION first (NOT_SUPPORTED before), one-page buffers, direct requests
    /// to SPs only, no VM-to-VM indirect messages (CONFIG_FFA_VM_TO_VM off), Xen's REGS tag rule, and "everything
    /// else NOT_SUPPORTED": MSG_WAIT, YIELD, the direct responses, SPM_ID_GET and FFA_INTERRUPT are not served.
    /// </summary>
    public static Personality Xen { get; } = Default with
    {
        Name = "xen",
        Roles = PersonalityRoles.Hypervisor,
        ErrorBeforeVersion = FfaError.NotSupported,
        MaxRxTxPages = 1,
        DirectRequestsBetweenVms = false,
        IndirectMessagesBetweenVms = false,
        RegsTagOnFirstCall = FfaError.InvalidParameters,
        PerVcpuNotifications = FfaError.Denied,
        NotificationsBetweenVms = false,
        NotificationPendingInterrupt = 8,
        ScheduleReceiverInterrupt = 9,
        GuestInfoGetIsSynthesized = true,
        ErrorForCallerBuffer = FfaError.NotSupported,
        ErrorForFragmentedSend = FfaError.NotSupported,
        ErrorForMemoryBetweenVms = FfaError.NotSupported,
        MaxMemoryBorrowers = 1,
        MaxMemorySharesPerSender = 32,
        Withheld =
        [
            new(FfaFunction.MsgWait), new(FfaFunction.Yield), new(FfaFunction.MsgSendDirectResp), new(FfaFunction.MsgSendDirectResp2),
            new(FfaFunction.SpmIdGet), new(FfaFunction.Interrupt),
            new(FfaFunction.MemLend), new(FfaFunction.MemDonate), new(FfaFunction.MemRetrieveReq), new(FfaFunction.MemRelinquish),
            new(FfaFunction.MemFragTx), new(FfaFunction.MemFragRx),
        ],
    };

    /// <summary>
    /// pKVM's FF-A proxy (the 2025 v1.2 series), answering the hypervisor's VMs as it answers the host: VERSION first
    /// (INVALID_PARAMETERS before), one fixed page of buffers, and its refused list (<c>ffa_call_supported</c>):
    /// MSG_WAIT, the 32-bit RXTX_MAP and DIRECT_RESP, RESP2 and PARTITION_INFO_GET_REGS; MSG_SEND2 is not implemented
    /// (the matrix's N).
    /// </summary>
    public static Personality Pkvm { get; } = Default with
    {
        Name = "pkvm",
        Roles = PersonalityRoles.Hypervisor,
        ErrorBeforeVersion = FfaError.InvalidParameters,
        MaxRxTxPages = 1,
        ErrorForCallerBuffer = FfaError.InvalidParameters,
        ErrorForMemoryBetweenVms = FfaError.NotSupported,
        MaxMemoryBorrowers = 1,
        Withheld =
        [
            new(FfaFunction.MsgWait), new(FfaFunction.RxTxMap, CallConventions.Smc32), new(FfaFunction.MsgSendDirectResp, CallConventions.Smc32),
            new(FfaFunction.MsgSendDirectResp2), new(FfaFunction.PartitionInfoGetRegs), new(FfaFunction.MsgSend2), .. GuestNotificationAbis,
            new(FfaFunction.MemDonate), new(FfaFunction.MemRetrieveReq), new(FfaFunction.MemRelinquish), new(FfaFunction.MemFragRx),
        ],
    };

    /// <summary>The seven notification ABIs, for an SPMC that has none (TF-A's EL3 SPMC).</summary>
    private static WithheldFunction[] AllNotificationAbis =>
        [new(FfaFunction.NotificationBitmapCreate), new(FfaFunction.NotificationBitmapDestroy), .. GuestNotificationAbis];

    /// <summary>The notification ABIs a guest could otherwise call (bitmaps are the hypervisor's own), for pKVM's proxy.</summary>
    private static WithheldFunction[] GuestNotificationAbis =>
    [
        new(FfaFunction.NotificationBind), new(FfaFunction.NotificationUnbind), new(FfaFunction.NotificationSet),
        new(FfaFunction.NotificationGet), new(FfaFunction.NotificationInfoGet),
    ];

    public static IReadOnlyList<Personality> All { get; } = [Default, Hafnium, OpTee, El3Spmc, Xen, Pkvm];

    /// <summary>What the manager in <paramref name="role"/> answers as: this personality if it describes that role, else the default.</summary>
    public Personality For(PersonalityRoles role) => (Roles & role) != 0 ? this : Default;

    public static bool TryGet(string name, out Personality personality)
    {
        foreach (var p in All)
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                personality = p;
                return true;
            }
        }

        personality = Default;
        return false;
    }
}
