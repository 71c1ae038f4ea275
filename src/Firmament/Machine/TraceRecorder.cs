using Firmament.Abi;

namespace Firmament.Machine;

/// <summary>What a trace event records.</summary>
public enum TraceKind : byte
{
    /// <summary>A vCPU made a call (the frame it passed).</summary>
    Call,

    /// <summary>A call returned to its vCPU (the frame it got), at once or when the vCPU was resumed.</summary>
    Return,

    /// <summary>A pCPU changed hands from one vCPU to another (a world switch when the worlds differ).</summary>
    Switch,

    /// <summary>A vCPU changed state (the new state in Value).</summary>
    State,

    /// <summary>An interrupt was made pending on a vCPU (INTID in Value).</summary>
    Interrupt,

    /// <summary>An endpoint faulted and was contained (the report in Text).</summary>
    Fault,

    /// <summary>Free text: console output, notes.</summary>
    Log,
}

/// <summary>One thing that happened, with the virtual time and place it happened at.</summary>
public readonly record struct TraceEvent(
    long Sequence,
    ulong Time,
    int Pcpu,
    VcpuId Vcpu,
    TraceKind Kind,
    RegisterFrame Frame,
    VcpuId Peer,
    ulong Value,
    string? Text);

/// <summary>
/// Records what the machine does, in order. Off unless <see cref="Enabled"/>: the hot path checks one bool.
/// The same inputs and seed give the same events.
/// </summary>
public sealed class TraceRecorder
{
    private readonly List<TraceEvent> _events = [];

    public bool Enabled { get; set; }

    public IReadOnlyList<TraceEvent> Events => _events;

    public void Record(ulong time, int pcpu, VcpuId vcpu, TraceKind kind, in RegisterFrame frame, VcpuId peer = default, ulong value = 0, string? text = null)
    {
        if (Enabled)
        {
            _events.Add(new TraceEvent(_events.Count, time, pcpu, vcpu, kind, frame, peer, value, text));
        }
    }

    public void Record(ulong time, int pcpu, VcpuId vcpu, TraceKind kind, VcpuId peer = default, ulong value = 0, string? text = null)
    {
        if (Enabled)
        {
            _events.Add(new TraceEvent(_events.Count, time, pcpu, vcpu, kind, default, peer, value, text));
        }
    }

    public void Clear() => _events.Clear();
}
