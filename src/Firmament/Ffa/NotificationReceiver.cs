using System.Numerics;
using Firmament.Abi.Ffa;

namespace Firmament.Ffa;

/// <summary>Who may set a notification: the two sender classes a receiver keeps apart (and GET returns apart).</summary>
public enum SenderClass
{
    /// <summary>Secure partitions (kept by the SPMC).</summary>
    Sp = 0,

    /// <summary>VMs, or the OS kernel (VM-to-VM bindings are kept by the hypervisor; VM-to-SP ones by the SPMC).</summary>
    Vm = 1,
}

/// <summary>
/// One receiver's notification state at one partition manager: for each sender class, which of the 64 IDs are bound
/// to which sender (and whether per-vCPU), which are pending (globally, or for one vCPU), and which pending ones
/// INFO_GET has not listed yet; plus whether the receiver's pending interrupt is raised. Pure bookkeeping: callers
/// validate with the queries first and commit with the mutators after, so a refused call changes nothing.
/// </summary>
public sealed class NotificationReceiver
{
    /// <summary>Notification IDs per sender class.</summary>
    public const int Ids = 64;

    private readonly EndpointId[] _senders = new EndpointId[2 * Ids];
    private readonly ulong[] _bound = new ulong[2];
    private readonly ulong[] _perVcpu = new ulong[2];
    private readonly ulong[] _pending = new ulong[2];
    private readonly ulong[] _vcpuPending;
    private readonly ulong[] _vcpuUnlisted;
    private ulong _unlisted;
    private int _vcpusUnlisted;

    public NotificationReceiver(EndpointId id, int vcpuCount)
    {
        Id = id;
        VcpuCount = vcpuCount;
        _vcpuPending = new ulong[2 * Math.Max(vcpuCount, 0)];
        _vcpuUnlisted = new ulong[Math.Max(vcpuCount, 0)];
    }

    public EndpointId Id { get; }

    /// <summary>vCPUs the receiver has (per-vCPU notifications name one of them).</summary>
    public int VcpuCount { get; }

    /// <summary>
    /// The receiver's pending interrupt (NPI) has been raised for what is pending now; it is raised again only after
    /// everything has been taken with GET (the re-arm rule that keeps repeated raises from being lost or doubled).
    /// </summary>
    public bool InterruptRaised { get; set; }

    /// <summary>
    /// At the hypervisor: the SPMC listed this VM (notifications from SPs, or its RX-full bit) and the VM's GET has not
    /// collected them yet. Counts as pending for the re-arm rule.
    /// </summary>
    public bool RemotePending { get; set; }

    /// <summary>Framework notifications not yet listed by INFO_GET (RX buffer full since the last listing).</summary>
    public bool FrameworkUnlisted { get; set; }

    public static SenderClass ClassOf(EndpointId sender) => sender.IsSecure ? SenderClass.Sp : SenderClass.Vm;

    /// <summary>Whether no ID in <paramref name="bits"/> is bound, in that sender class.</summary>
    public bool AllUnbound(SenderClass cls, ulong bits) => (_bound[(int)cls] & bits) == 0;

    /// <summary>Whether every ID in <paramref name="bits"/> is bound to <paramref name="sender"/>.</summary>
    public bool AllBoundTo(SenderClass cls, ulong bits, EndpointId sender)
    {
        var c = (int)cls;
        if ((_bound[c] & bits) != bits)
        {
            return false;
        }

        for (var rest = bits; rest != 0; rest &= rest - 1)
        {
            if (_senders[(c * Ids) + BitOperations.TrailingZeroCount(rest)] != sender)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether every ID in <paramref name="bits"/> was bound per-vCPU (true) or every one globally (false); mixed is neither.</summary>
    public bool AllBoundPerVcpu(SenderClass cls, ulong bits, bool perVcpu) =>
        ((perVcpu ? ~_perVcpu[(int)cls] : _perVcpu[(int)cls]) & bits) == 0;

    /// <summary>Whether any ID in <paramref name="bits"/> is pending (globally or for any vCPU).</summary>
    public bool AnyPending(SenderClass cls, ulong bits)
    {
        var c = (int)cls;
        if ((_pending[c] & bits) != 0)
        {
            return true;
        }

        for (var v = 0; v < VcpuCount; v++)
        {
            if ((_vcpuPending[(c * VcpuCount) + v] & bits) != 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether anything of either class is pending.</summary>
    public bool AnyPending() => AnyPending(SenderClass.Sp, ulong.MaxValue) || AnyPending(SenderClass.Vm, ulong.MaxValue);

    /// <summary>Whether any ID of either class is bound.</summary>
    public bool AnyBound => (_bound[0] | _bound[1]) != 0;

    /// <summary>The sender bound to one ID, if any.</summary>
    public EndpointId? SenderOf(SenderClass cls, int id) =>
        (_bound[(int)cls] & (1UL << id)) != 0 ? _senders[((int)cls * Ids) + id] : null;

    /// <summary>The IDs bound in a class, and those of them bound per-vCPU.</summary>
    public (ulong Bound, ulong PerVcpu) Bindings(SenderClass cls) => (_bound[(int)cls], _perVcpu[(int)cls]);

    public void Bind(SenderClass cls, ulong bits, EndpointId sender, bool perVcpu)
    {
        var c = (int)cls;
        _bound[c] |= bits;
        _perVcpu[c] = perVcpu ? _perVcpu[c] | bits : _perVcpu[c] & ~bits;
        for (var rest = bits; rest != 0; rest &= rest - 1)
        {
            _senders[(c * Ids) + BitOperations.TrailingZeroCount(rest)] = sender;
        }
    }

    public void Unbind(SenderClass cls, ulong bits)
    {
        var c = (int)cls;
        _bound[c] &= ~bits;
        _perVcpu[c] &= ~bits;
    }

    /// <summary>Makes IDs pending, globally (<paramref name="vcpu"/> null) or for one vCPU; returns the IDs newly pending.</summary>
    public ulong Raise(SenderClass cls, ulong bits, int? vcpu)
    {
        var c = (int)cls;
        ulong fresh;
        if (vcpu is { } v)
        {
            ref var slot = ref _vcpuPending[(c * VcpuCount) + v];
            fresh = bits & ~slot;
            slot |= bits;
            if (_vcpuUnlisted[v] == 0)
            {
                _vcpusUnlisted++;
            }

            _vcpuUnlisted[v] |= bits;
        }
        else
        {
            fresh = bits & ~_pending[c];
            _pending[c] |= bits;
            _unlisted |= bits;
        }

        return fresh;
    }

    /// <summary>Every ID of a class pending anywhere: globally or for any vCPU.</summary>
    public ulong PendingBits(SenderClass cls)
    {
        var c = (int)cls;
        var bits = _pending[c];
        for (var v = 0; v < VcpuCount; v++)
        {
            bits |= _vcpuPending[(c * VcpuCount) + v];
        }

        return bits;
    }

    /// <summary>
    /// Takes global IDs back off the pending bitmap without their being returned by GET — what Xen's first VM-to-VM
    /// patch did when it found no vCPU online (<see cref="Personality.NotificationRollbackWindow"/>). Nothing correct
    /// calls this: it exists so exploration can show why it is wrong.
    /// </summary>
    public void RollBack(SenderClass cls, ulong bits)
    {
        _pending[(int)cls] &= ~bits;
        _unlisted &= _pending[0] | _pending[1];
    }

    /// <summary>What GET for <paramref name="vcpu"/> returns of a class: global plus that vCPU's pending IDs, cleared as returned.</summary>
    public ulong Take(SenderClass cls, int vcpu)
    {
        var c = (int)cls;
        var taken = _pending[c];
        _pending[c] = 0;
        if (vcpu >= 0 && vcpu < VcpuCount)
        {
            ref var slot = ref _vcpuPending[(c * VcpuCount) + vcpu];
            taken |= slot;
            ClearVcpuUnlisted(vcpu, slot);
            slot = 0;
        }

        // Listing state is kept across classes: an ID taken from one class stops needing a listing only if the other
        // class does not have it pending too.
        _unlisted &= _pending[0] | _pending[1];
        return taken;
    }

    /// <summary>Global notifications pending and not yet listed by INFO_GET.</summary>
    public bool GlobalUnlisted => _unlisted != 0 || FrameworkUnlisted;

    /// <summary>Whether per-vCPU notifications are pending and not yet listed for <paramref name="vcpu"/>.</summary>
    public bool VcpuUnlisted(int vcpu) => _vcpuUnlisted[vcpu] != 0;

    /// <summary>INFO_GET has listed the receiver's global notifications.</summary>
    public void ListedGlobal()
    {
        _unlisted = 0;
        FrameworkUnlisted = false;
    }

    /// <summary>INFO_GET has listed one vCPU's per-vCPU notifications.</summary>
    public void ListedVcpu(int vcpu) => ClearVcpuUnlisted(vcpu, ulong.MaxValue);

    /// <summary>Whether any vCPU has per-vCPU notifications INFO_GET has not listed (one load for the common case: none).</summary>
    public bool AnyVcpuUnlisted => _vcpusUnlisted != 0;

    private void ClearVcpuUnlisted(int vcpu, ulong bits)
    {
        ref var unlisted = ref _vcpuUnlisted[vcpu];
        if (unlisted != 0 && (unlisted & ~bits) == 0)
        {
            _vcpusUnlisted--;
        }

        unlisted &= ~bits;
    }

    /// <summary>vCPUs with per-vCPU notifications pending (global or not) — for choosing where an interrupt goes.</summary>
    public bool VcpuPending(int vcpu) => _vcpuPending[vcpu] != 0 || _vcpuPending[VcpuCount + vcpu] != 0;
}
