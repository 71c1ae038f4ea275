using Firmament.Abi;
using Firmament.Abi.Ffa;

namespace Firmament.Machine;

/// <summary>A vCPU's name: its endpoint and its index within it.</summary>
public readonly record struct VcpuId(EndpointId Endpoint, ushort Index)
{
    public override string ToString() => $"{Endpoint}.{Index}";
}

/// <summary>What a vCPU is doing, in FF-A's terms.</summary>
public enum VcpuState : byte
{
    /// <summary>Not started, or powered off.</summary>
    Off = 0,

    /// <summary>Has a result to be resumed with, and waits for its pCPU.</summary>
    Ready,

    /// <summary>Executing on a pCPU (at most one per pCPU).</summary>
    Running,

    /// <summary>Idle in FFA_MSG_WAIT (or DIRECT_RESP): will be resumed with the next message or interrupt.</summary>
    Waiting,

    /// <summary>Parked in a call waiting for an answer (a direct request, cycles given to another vCPU).</summary>
    Blocked,

    /// <summary>Interrupted; resumes only when given cycles again (FFA_RUN).</summary>
    Preempted,

    /// <summary>Faulted and contained: never runs again.</summary>
    Aborted,

    /// <summary>
    /// Stopped between two calls, outside any call, until its driver (a scenario script) gives it its next call.
    /// To the partition managers it is busy, as a running vCPU is.
    /// </summary>
    Held,
}

/// <summary>Where a vCPU's calls go: the partition manager that serves its FF-A instance (and its hypercalls).</summary>
public interface ICallHandler
{
    /// <summary>
    /// Handles one call. On <see cref="CallOutcome.Completed"/>, <paramref name="frame"/> holds the return and the
    /// caller goes on. On <see cref="CallOutcome.Blocked"/>, the handler has parked the caller (its state says how)
    /// and arranged what runs next; the caller is resumed later through the scheduler.
    /// </summary>
    CallOutcome Call(Vcpu caller, ref RegisterFrame frame);

    /// <summary>
    /// The vCPU's code ended (<paramref name="fault"/> null) or faulted (the report says why). The handler powers the
    /// vCPU off, or aborts its partition and answers its callers with ABORTED; the machine runs on either way.
    /// </summary>
    void OnStopped(Vcpu vcpu, string? fault);
}

/// <summary>What became of a call.</summary>
public enum CallOutcome : byte
{
    Completed = 0,
    Blocked = 1,
}

/// <summary>How a vCPU's code runs: managed C#, emulated AArch64, …</summary>
public interface IVcpuBackend
{
    /// <summary>Runs the vCPU from where it stopped, delivering <see cref="Vcpu.Result"/>, until its next blocking call.</summary>
    void Resume(Vcpu vcpu);
}

/// <summary>
/// A virtual CPU: the unit that runs. It belongs to one endpoint, is served by one <see cref="ICallHandler"/>, runs
/// on one pCPU at a time, and between runs is parked in a call whose return (<see cref="Result"/>) it is resumed with.
/// </summary>
public sealed class Vcpu
{
    private RegisterFrame _result;

    public Vcpu(VcpuId id, ICallHandler handler, IVcpuBackend backend, int homePcpu)
    {
        Id = id;
        Handler = handler;
        Backend = backend;
        HomePcpu = homePcpu;
    }

    public VcpuId Id { get; }

    public ICallHandler Handler { get; set; }

    public IVcpuBackend Backend { get; set; }

    /// <summary>The pCPU this vCPU runs on by default (−1: wherever it is called).</summary>
    public int HomePcpu { get; }

    public VcpuState State { get; internal set; }

    /// <summary>The pCPU it last ran on or is queued for.</summary>
    public Pcpu? Pcpu { get; internal set; }

    /// <summary>
    /// Powered on (PSCI CPU_ON): an offline vCPU keeps its state and any result it is owed, but is not scheduled, and
    /// interrupt injection skips it. See <see cref="Scheduler.SetOnline"/>.
    /// </summary>
    public bool Online { get; internal set; } = true;

    /// <summary>Its virtual interrupt interface.</summary>
    public VirtualCpuInterface Interrupts { get; } = new();

    /// <summary>
    /// The immediate of the HVC being handled when it is not <c>HVC #0</c> (Gunyah's native hypercalls,
    /// <c>HVC #(0x6000 + N)</c>); 0 for SMCCC calls. The backend sets it just before the call and clears it after.
    /// </summary>
    public ushort Immediate { get; set; }

    /// <summary>Calls made (for reports).</summary>
    public long Calls { get; internal set; }

    /// <summary>The frame it will be resumed with.</summary>
    public ref RegisterFrame Result => ref _result;

    /// <summary>The partition manager's own record for this vCPU.</summary>
    public object? Owner { get; set; }

    public override string ToString() => $"vCPU {Id} ({State})";
}
