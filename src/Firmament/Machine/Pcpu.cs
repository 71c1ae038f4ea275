namespace Firmament.Machine;

/// <summary>
/// A simulated physical CPU: the vCPU that owns it now, the vCPUs queued for it, and its own virtual time
/// (nanoseconds of work it has done — pCPUs run in parallel, so each keeps its own clock).
/// </summary>
public sealed class Pcpu(int index)
{
    private readonly Queue<Vcpu> _queue = new();

    public int Index { get; } = index;

    /// <summary>The vCPU that owns this pCPU (running, or ready to be resumed), or null when idle.</summary>
    public Vcpu? Current { get; internal set; }

    /// <summary>Local virtual time in nanoseconds.</summary>
    public ulong Time { get; internal set; }

    /// <summary>Virtual time when the current vCPU got the pCPU (for time slices).</summary>
    internal ulong SliceStart { get; set; }

    /// <summary>Other ready vCPUs waiting for this pCPU, in arrival order.</summary>
    public IReadOnlyCollection<Vcpu> Queued => _queue;

    /// <summary>Whether there is a vCPU to resume here.</summary>
    public bool HasWork => Current is { State: VcpuState.Ready };

    internal void Enqueue(Vcpu vcpu) => _queue.Enqueue(vcpu);

    internal bool TryDequeue(out Vcpu vcpu) => _queue.TryDequeue(out vcpu!);

    internal int QueueLength => _queue.Count;

    internal void Remove(Vcpu vcpu)
    {
        if (!_queue.Contains(vcpu))
        {
            return;
        }

        var keep = _queue.Where(v => !ReferenceEquals(v, vcpu)).ToArray();
        _queue.Clear();
        foreach (var v in keep)
        {
            _queue.Enqueue(v);
        }
    }

    public override string ToString() => $"pCPU{Index}";
}
