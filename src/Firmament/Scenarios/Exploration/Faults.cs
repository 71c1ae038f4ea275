using Firmament.Machine;

namespace Firmament.Scenarios.Exploration;

/// <summary>
/// The faults a scenario puts into the schedule space (its <c>explore:</c> section): which partitions' vCPUs go offline
/// and online at arbitrary points (and which start offline), which partitions may abort in the middle of a call, and
/// whether interrupt delivery may be delayed. One step in <see cref="Rate"/> gets a fault, chosen from the run's seed.
/// </summary>
public sealed record ExploreFaults
{
    /// <summary>VMs whose vCPUs go offline and online at points the seed picks.</summary>
    public IReadOnlyList<string> Power { get; init; } = [];

    /// <summary>VMs whose vCPUs are all offline when the run starts (they come online as <see cref="Power"/> faults, or when the run settles).</summary>
    public IReadOnlyList<string> StartOffline { get; init; } = [];

    /// <summary>Partitions that may be aborted while one of their vCPUs is in a call (at most one abort per run).</summary>
    public IReadOnlyList<string> Abort { get; init; } = [];

    /// <summary>A pending virtual interrupt may be withdrawn and made pending again a few steps later.</summary>
    public bool DelayInterrupts { get; init; }

    /// <summary>One step in this many gets a fault (when any is enabled).</summary>
    public int Rate { get; init; } = 8;

    /// <summary>Steps after which a run that has not settled stops (and is reported: a livelock or a runaway endpoint).</summary>
    public long MaxSteps { get; init; } = 200_000;

    public bool Any => Power.Count > 0 || Abort.Count > 0 || DelayInterrupts;
}

/// <summary>Applies <see cref="ExploreFaults"/> to one run, deterministically from the run's seed.</summary>
internal sealed class FaultInjector
{
    private const int DelaySteps = 6;

    private readonly ExploreFaults _faults;
    private readonly Platform _platform;
    private readonly DeterministicRandom _random;
    private readonly List<Vcpu> _powered = [];
    private readonly List<Firmament.Ffa.Partition> _abortable = [];
    private readonly List<Vcpu> _interruptible = [];
    private readonly List<(Vcpu Vcpu, int Intid, long At)> _delayed = [];
    private bool _aborted;

    public FaultInjector(ExploreFaults faults, Platform platform, ulong seed)
    {
        _faults = faults;
        _platform = platform;
        _random = new DeterministicRandom(seed ^ 0x0FA0_17ED_5EED_0001);
        foreach (var name in faults.Power)
        {
            _powered.AddRange(platform[name].Vcpus);
        }

        foreach (var name in faults.Abort)
        {
            _abortable.Add(platform[name]);
        }

        if (faults.DelayInterrupts)
        {
            foreach (var partition in platform.Partitions)
            {
                _interruptible.AddRange(partition.Vcpus);
            }
        }
    }

    /// <summary>Before boot: the VMs that start with every vCPU offline.</summary>
    public void BeforeBoot()
    {
        foreach (var name in _faults.StartOffline)
        {
            foreach (var vcpu in _platform[name].Vcpus)
            {
                _platform.Hypervisor!.SetVcpuOnline(vcpu.Id, false);
            }
        }
    }

    /// <summary>After step <paramref name="step"/>: maybe one fault; and delayed interrupts whose time has come.</summary>
    public void AfterStep(long step)
    {
        for (var i = _delayed.Count - 1; i >= 0; i--)
        {
            if (_delayed[i].At <= step)
            {
                _delayed[i].Vcpu.Interrupts.SetPending(_delayed[i].Intid);
                _delayed.RemoveAt(i);
            }
        }

        if (!_faults.Any || _random.Next(_faults.Rate) != 0)
        {
            return;
        }

        switch (_random.Next(3))
        {
            case 0 when _powered.Count > 0:
                var vcpu = _powered[_random.Next(_powered.Count)];
                _platform.Hypervisor!.SetVcpuOnline(vcpu.Id, !vcpu.Online);
                break;
            case 1 when _abortable.Count > 0 && !_aborted:
                var partition = _abortable[_random.Next(_abortable.Count)];
                if (partition.Vcpus.Exists(static v => v.State is VcpuState.Blocked or VcpuState.Ready or VcpuState.Preempted))
                {
                    _aborted = ManagerOf(partition).AbortPartition(partition.Id, "aborted by fault injection in the middle of a call");
                }

                break;
            case 2 when _interruptible.Count > 0:
                var target = _interruptible[_random.Next(_interruptible.Count)];
                for (var intid = 0; intid < InterruptIds.FirstSpi; intid++)
                {
                    if (target.Interrupts.IsPending(intid))
                    {
                        target.Interrupts.ClearPending(intid);
                        _delayed.Add((target, intid, step + DelaySteps));
                        break;
                    }
                }

                break;
        }
    }

    /// <summary>The run is settling: every powered vCPU comes online, every delayed interrupt is delivered.</summary>
    public void Settle()
    {
        foreach (var (vcpu, intid, _) in _delayed)
        {
            vcpu.Interrupts.SetPending(intid);
        }

        _delayed.Clear();
        foreach (var vcpu in _powered)
        {
            _platform.Hypervisor!.SetVcpuOnline(vcpu.Id, true);
        }

        foreach (var name in _faults.StartOffline)
        {
            foreach (var vcpu in _platform[name].Vcpus)
            {
                _platform.Hypervisor!.SetVcpuOnline(vcpu.Id, true);
            }
        }
    }

    private Firmament.Ffa.PartitionManager ManagerOf(Firmament.Ffa.Partition partition) =>
        partition.Id.IsSecure ? _platform.Spmc! : _platform.Hypervisor!;
}
