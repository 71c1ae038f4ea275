using Firmament.Abi;

namespace Firmament.Machine;

/// <summary>How the scheduler picks which pCPU steps next.</summary>
public enum ScheduleStrategy : byte
{
    /// <summary>
    /// The pCPU that is furthest behind in virtual time steps next (ties broken by the seed): pCPUs advance as if
    /// in parallel. The default.
    /// </summary>
    Fair = 0,

    /// <summary>Any pCPU with work, uniformly at random from the seed, at every call boundary: for exploring races.</summary>
    Random = 1,
}

/// <summary>Virtual-time costs of what the machine does, in nanoseconds.</summary>
public sealed record CostModel(ulong Call = 50, ulong Switch = 400, ulong TimeSlice = 1_000_000)
{
    public static CostModel Default { get; } = new();
}

/// <summary>
/// The deterministic scheduler: owns the pCPUs, decides at every call boundary which pCPU steps next, and resumes
/// vCPUs from one loop (a trampoline) so no vCPU ever runs inside another's stack. Everything runs on the caller's
/// thread; the only source of choice is the seed.
/// </summary>
public sealed class Scheduler
{
    private readonly Pcpu[] _pcpus;
    private readonly DeterministicRandom _random;

    public Scheduler(int pcpuCount, ulong seed, ScheduleStrategy strategy = ScheduleStrategy.Fair, CostModel? costs = null, TraceRecorder? trace = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pcpuCount, 1);
        _pcpus = new Pcpu[pcpuCount];
        for (var i = 0; i < pcpuCount; i++)
        {
            _pcpus[i] = new Pcpu(i);
        }

        _random = new DeterministicRandom(seed);
        Strategy = strategy;
        Costs = costs ?? CostModel.Default;
        Trace = trace ?? new TraceRecorder();
    }

    public IReadOnlyList<Pcpu> Pcpus => _pcpus;

    public ScheduleStrategy Strategy { get; }

    public CostModel Costs { get; }

    public TraceRecorder Trace { get; }

    /// <summary>The vCPU whose code is executing right now, if any.</summary>
    public Vcpu? Running { get; private set; }

    /// <summary>
    /// When set, makes every scheduling choice instead of the strategy (schedule exploration: random, PCT, DFS). Set it
    /// before the run starts.
    /// </summary>
    public IScheduleChooser? Chooser { get; set; }

    /// <summary>A hash of every choice made so far (which option at each choice point): equal for equal interleavings.</summary>
    public ulong ScheduleHash { get; private set; } = 0xCBF29CE484222325;

    /// <summary>Choice points met so far (places where more than one pCPU could go).</summary>
    public long Choices { get; private set; }

    /// <summary>Resumes so far.</summary>
    public long Steps { get; private set; }

    /// <summary>pCPU hand-overs so far.</summary>
    public long Switches { get; private set; }

    /// <summary>The latest virtual time any pCPU has reached.</summary>
    public ulong Now
    {
        get
        {
            ulong max = 0;
            foreach (var p in _pcpus)
            {
                max = Math.Max(max, p.Time);
            }

            return max;
        }
    }

    /// <summary>Virtual time where the current action happens: the running vCPU's pCPU, or the latest time when none runs.</summary>
    public ulong Here => Running?.Pcpu?.Time ?? Now;

    /// <summary>
    /// Makes a parked (or never started) vCPU ready to resume with <paramref name="result"/> on pCPU
    /// <paramref name="pcpu"/>: it takes the pCPU if idle, or queues for it.
    /// </summary>
    public void Ready(Vcpu vcpu, in RegisterFrame result, Pcpu pcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentNullException.ThrowIfNull(pcpu);
        vcpu.Result = result;
        vcpu.Pcpu = pcpu;
        if (pcpu.Current is null)
        {
            pcpu.Time = Math.Max(pcpu.Time, Here);
        }

        SetState(vcpu, VcpuState.Ready);
        if (!vcpu.Online)
        {
            return; // kept ready with its result until it comes online
        }

        if (pcpu.Current is null)
        {
            Give(pcpu, vcpu);
        }
        else if (!ReferenceEquals(pcpu.Current, vcpu))
        {
            pcpu.Enqueue(vcpu);
        }
    }

    /// <summary>
    /// Hands pCPU <paramref name="pcpu"/> straight to <paramref name="next"/>, which resumes with
    /// <paramref name="entry"/>: a direct request reaching its receiver, a response reaching its sender, FFA_RUN.
    /// Whoever owned the pCPU must already be parked.
    /// </summary>
    public void SwitchTo(Pcpu pcpu, Vcpu next, in RegisterFrame entry)
    {
        ArgumentNullException.ThrowIfNull(pcpu);
        ArgumentNullException.ThrowIfNull(next);
        next.Result = entry;
        next.Pcpu = pcpu;
        if (pcpu.Current is not null && !ReferenceEquals(pcpu.Current, next))
        {
            // A hand-over costs a switch; taking an idle pCPU does not.
            pcpu.Time += Costs.Switch;
        }

        SetState(next, VcpuState.Ready);
        if (!next.Online)
        {
            return; // the pCPU moves on when its current owner parks (AfterBlockedCall)
        }

        Give(pcpu, next);
    }

    /// <summary>
    /// Takes a vCPU offline or brings it back (PSCI CPU_OFF / CPU_ON as the platform sees it, or injected as a fault):
    /// offline, it leaves its pCPU (which moves on) but keeps its state and whatever result it is owed; online again,
    /// a ready vCPU queues for its pCPU. A running vCPU goes offline when it next parks.
    /// </summary>
    public void SetOnline(Vcpu vcpu, bool online)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        if (vcpu.Online == online)
        {
            return;
        }

        vcpu.Online = online;
        if (Trace.Enabled)
        {
            var at = vcpu.Pcpu;
            Trace.Record(at?.Time ?? Now, at?.Index ?? -1, vcpu.Id, TraceKind.Log, text: online ? "vCPU online" : "vCPU offline");
        }

        var pcpu = vcpu.Pcpu;
        if (vcpu.State != VcpuState.Ready || pcpu is null)
        {
            return;
        }

        if (online)
        {
            Ready(vcpu, vcpu.Result, pcpu);
            return;
        }

        pcpu.Remove(vcpu);
        if (ReferenceEquals(pcpu.Current, vcpu))
        {
            pcpu.Current = null;
            if (pcpu.TryDequeue(out var next))
            {
                Give(pcpu, next);
            }
        }
    }


    /// <summary>Parks a vCPU in a state that waits for something (Waiting, Blocked, Preempted, Off, Aborted).</summary>
    public void Park(Vcpu vcpu, VcpuState state)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        SetState(vcpu, state);
    }

    /// <summary>
    /// Takes a vCPU out of scheduling for good (powered off, aborted): it leaves its pCPU's queue, and the pCPU it owned
    /// moves on to its next queued vCPU (if it is running, its code is about to return to the scheduler).
    /// </summary>
    public void Stop(Vcpu vcpu, VcpuState state)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        SetState(vcpu, state);
        var pcpu = vcpu.Pcpu;
        if (pcpu is null)
        {
            return;
        }

        pcpu.Remove(vcpu);
        if (ReferenceEquals(pcpu.Current, vcpu))
        {
            pcpu.Current = null;
            if (pcpu.TryDequeue(out var next))
            {
                Give(pcpu, next);
            }
        }
    }

    /// <summary>
    /// Holds the running vCPU outside any call (a scripted vCPU between two steps): it gives up its pCPU, which moves
    /// on to its next queued vCPU, and it runs again only when made ready.
    /// </summary>
    public void Hold(Vcpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        SetState(vcpu, VcpuState.Held);
        AfterBlockedCall(vcpu);
    }

    /// <summary>Records a call about to be handled and charges its cost.</summary>
    public void OnCall(Vcpu vcpu, in RegisterFrame frame)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        vcpu.Calls++;
        var pcpu = PcpuOf(vcpu);
        pcpu.Time += Costs.Call;
        if (Trace.Enabled)
        {
            Trace.Record(pcpu.Time, pcpu.Index, vcpu.Id, TraceKind.Call, frame);
        }
    }

    /// <summary>Records a return delivered to a vCPU.</summary>
    public void OnReturn(Vcpu vcpu, in RegisterFrame frame)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        if (Trace.Enabled)
        {
            var pcpu = PcpuOf(vcpu);
            Trace.Record(pcpu.Time, pcpu.Index, vcpu.Id, TraceKind.Return, frame);
        }
    }

    /// <summary>
    /// Where a vCPU's call happens: its own pCPU, or — for a partition manager calling the other world on its own
    /// account, with no pCPU of its own — the pCPU of the vCPU that is running (pCPU 0 at boot).
    /// </summary>
    private Pcpu PcpuOf(Vcpu vcpu) => vcpu.Pcpu ?? Running?.Pcpu ?? _pcpus[0];

    /// <summary>
    /// After a call that completed at once: whether the caller should stop here and let the scheduler choose
    /// (another pCPU's turn, or its time slice is up). If so the caller is left Ready with <paramref name="result"/>.
    /// </summary>
    public bool YieldAfterCompletedCall(Vcpu vcpu, in RegisterFrame result)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        var pcpu = vcpu.Pcpu!;
        var rotate = pcpu.QueueLength > 0 && pcpu.Time - pcpu.SliceStart >= Costs.TimeSlice;
        if (!rotate && (_pcpus.Length == 1 || !AnotherPcpuGoesFirst(pcpu)))
        {
            return false;
        }

        vcpu.Result = result;
        SetState(vcpu, VcpuState.Ready);
        if (rotate && pcpu.TryDequeue(out var next))
        {
            Give(pcpu, next); // the caller, Ready, goes to the back of the line
        }

        return true;
    }

    /// <summary>
    /// Makes <paramref name="intid"/> pending on <paramref name="vcpu"/>'s interface and records it in the trace when it
    /// was not pending already; true if it is newly pending.
    /// </summary>
    public bool RaiseInterrupt(Vcpu vcpu, int intid)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        if (!vcpu.Interrupts.SetPending(intid))
        {
            return false;
        }

        if (Trace.Enabled)
        {
            Trace.Record(vcpu.Pcpu?.Time ?? Here, vcpu.Pcpu?.Index ?? -1, vcpu.Id, TraceKind.Interrupt, value: (ulong)intid);
        }

        return true;
    }

    /// <summary>The pCPU a vCPU runs on by default: its home (modulo the pCPUs there are), pCPU 0 when it has none.</summary>
    public Pcpu HomeOf(Vcpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        return _pcpus[Math.Max(vcpu.HomePcpu, 0) % _pcpus.Length];
    }

    /// <summary>
    /// Stops the running vCPU at this call boundary and leaves it Ready on its pCPU with <paramref name="result"/>: it
    /// is resumed from the scheduler's loop (an interrupt taken at the boundary runs from there, not on this stack).
    /// </summary>
    public void ContinueLater(Vcpu vcpu, in RegisterFrame result)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        vcpu.Result = result;
        SetState(vcpu, VcpuState.Ready);
    }

    /// <summary>After a call that blocked its caller: a pCPU nobody was switched onto takes its next queued vCPU.</summary>
    public void AfterBlockedCall(Vcpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        var pcpu = vcpu.Pcpu;
        if (pcpu is not null && ReferenceEquals(pcpu.Current, vcpu) && vcpu.State != VcpuState.Ready)
        {
            pcpu.Current = null;
            if (pcpu.TryDequeue(out var next))
            {
                Give(pcpu, next);
            }
        }
    }

    /// <summary>Resumes one vCPU until its next blocking call. False when no pCPU has work.</summary>
    public bool Step()
    {
        var pcpu = Pick();
        if (pcpu is null)
        {
            return false;
        }

        var vcpu = pcpu.Current!;
        SetState(vcpu, VcpuState.Running);
        Running = vcpu;
        Steps++;

        // A foreign SynchronizationContext (a test runner's) would capture endpoint continuations and run them
        // elsewhere, later: nothing in the model may leave this thread and this loop.
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            vcpu.Backend.Resume(vcpu);
        }
        finally
        {
            Running = null;
            SynchronizationContext.SetSynchronizationContext(context);
        }

        return true;
    }

    /// <summary>Steps until no pCPU has work or <paramref name="maxSteps"/> resumes were made; returns the steps made.</summary>
    public long Run(long maxSteps = long.MaxValue)
    {
        long steps = 0;
        while (steps < maxSteps && Step())
        {
            steps++;
        }

        return steps;
    }

    /// <summary>Records a choice in the schedule hash (FNV-1a over the choice sequence).</summary>
    private int Chose(int option)
    {
        Choices++;
        ScheduleHash = (ScheduleHash ^ (ulong)(uint)option) * 0x100000001B3;
        return option;
    }

    private void Give(Pcpu pcpu, Vcpu vcpu)
    {
        var previous = pcpu.Current;
        if (previous is { State: VcpuState.Ready } && !ReferenceEquals(previous, vcpu))
        {
            // Displaced before it ran: it keeps its place in line.
            pcpu.Enqueue(previous);
        }

        pcpu.Current = vcpu;
        pcpu.SliceStart = pcpu.Time;
        if (previous is not null && !ReferenceEquals(previous, vcpu))
        {
            Switches++;
            if (Trace.Enabled)
            {
                Trace.Record(pcpu.Time, pcpu.Index, vcpu.Id, TraceKind.Switch, previous.Id);
            }
        }
    }

    private void SetState(Vcpu vcpu, VcpuState state)
    {
        if (vcpu.State == state)
        {
            return;
        }

        vcpu.State = state;
        if (Trace.Enabled)
        {
            var pcpu = vcpu.Pcpu;
            Trace.Record(pcpu?.Time ?? Now, pcpu?.Index ?? -1, vcpu.Id, TraceKind.State, value: (ulong)state);
        }
    }

    private bool AnotherPcpuGoesFirst(Pcpu current)
    {
        if (Chooser is { } chooser)
        {
            Span<int> others = stackalloc int[_pcpus.Length];
            var n = 0;
            foreach (var p in _pcpus)
            {
                if (!ReferenceEquals(p, current) && p.HasWork)
                {
                    others[n++] = p.Index;
                }
            }

            return n > 0 && Chose(chooser.AfterCall(current.Index, others[..n])) != 0;
        }

        if (Strategy == ScheduleStrategy.Fair)
        {
            foreach (var p in _pcpus)
            {
                if (!ReferenceEquals(p, current) && p.HasWork && p.Time < current.Time)
                {
                    return true;
                }
            }

            return false;
        }

        var candidates = 1;
        foreach (var p in _pcpus)
        {
            if (!ReferenceEquals(p, current) && p.HasWork)
            {
                candidates++;
            }
        }

        return candidates > 1 && _random.Next(candidates) != 0;
    }

    private Pcpu? Pick()
    {
        if (Chooser is { } chooser)
        {
            Span<int> candidates = stackalloc int[_pcpus.Length];
            var n = 0;
            foreach (var p in _pcpus)
            {
                if (p.HasWork)
                {
                    candidates[n++] = p.Index;
                }
            }

            return n switch
            {
                0 => null,
                1 => _pcpus[candidates[0]],
                _ => _pcpus[candidates[Chose(chooser.PickPcpu(candidates[..n]))]],
            };
        }

        Pcpu? best = null;
        var count = 0;
        foreach (var p in _pcpus)
        {
            if (!p.HasWork)
            {
                continue;
            }

            count++;
            if (Strategy == ScheduleStrategy.Fair)
            {
                if (best is null || p.Time < best.Time || (p.Time == best.Time && _random.Next(2) == 0))
                {
                    best = p;
                }
            }
            else if (_random.Next(count) == 0)
            {
                best = p; // reservoir sampling: uniform over pCPUs with work
            }
        }

        return best;
    }
}
