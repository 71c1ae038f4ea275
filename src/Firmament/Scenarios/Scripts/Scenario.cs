using Firmament.Abi;
using Firmament.Ffa;

namespace Firmament.Scenarios.Scripts;

/// <summary>
/// A scenario: a platform, the partitions the script drives, the personalities to run under, a seed, and the steps —
/// calls made by one endpoint's vCPU with what must come back, awaits of calls that blocked, state checks, and
/// platform actions. Loaded and checked in full by <see cref="ScenarioFile"/> before anything runs.
/// </summary>
public sealed record Scenario
{
    public required string Name { get; init; }

    /// <summary>The scenario file.</summary>
    public required string File { get; init; }

    public required PlatformDescription Platform { get; init; }

    /// <summary>The personalities to run under (at least one).</summary>
    public required IReadOnlyList<Personality> Personalities { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// Scripted SPs whose initialisation the steps make themselves: they start held inside their boot (owing no one
    /// anything), and their FFA_MSG_WAIT ends it. Other scripted SPs end their boot with FFA_MSG_WAIT at once.
    /// </summary>
    public IReadOnlyList<string> ScriptedBoot { get; init; } = [];

    public required IReadOnlyList<ScenarioStep> Steps { get; init; }

    /// <summary>
    /// The scenario's <c>explore:</c> section, for <c>firmament explore</c>: the faults its runs may meet. A scenario
    /// with one needs no steps (its partitions' programs are what runs).
    /// </summary>
    public Exploration.ExploreFaults? Explore { get; init; }
}

/// <summary>One step, with the line it is written on.</summary>
public abstract record ScenarioStep(int Line);

/// <summary>
/// A call made by <paramref name="By"/>'s vCPU <paramref name="Vcpu"/>, and what must come back. With
/// <paramref name="OwnBuffers"/> (an FFA_RXTX_MAP that names no buffers), x1..x3 get the caller's own buffers at run time.
/// </summary>
public sealed record CallStep(int Line, string By, ushort Vcpu, RegisterFrame Frame, Expectation Expect, bool OwnBuffers = false) : ScenarioStep(Line);

/// <summary>What a call that blocked (a direct request, MSG_WAIT, RUN) returned when the vCPU was resumed.</summary>
public sealed record AwaitStep(int Line, string By, ushort Vcpu, Expectation Expect) : ScenarioStep(Line);

/// <summary>State that must hold now.</summary>
public sealed record CheckStep(int Line, IReadOnlyList<StateCheck> Checks) : ScenarioStep(Line);

/// <summary>Bytes written into an endpoint's memory (a message in its TX buffer, data to share).</summary>
/// <summary>Bytes into a partition's buffer or RAM; with <paramref name="Of"/>, at the page of that partition's RAM (its physical address, where a borrower maps it).</summary>
public sealed record WriteStep(int Line, string Partition, string Buffer, ulong Offset, byte[] Bytes, string? Of = null) : ScenarioStep(Line);

/// <summary>A non-secure interrupt for a pCPU (the SP running there is preempted at its next call).</summary>
public sealed record NonSecureInterruptStep(int Line, int Pcpu) : ScenarioStep(Line);

/// <summary>A VM's vCPU taken offline or brought online (PSCI CPU_OFF / CPU_ON as the hypervisor sees it).</summary>
public sealed record PowerStep(int Line, string Partition, ushort Vcpu, bool Online) : ScenarioStep(Line);

/// <summary>A scripted vCPU takes (acknowledges and ends) an interrupt pending for it, as its handler would.</summary>
public sealed record TakeInterruptStep(int Line, string Partition, ushort Vcpu, int InterruptId) : ScenarioStep(Line);

/// <summary>A virtual interrupt made pending for an SP's vCPU.</summary>
public sealed record VirtualInterruptStep(int Line, string Partition, ushort Vcpu, int InterruptId) : ScenarioStep(Line);

/// <summary>
/// What a frame must be, for one personality: pending (the call blocked), or a frame with an ABI, a status, given
/// registers and given named fields (as <c>firmament decode</c> names them).
/// </summary>
public sealed record FrameExpectation
{
    public bool Pending { get; init; }

    /// <summary>FFA_SUCCESS (32 or 64).</summary>
    public bool Success { get; init; }

    /// <summary>FFA_ERROR with this code.</summary>
    public Abi.Ffa.FfaError? Error { get; init; }

    /// <summary>w0 is this function (spec name, with _32/_64 where it matters).</summary>
    public string? Abi { get; init; }

    /// <summary>Register index → value (w registers compare the low 32 bits).</summary>
    public IReadOnlyList<(int Register, ulong Value, bool Is32)> Registers { get; init; } = [];

    /// <summary>Named fields of the decoded frame → value.</summary>
    public IReadOnlyList<(string Field, ulong Value)> Fields { get; init; } = [];

    /// <summary>FFA_VERSION's bare w0 answer.</summary>
    public Abi.Ffa.FfaVersion? Version { get; init; }

    public static FrameExpectation Anything { get; } = new();
}

/// <summary>A step's expectation: one for all personalities, or one per personality name (with an optional default).</summary>
public sealed record Expectation(FrameExpectation Default, IReadOnlyDictionary<string, FrameExpectation> ByPersonality)
{
    public FrameExpectation For(Personality personality) =>
        ByPersonality.TryGetValue(personality.Name, out var specific) ? specific : Default;
}

/// <summary>A state check.</summary>
public abstract record StateCheck(int Line);

public sealed record RxOwnerCheck(int Line, string Partition, RxOwner Owner, bool AtSpmc) : StateCheck(Line);

public sealed record VcpuStateCheck(int Line, string Partition, ushort Vcpu, Machine.VcpuState State) : StateCheck(Line);

public sealed record MemoryCheck(int Line, string Partition, string Buffer, ulong Offset, byte[] Bytes, string? Of = null) : StateCheck(Line);

/// <summary>Who owns the page at <paramref name="Offset"/> in <paramref name="Of"/>'s RAM (by its physical address).</summary>
public sealed record OwnerCheck(int Line, string Of, ulong Offset, string Owner) : StateCheck(Line);

/// <summary>How many memory transactions the SPMC and the hypervisor hold (live, not counting sends still in fragments).</summary>
public sealed record TransactionsCheck(int Line, int? Spmc, int? Hypervisor) : StateCheck(Line);

public sealed record MappedCheck(int Line, string Partition, bool Mapped, bool AtSpmc) : StateCheck(Line);

public sealed record AbortedCheck(int Line, string Partition, bool Aborted) : StateCheck(Line);

public sealed record InterruptCheck(int Line, string Partition, ushort Vcpu, int InterruptId, bool Pending) : StateCheck(Line);

/// <summary>A page of a partition's address space: mapped with exactly this access (Stage2Access.None: not mapped).</summary>
public sealed record PageCheck(int Line, string Partition, ulong Address, Machine.Stage2Access Access, string? Of = null) : StateCheck(Line);

public sealed record FrameworkPendingCheck(int Line, string Partition, uint Spm, uint Hypervisor) : StateCheck(Line);

/// <summary>The version the endpoint's manager formats its data for (what FFA_VERSION negotiated, or the configured one).</summary>
public sealed record VersionCheck(int Line, string Partition, Abi.Ffa.FfaVersion Version) : StateCheck(Line);

/// <summary>Whether the endpoint's version is final (a call other than FFA_VERSION was made).</summary>
public sealed record VersionLockedCheck(int Line, string Partition, bool Locked) : StateCheck(Line);
