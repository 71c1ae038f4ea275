using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Gunyah;
using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios.Traces;

/// <summary>
/// A vCPU as the exports show it: its name, the participant (partition) it belongs to, how its frames are read,
/// and its place in the Chrome trace (process and thread IDs).
/// </summary>
internal sealed class VcpuTrack
{
    public required VcpuId Id { get; init; }

    /// <summary><c>vm1 vCPU0</c>, <c>hypervisor vCPU0</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The partition's name (<c>vm1</c>), or <c>hypervisor</c> for the hypervisor's own vCPU.</summary>
    public required string Participant { get; init; }

    /// <summary>How many vCPUs its partition has (labels name the vCPU only when there is more than one).</summary>
    public required int SiblingCount { get; init; }

    public required bool Secure { get; init; }

    /// <summary>Who it is to the describer.</summary>
    public required CallerKind Caller { get; init; }

    /// <summary>The FF-A version its frames are read in (what its partition manager holds for it after the run).</summary>
    public required FfaVersion Version { get; init; }

    /// <summary>Chrome trace process (one per partition, plus one for the hypervisor's own vCPU).</summary>
    public required int Pid { get; init; }

    public required int Tid { get; init; }

    /// <summary>The partition manager its calls land at: <c>hypervisor</c> or <c>SPMC</c>.</summary>
    public required string Manager { get; init; }

    public override string ToString() => Name;
}

/// <summary>A process in the Chrome trace: the pCPUs, a partition, or the hypervisor.</summary>
internal sealed record TraceProcess(int Pid, string Name, int SortIndex);

/// <summary>
/// One call from its Call event to its Return: what was passed, what came back, whether the caller parked in it
/// (a switching call), and whom it handed the pCPU to.
/// </summary>
internal sealed class CallSpan
{
    public required TraceEvent Call { get; init; }

    public required VcpuTrack Vcpu { get; init; }

    public required CallDescription Description { get; init; }

    public FfaFunction? Function { get; init; }

    /// <summary>Virtual ns: the call's cost is charged before the Call event is recorded, so the call began one call cost earlier.</summary>
    public required ulong Start { get; init; }

    public TraceEvent? Return { get; set; }

    public CallDescription? ReturnDescription { get; set; }

    /// <summary>The FF-A error name when the call returned FFA_ERROR.</summary>
    public string? Error { get; set; }

    /// <summary>Virtual ns when the call returned, or when the trace (or the vCPU) ended without a return.</summary>
    public ulong End { get; set; }

    /// <summary>How many ns the return was recorded before the call (a time that went backwards; clamped to 0).</summary>
    public ulong Backwards { get; set; }

    /// <summary>Why it has no return: <c>unfinished</c> (still in the call at the end), <c>Aborted</c>, <c>Off</c>; null when it returned.</summary>
    public string? Unreturned { get; set; }

    /// <summary>The caller parked in this call (Waiting, Blocked, Preempted): it gave up its pCPU.</summary>
    public bool Parked { get; set; }

    /// <summary>The vCPU this call handed its pCPU to, if it did.</summary>
    public Handoff? Handoff { get; set; }

    /// <summary>The handoff whose arrival made this call return (the caller was resumed by another vCPU's call).</summary>
    public Handoff? ResumedBy { get; set; }

    public bool IsError => Error is not null;
}

/// <summary>
/// A call that parked its caller and handed the pCPU straight to another vCPU (a Switch on the same pCPU right after
/// it): a direct request reaching its receiver, a response reaching its sender, RUN, MSG_WAIT or YIELD returning to the
/// runner, a boot step starting the next partition.
/// </summary>
internal sealed class Handoff
{
    public required CallSpan From { get; init; }

    public required VcpuTrack To { get; init; }

    public required TraceEvent Switch { get; init; }

    /// <summary>The receiver's call that returned with what was handed over (null when it was not parked in a traced call).</summary>
    public CallSpan? Resumed { get; set; }

    /// <summary>Chrome flow ID (1, 2, …) when both ends are traced calls; 0 otherwise.</summary>
    public int FlowId { get; set; }
}

/// <summary>A stretch on a pCPU track: a vCPU holding it, or the switch from one vCPU to the next.</summary>
internal sealed record PcpuSlice(int Pcpu, ulong Start, ulong End, VcpuTrack Vcpu, VcpuTrack? From)
{
    /// <summary>Switch slices name the vCPU switched from; holding slices have none.</summary>
    public bool IsSwitch => From is not null;
}

/// <summary>
/// The trace of a run read once for every export: names for every vCPU, calls paired with their returns, pCPU
/// occupancy, and handoffs between vCPUs. Derived from the recorded events only (no hidden state of the machine).
/// </summary>
internal sealed class TraceAnalysis
{
    private readonly Dictionary<VcpuId, VcpuTrack> _tracks = [];
    private readonly List<VcpuTrack> _trackOrder = [];
    private readonly List<TraceProcess> _processes = [];
    private readonly Platform _platform;
    private readonly int _hypervisorPid;
    private int _nextTid;

    private TraceAnalysis(Platform platform)
    {
        _platform = platform;
        Events = platform.Trace.Events;
        PcpuCount = platform.Scheduler.Pcpus.Count;
        _processes.Add(new TraceProcess(1, "pCPUs", 0));
        _nextTid = PcpuCount + 1;
        var pid = 2;
        foreach (var partition in platform.Partitions)
        {
            var config = partition.Config;
            _processes.Add(new TraceProcess(pid, $"{config.Name} {FfaDescriber.FormatEndpoint(config.Id)}", pid));
            for (var i = 0; i < partition.Vcpus.Count; i++)
            {
                Add(partition.Vcpus[i].Id, config.Name, partition.Vcpus.Count, config.Kind, pid);
            }

            pid++;
        }

        _hypervisorPid = pid;
    }

    public IReadOnlyList<TraceEvent> Events { get; }

    public int PcpuCount { get; }

    /// <summary>Every vCPU: the partitions' in description order, then any other that appears in the trace.</summary>
    public IReadOnlyList<VcpuTrack> Tracks => _trackOrder;

    public IReadOnlyList<TraceProcess> Processes => _processes;

    /// <summary>Calls in the order they were made.</summary>
    public List<CallSpan> Calls { get; } = [];

    /// <summary>The call each Call event opened and each Return event closed, by event sequence number.</summary>
    public Dictionary<long, CallSpan> CallOf { get; } = [];

    public List<Handoff> Handoffs { get; } = [];

    public List<PcpuSlice> PcpuSlices { get; } = [];

    /// <summary>The latest virtual time in the trace.</summary>
    public ulong End { get; private set; }

    public static TraceAnalysis Of(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        var analysis = new TraceAnalysis(platform);
        analysis.Read();
        return analysis;
    }

    public VcpuTrack Track(VcpuId id)
    {
        if (_tracks.TryGetValue(id, out var track))
        {
            return track;
        }

        // Not a partition's vCPU: the hypervisor's own (endpoint 0), or something the trace names that no partition owns.
        var hypervisor = id.Endpoint == EndpointId.Hypervisor;
        if (hypervisor && _processes.TrueForAll(p => p.Pid != _hypervisorPid))
        {
            _processes.Add(new TraceProcess(_hypervisorPid, "hypervisor", _hypervisorPid));
        }

        var name = hypervisor ? "hypervisor" : FfaDescriber.FormatEndpoint(id.Endpoint);
        return Add(id, name, 1, hypervisor ? PartitionKind.Kernel : (id.Endpoint.IsSecure ? PartitionKind.Sp : PartitionKind.Vm), _hypervisorPid);
    }

    /// <summary>A vCPU's name from its ID (for fields that name an endpoint rather than a vCPU).</summary>
    public string ParticipantOf(EndpointId id)
    {
        foreach (var partition in _platform.Partitions)
        {
            if (partition.Id == id)
            {
                return partition.Name;
            }
        }

        return id == EndpointId.Hypervisor && _platform.Hypervisor is not null ? "hypervisor"
            : id == EndpointId.Spmc && _platform.Spmc is not null ? "SPMC"
            : FfaDescriber.FormatEndpoint(id);
    }

    /// <summary>Reads a frame the way its vCPU would mean it; a success frame as the answer to <paramref name="replyTo"/>.</summary>
    public static CallDescription Describe(VcpuTrack track, in RegisterFrame frame, FfaFunction? replyTo = null) =>
        AbiDescriber.Describe(frame, track.Caller, track.Version, hvcImmediate: null, replyTo);

    public static FfaFunction? FunctionOf(in RegisterFrame frame)
    {
        // A known function in the wrong convention still names the ABI (the describer warns about the convention).
        FfaFunctions.TryClassify(frame.W(0), out var info, out _);
        return (info as FfaFunctionInfo)?.Function;
    }

    /// <summary>The FF-A error name when the frame is FFA_ERROR.</summary>
    public static string? ErrorOf(in RegisterFrame frame) =>
        frame.W(0) == FfaFunctions.Id32(FfaFunction.Error) ? FfaErrors.Name((int)frame.W(2)) : null;

    private VcpuTrack Add(VcpuId id, string participant, int siblings, PartitionKind kind, int pid)
    {
        // A VM's calls land at the hypervisor; an SP's, the kernel's and the hypervisor's own at the SPMC.
        var secure = id.Endpoint.IsSecure;
        var atHypervisor = !secure && id.Endpoint != EndpointId.Hypervisor && _platform.Hypervisor is not null;
        PartitionManager? at = atHypervisor ? _platform.Hypervisor : _platform.Spmc;
        var version = at?.Endpoint(id.Endpoint)?.Version ?? PartitionManager.Implemented;
        var track = new VcpuTrack
        {
            Id = id,
            Name = $"{participant} vCPU{id.Index}",
            Participant = participant,
            SiblingCount = siblings,
            Secure = secure,
            Caller = kind switch
            {
                PartitionKind.Sp => CallerKind.Sp,
                PartitionKind.Vm => CallerKind.Vm,
                _ => CallerKind.Hypervisor,
            },
            Version = version,
            Pid = pid,
            Tid = _nextTid++,
            Manager = atHypervisor ? "hypervisor" : "SPMC",
        };
        _tracks.Add(id, track);
        _trackOrder.Add(track);
        return track;
    }

    private void Read()
    {
        var pending = new Dictionary<VcpuTrack, CallSpan>();
        var state = new Dictionary<VcpuTrack, VcpuState>();
        var holding = new Dictionary<VcpuTrack, int>();
        var holder = new VcpuTrack?[PcpuCount];
        var holderSince = new ulong[PcpuCount];
        var parkedAt = new ulong[PcpuCount];
        var parked = new VcpuTrack?[PcpuCount];
        var lastCall = new CallSpan?[PcpuCount];
        var arriving = new Handoff?[PcpuCount];
        var callCost = _platform.Scheduler.Costs.Call;

        void Release(VcpuTrack track, ulong time, bool park)
        {
            if (!holding.Remove(track, out var p))
            {
                return;
            }

            PcpuSlices.Add(new PcpuSlice(p, holderSince[p], Math.Max(time, holderSince[p]), track, null));
            holder[p] = null;
            if (park)
            {
                parked[p] = track;
                parkedAt[p] = Math.Max(time, holderSince[p]);
            }
        }

        foreach (var e in Events)
        {
            End = Math.Max(End, e.Time);
            var track = Track(e.Vcpu);
            var p = e.Pcpu >= 0 && e.Pcpu < PcpuCount ? e.Pcpu : -1;
            switch (e.Kind)
            {
                case TraceKind.Call:
                {
                    if (pending.Remove(track, out var open))
                    {
                        open.End = e.Time;
                        open.Unreturned = "unfinished";
                    }

                    var span = new CallSpan
                    {
                        Call = e,
                        Vcpu = track,
                        Description = Describe(track, e.Frame),
                        Function = FunctionOf(e.Frame),
                        Start = e.Time - Math.Min(e.Time, callCost),
                        End = e.Time,
                    };
                    Calls.Add(span);
                    CallOf[e.Sequence] = span;
                    pending[track] = span;
                    if (p >= 0)
                    {
                        lastCall[p] = span;
                        arriving[p] = null;
                    }

                    break;
                }

                case TraceKind.Return:
                {
                    if (!pending.Remove(track, out var span))
                    {
                        break;
                    }

                    span.Return = e;
                    span.ReturnDescription = GunyahHypercalls.TryGetBySmcccId(span.Call.Frame.W(0), out var hypercall)
                        ? GunyahDescriber.DescribeResult(hypercall.Call, e.Frame)
                        : Describe(track, e.Frame, span.Function);
                    span.Error = ErrorOf(e.Frame);
                    span.End = Math.Max(e.Time, span.Start);
                    span.Backwards = e.Time < span.Start ? span.Start - e.Time : 0;
                    CallOf[e.Sequence] = span;
                    if (p >= 0 && arriving[p] is { } handoff && handoff.To == track)
                    {
                        handoff.Resumed = span;
                        span.ResumedBy = handoff;
                        arriving[p] = null;
                    }

                    break;
                }

                case TraceKind.Switch when p >= 0:
                {
                    var from = Track(e.Peer);
                    if (holder[p] is { } still)
                    {
                        Release(still, e.Time, park: false); // displaced while Ready (a time slice ended)
                    }

                    if (parked[p] == from && parkedAt[p] < e.Time)
                    {
                        PcpuSlices.Add(new PcpuSlice(p, parkedAt[p], e.Time, track, from));
                    }

                    parked[p] = null;
                    arriving[p] = null;
                    if (lastCall[p] is { Return: null } cause && cause.Vcpu == from && IsParked(state.GetValueOrDefault(from)))
                    {
                        var handoff = new Handoff { From = cause, To = track, Switch = e };
                        cause.Handoff = handoff;
                        Handoffs.Add(handoff);
                        arriving[p] = handoff;
                        lastCall[p] = null;
                    }

                    break;
                }

                case TraceKind.State:
                {
                    var next = (VcpuState)e.Value;
                    state[track] = next;
                    if (next == VcpuState.Running && p >= 0)
                    {
                        if (holder[p] is { } other && other != track)
                        {
                            Release(other, e.Time, park: false);
                        }

                        if (holder[p] != track)
                        {
                            holder[p] = track;
                            holderSince[p] = e.Time;
                            holding[track] = p;
                            parked[p] = null;
                        }
                    }
                    else if (IsParked(next) || next is VcpuState.Off or VcpuState.Aborted)
                    {
                        Release(track, e.Time, park: true);
                        if (pending.TryGetValue(track, out var span))
                        {
                            span.Parked = true;
                            if (next is VcpuState.Off or VcpuState.Aborted)
                            {
                                pending.Remove(track);
                                span.End = Math.Max(e.Time, span.Start);
                                span.Unreturned = next.ToString();
                            }
                        }
                    }

                    break;
                }

                case TraceKind.Fault when p >= 0:
                    lastCall[p] = null;
                    break;
            }
        }

        foreach (var (track, p) in holding.OrderBy(static h => h.Value))
        {
            PcpuSlices.Add(new PcpuSlice(p, holderSince[p], End, track, null));
        }

        foreach (var span in pending.Values)
        {
            span.End = Math.Max(End, span.Start);
            span.Unreturned = "unfinished";
        }

        var flow = 0;
        foreach (var handoff in Handoffs)
        {
            if (handoff.Resumed is not null)
            {
                handoff.FlowId = ++flow;
            }
        }
    }

    private static bool IsParked(VcpuState state) => state is VcpuState.Waiting or VcpuState.Blocked or VcpuState.Preempted;
}
