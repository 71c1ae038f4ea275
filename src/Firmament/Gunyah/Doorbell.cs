using Firmament.Abi.Gunyah;

namespace Firmament.Gunyah;

/// <summary>
/// A doorbell: a 64-bit flag word, an enable mask (default all ones) and an auto-acknowledge mask (default 0), and
/// one interrupt source bound in the receiver's VIC. Send ORs flags in and returns the old word; if an enabled flag is
/// now set the VIRQ is asserted and the ack mask's flags are cleared; otherwise an edge-triggered VIRQ still fires
/// (the hypervisor asserts it edge-only). Two ways to use it fall out:
/// a plain interrupt source (edge VIRQ, flags ignored) and a flag bitmap several senders share (level VIRQ, pending
/// while an enabled flag is set; the receiver reads and clears with receive). The model has no EOI hook, so a level
/// VIRQ is re-checked when receive, mask or reset change the flags.
/// </summary>
public sealed class Doorbell(string name) : GunyahObject
{
    public override GunyahObjectType Type => GunyahObjectType.Doorbell;

    public string Name { get; } = name;

    public ulong Flags { get; private set; }

    public ulong EnableMask { get; private set; } = ulong.MaxValue;

    public ulong AckMask { get; private set; }

    /// <summary>The receiver's interrupt source.</summary>
    public VirqSource Source { get; } = new(name);

    /// <summary>doorbell_send: returns the flags before the OR. Never fails once the cap is good and the doorbell active.</summary>
    public ulong Send(ulong newFlags)
    {
        var old = Flags;
        Flags |= newFlags;
        if ((Flags & EnableMask) != 0)
        {
            Source.Assert();
            Flags &= ~AckMask;
        }
        else if (Source.Trigger == VirqTrigger.Edge)
        {
            Source.Assert();
        }

        return old;
    }

    /// <summary>doorbell_receive: a zero mask is ARGUMENT_INVALID; clears the mask's flags and returns the old word.</summary>
    public GunyahError Receive(ulong clearFlags, out ulong oldFlags)
    {
        oldFlags = Flags;
        if (clearFlags == 0)
        {
            return GunyahError.ArgumentInvalid;
        }

        Flags &= ~clearFlags;
        Recheck();
        return GunyahError.Ok;
    }

    /// <summary>doorbell_mask: new enable and ack masks, asserting or withdrawing the VIRQ as the enabled flags change.</summary>
    public void Mask(ulong enableMask, ulong ackMask)
    {
        var was = (Flags & EnableMask) != 0;
        var now = (Flags & enableMask) != 0;
        EnableMask = enableMask;
        AckMask = ackMask;
        if (was && !now)
        {
            Source.Deassert();
        }
        else if (!was && now)
        {
            Source.Assert();
            Flags &= ~ackMask;
        }
        else if (was && now)
        {
            Flags &= ~ackMask;
        }
    }

    /// <summary>doorbell_reset: withdraws the VIRQ, flags 0, ack mask 0, enable mask all ones.</summary>
    public void Reset()
    {
        Source.Deassert();
        Flags = 0;
        AckMask = 0;
        EnableMask = ulong.MaxValue;
    }

    private void Recheck()
    {
        if (Source.Trigger == VirqTrigger.Level && (Flags & EnableMask) == 0)
        {
            Source.Deassert();
        }
    }

    public override string ToString() => $"doorbell {Name} (flags 0x{Flags:X})";
}
