using Firmament.Abi.Ffa;
using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios.Exploration;

/// <summary>
/// Something that must hold after every step of every explored run. Write your own in C# and add it to
/// <see cref="Explorer.Invariants"/> (or load it with <c>firmament explore --invariants your.dll</c>: every public
/// type implementing this with a parameterless constructor is added).
/// </summary>
public interface IInvariant
{
    /// <summary>A short name for reports.</summary>
    string Name { get; }

    /// <summary>Called once per run, after the platform is built and before it boots (hook observers here).</summary>
    void Attach(Platform platform);

    /// <summary>After every step: null if the invariant holds, else what is wrong.</summary>
    string? Check(Platform platform);

    /// <summary>When the run has settled (every vCPU online, nothing left to run): null if fine, else what is wrong.</summary>
    string? CheckSettled(Platform platform) => null;
}

/// <summary>
/// No notification lost or invented: a ledger of what SETs committed and GETs took, fed by the partition managers at
/// the exact points their bitmaps change, must equal every receiver's pending bitmaps after every step. A GET returning
/// an ID the ledger does not have is invented; an ID the ledger has that is no longer pending vanished without a GET.
/// </summary>
public sealed class NotificationLedgerInvariant : IInvariant, INotificationObserver
{
    private readonly Dictionary<(PartitionManager Manager, EndpointId Receiver, SenderClass Class), ulong> _ledger = [];
    private string? _invented;

    public string Name => "no notification lost or invented";

    public void Attach(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        _ledger.Clear();
        _invented = null;
        foreach (var manager in Managers(platform))
        {
            manager.NotificationObserver = this;
        }
    }

    public void Raised(PartitionManager manager, EndpointId receiver, SenderClass cls, ulong bits)
    {
        var key = (manager, receiver, cls);
        _ledger[key] = _ledger.GetValueOrDefault(key) | bits;
    }

    public void Taken(PartitionManager manager, EndpointId receiver, SenderClass cls, ulong bits)
    {
        var key = (manager, receiver, cls);
        var known = _ledger.GetValueOrDefault(key);
        if ((bits & ~known) != 0)
        {
            _invented ??= $"GET at the {manager.RoleName} returned {Describe(cls, bits & ~known)} for {receiver} that no SET had made pending";
        }

        _ledger[key] = known & ~bits;
    }

    public string? Check(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (_invented is not null)
        {
            return _invented;
        }

        foreach (var manager in Managers(platform))
        {
            foreach (var receiver in manager.NotificationReceivers)
            {
                foreach (var cls in Classes)
                {
                    var pending = receiver.PendingBits(cls);
                    var ledger = _ledger.GetValueOrDefault((manager, receiver.Id, cls));
                    if ((ledger & ~pending) != 0)
                    {
                        return $"lost: {Describe(cls, ledger & ~pending)} for {receiver.Id} were set and are no longer pending at the {manager.RoleName}, but no GET returned them";
                    }

                    if ((pending & ~ledger) != 0)
                    {
                        return $"invented: {Describe(cls, pending & ~ledger)} pending for {receiver.Id} at the {manager.RoleName} without a SET";
                    }
                }
            }
        }

        return null;
    }

    private static readonly SenderClass[] Classes = [SenderClass.Sp, SenderClass.Vm];

    internal static IEnumerable<PartitionManager> Managers(Platform platform)
    {
        if (platform.Hypervisor is { } hypervisor)
        {
            yield return hypervisor;
        }

        if (platform.Spmc is { } spmc)
        {
            yield return spmc;
        }
    }

    private static string Describe(SenderClass cls, ulong bits) => $"{(cls == SenderClass.Sp ? "SP" : "VM")} notification IDs 0x{bits:X}";
}

/// <summary>
/// The NPI is raised exactly when something is pending: a VM receiver whose interrupt is marked raised has something
/// pending (it is re-armed once GET drains everything); and once the run has settled, a VM that handles its NPI and
/// has a vCPU online has nothing pending (otherwise the NPI was never raised for it, and the IDs are stuck).
/// </summary>
public sealed class NotificationInterruptInvariant : IInvariant
{
    public string Name => "NPI raised exactly when something is pending";

    public void Attach(Platform platform)
    {
    }

    public string? Check(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (platform.Hypervisor is not { } hypervisor)
        {
            return null;
        }

        foreach (var receiver in hypervisor.NotificationReceivers)
        {
            if (receiver.InterruptRaised && !receiver.RemotePending && !receiver.AnyPending()
                && hypervisor.Endpoint(receiver.Id) is { } endpoint && (endpoint.HypervisorFrameworkPending | endpoint.SpmFrameworkPending) == 0)
            {
                return $"{receiver.Id}'s NPI is marked raised with nothing pending: it will never be raised again";
            }
        }

        return null;
    }

    public string? CheckSettled(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (platform.Hypervisor is not { } hypervisor)
        {
            return null;
        }

        var npi = (int)hypervisor.Personality.NotificationPendingInterrupt;
        foreach (var receiver in hypervisor.NotificationReceivers)
        {
            if (hypervisor.LocalPartition(receiver.Id) is not { IsAborted: false } vm
                || !vm.Vcpus.Exists(v => v.Online && v.State != VcpuState.Off && v.Interrupts.IsEnabled(npi)))
            {
                continue;
            }

            var pending = receiver.PendingBits(SenderClass.Vm);
            if (pending != 0)
            {
                return $"settled with VM notification IDs 0x{pending:X} pending for {receiver.Id}, which has a vCPU online that handles its NPI: the NPI was never raised for them";
            }
        }

        return null;
    }
}

/// <summary>
/// The scheduler's books: no vCPU both running and parked — a pCPU's owner is ready (between steps nothing runs), a
/// queued vCPU is ready and online, and no vCPU is owned or queued twice.
/// </summary>
public sealed class SchedulerInvariant : IInvariant
{
    private readonly HashSet<Vcpu> _seen = [];

    public string Name => "no vCPU both running and blocked";

    public void Attach(Platform platform)
    {
    }

    public string? Check(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        _seen.Clear();
        foreach (var pcpu in platform.Scheduler.Pcpus)
        {
            if (pcpu.Current is { } current)
            {
                if (current.State != VcpuState.Ready)
                {
                    return $"{pcpu} is owned by {current}, which is not ready to run";
                }

                if (!_seen.Add(current))
                {
                    return $"{current} is on two pCPUs";
                }
            }

            foreach (var queued in pcpu.Queued)
            {
                if (queued.State != VcpuState.Ready || !queued.Online)
                {
                    return $"{queued} waits in {pcpu}'s queue but is not a ready, online vCPU";
                }

                if (!_seen.Add(queued))
                {
                    return $"{queued} is queued twice (or queued and owning a pCPU)";
                }
            }
        }

        return null;
    }
}

/// <summary>RX buffer ownership is exclusive: a VM's buffer is never held by its endpoint at both partition managers (two producers).</summary>
public sealed class RxOwnershipInvariant : IInvariant
{
    public string Name => "RX buffer ownership exclusive";

    public void Attach(Platform platform)
    {
    }

    public string? Check(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (platform.Hypervisor is not { } hypervisor || platform.Spmc is not { } spmc)
        {
            return null;
        }

        foreach (var vm in hypervisor.Partitions)
        {
            if (hypervisor.Endpoint(vm.Id) is { Mailbox: { IsMapped: true, RxOwner: RxOwner.Endpoint } }
                && spmc.Endpoint(vm.Id) is { Mailbox: { IsMapped: true, RxOwner: RxOwner.Endpoint } })
            {
                return $"{vm.Name}'s RX buffer holds a message from the hypervisor and one from the SPMC at once";
            }
        }

        return null;
    }
}

/// <summary>
/// Every page has exactly one owner and every access matches its ownership state: the page-ownership ledger agrees
/// with every stage-2 map it knows, and no partition maps a page owned by another except as a mapped borrower of an
/// open grant — a mapping that outlives its grant (a reclaim that raced a retrieve) is caught here.
/// </summary>
public sealed class PageOwnershipInvariant : IInvariant
{
    public string Name => "every page has one owner, every access matches its state";

    public void Attach(Platform platform)
    {
    }

    public string? Check(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (platform.Pages.OpenGrants == 0 && !_hadGrants)
        {
            return null; // nothing has been shared yet: every map is as the platform built it
        }

        _hadGrants = true;
        if (platform.Pages.CheckInvariants() is { } broken)
        {
            return broken;
        }

        foreach (var partition in platform.Partitions)
        {
            foreach (var (ipaPage, entry) in partition.Memory.Stage2.Entries())
            {
                if (entry.Access == Stage2Access.None || !platform.Pages.TryGetPage(entry.PhysicalPage, out var page) || page.Owner == partition.Id)
                {
                    continue;
                }

                if (page.Grant == 0 || platform.Pages.GrantOf(page.Grant)?.Borrower(partition.Id) is not { Mapped: true })
                {
                    return $"{partition.Name} maps page 0x{entry.PhysicalPage:X} (at IPA page 0x{ipaPage:X}, {entry.Access}) owned by {page.Owner} without holding it in an open grant";
                }
            }
        }

        return null;
    }

    private bool _hadGrants;
}

/// <summary>No live memory handle is reused: a handle names one grant from the moment it is given out until it is closed.</summary>
public sealed class HandleInvariant : IInvariant
{
    private readonly Dictionary<ulong, object> _live = [];

    public string Name => "no live handle reused";

    public void Attach(Platform platform) => _live.Clear();

    public string? Check(Platform platform)
    {
        ArgumentNullException.ThrowIfNull(platform);
        if (platform.Pages.OpenGrants == 0 && _live.Count == 0)
        {
            return null;
        }

        foreach (var grant in platform.Pages.Grants)
        {
            if (_live.TryGetValue(grant.Key, out var known) && !ReferenceEquals(known, grant))
            {
                return $"handle 0x{grant.Key:X} names a new transaction while the old one is still live";
            }
        }

        _live.Clear();
        foreach (var grant in platform.Pages.Grants)
        {
            _live[grant.Key] = grant;
        }

        return null;
    }
}
