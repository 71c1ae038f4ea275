using Firmament.Abi.Gunyah;
using Firmament.Machine;

namespace Firmament.Gunyah;

/// <summary>How a bound VIRQ is asserted: an edge per assertion, or a level held while its source says so.</summary>
public enum VirqTrigger : byte
{
    /// <summary>Every assertion makes it pending once (what RM configures for the VIRQs it allocates).</summary>
    Edge = 0,

    /// <summary>Pending while the source's condition holds; re-checked when the source changes.</summary>
    Level = 1,
}

/// <summary>Where an asserted VIRQ lands: a VM's VIC, or a hypervisor-side listener (the Resource Manager).</summary>
public interface IVirqSink
{
    /// <summary>The source asserted (or, with <paramref name="asserted"/> false, deasserted) its VIRQ.</summary>
    void Signal(VirqSource source, bool asserted);
}

/// <summary>
/// One interrupt source of an object (a doorbell's, a message queue's send or receive side, a vCPU's wakeup): at most
/// one binding, to one VIRQ number of one sink.
/// </summary>
public sealed class VirqSource(string name)
{
    public string Name { get; } = name;

    public IVirqSink? Sink { get; private set; }

    public uint Virq { get; private set; }

    public byte TargetVcpu { get; private set; }

    public VirqTrigger Trigger { get; set; }

    public bool IsBound => Sink is not null;

    /// <summary>Times the source asserted its VIRQ while bound (for tests and traces).</summary>
    public long Assertions { get; private set; }

    internal void Bind(IVirqSink sink, uint virq, byte target)
    {
        Sink = sink;
        Virq = virq;
        TargetVcpu = target;
    }

    internal void Unbind()
    {
        Sink = null;
        Virq = 0;
    }

    /// <summary>Asserts the VIRQ (nothing happens while unbound: the condition is not remembered).</summary>
    public void Assert()
    {
        if (Sink is { } sink)
        {
            Assertions++;
            sink.Signal(this, asserted: true);
        }
    }

    /// <summary>Withdraws a level VIRQ whose condition no longer holds.</summary>
    public void Deassert() => Sink?.Signal(this, asserted: false);
}

/// <summary>
/// A VM's virtual interrupt controller as the Gunyah objects see it: VIRQ numbers bound to sources, delivered to the
/// target vCPU's <see cref="VirtualCpuInterface"/> (SPIs 32–1019; the target index picks the vCPU, 0 by default). The
/// model has no distributor registers, so binding a source enables its VIRQ on every vCPU of the VM.
/// </summary>
public sealed class Vic : GunyahObject, IVirqSink
{
    private readonly Dictionary<uint, VirqSource> _bound = [];

    public Vic(GunyahVm vm) => Vm = vm;

    public override GunyahObjectType Type => GunyahObjectType.Vic;

    public GunyahVm Vm { get; }

    /// <summary>VIRQ numbers the model can deliver: the SPI range.</summary>
    public static bool IsDeliverable(uint virq) => virq is >= InterruptIds.FirstSpi and <= InterruptIds.LastSpi;

    /// <summary>The source bound to a VIRQ number, if any.</summary>
    public VirqSource? SourceOf(uint virq) => _bound.GetValueOrDefault(virq);

    /// <summary>
    /// Binds <paramref name="source"/> to <paramref name="virq"/>: VIRQ_BOUND if the source is already bound,
    /// ARGUMENT_INVALID for a number outside the SPI range or a target vCPU the VM does not have, BUSY if the number
    /// has a source.
    /// </summary>
    public GunyahError Bind(VirqSource source, VirqInfo virq)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.IsBound)
        {
            return GunyahError.VirqBound;
        }

        if (!IsDeliverable(virq.Virq) || virq.TargetVcpu >= Math.Max(1, Vm.Vcpus.Count))
        {
            return GunyahError.ArgumentInvalid;
        }

        if (_bound.ContainsKey(virq.Virq))
        {
            return GunyahError.Busy;
        }

        _bound.Add(virq.Virq, source);
        source.Bind(this, virq.Virq, virq.TargetVcpu);
        foreach (var vcpu in Vm.Vcpus)
        {
            vcpu.Interrupts.Enable((int)virq.Virq);
        }

        return GunyahError.Ok;
    }

    /// <summary>Unbinds a source: VIRQ_NOT_BOUND if it is not bound here. A pending VIRQ is withdrawn.</summary>
    public static GunyahError Unbind(VirqSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Sink is not Vic vic)
        {
            return source.Sink is null ? GunyahError.VirqNotBound : UnbindOther(source);
        }

        var virq = source.Virq;
        vic._bound.Remove(virq);
        foreach (var vcpu in vic.Vm.Vcpus)
        {
            vcpu.Interrupts.ClearPending((int)virq);
            vcpu.Interrupts.Disable((int)virq);
        }

        source.Unbind();
        return GunyahError.Ok;
    }

    /// <summary>Binds a source to a hypervisor-side sink (the Resource Manager's own VIC).</summary>
    public static void BindInternal(VirqSource source, IVirqSink sink, uint virq)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.Bind(sink, virq, 0);
    }

    public void Signal(VirqSource source, bool asserted)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (Vm.Vcpus.Count == 0)
        {
            return;
        }

        var vcpu = Vm.Vcpus[Math.Min(source.TargetVcpu, Vm.Vcpus.Count - 1)];
        if (asserted)
        {
            vcpu.Interrupts.SetPending((int)source.Virq);
            Vm.OnInterrupt(vcpu);
        }
        else
        {
            vcpu.Interrupts.ClearPending((int)source.Virq);
        }
    }

    private static GunyahError UnbindOther(VirqSource source)
    {
        source.Unbind();
        return GunyahError.Ok;
    }
}
