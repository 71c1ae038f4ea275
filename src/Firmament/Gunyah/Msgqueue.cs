using Firmament.Abi.Gunyah;

namespace Firmament.Gunyah;

/// <summary>
/// A unidirectional message queue: depth 1–255 messages of 1–1023 bytes (the RM's links use 8 × 240), configured in
/// INIT and allocated at activation. Two interrupt sources: the receive side's not-empty VIRQ, asserted when a send
/// brings the count to the not-empty threshold (default 1) or carries PUSH; the send side's not-full VIRQ, asserted
/// when a receive brings the count down to the not-full threshold (default depth − 1, i.e. "was full, has room").
/// Every operation validates first; a refused one changes nothing.
/// </summary>
public sealed class Msgqueue(string name) : GunyahObject
{
    private byte[] _data = [];
    private ushort[] _sizes = [];
    private int _head;

    public override GunyahObjectType Type => GunyahObjectType.Msgqueue;

    public string Name { get; } = name;

    public int Depth { get; private set; }

    public int MaxMsgSize { get; private set; }

    /// <summary>Messages waiting.</summary>
    public int Count { get; private set; }

    /// <summary>Count at or below which the send side's VIRQ is asserted (after a receive).</summary>
    public int NotFullThreshold { get; private set; }

    /// <summary>Count at or above which the receive side's VIRQ is asserted (after a send).</summary>
    public int NotEmptyThreshold { get; private set; }

    /// <summary>The not-full (TX) interrupt source, bound in the sender's VIC.</summary>
    public VirqSource SendSource { get; } = new(name + ".tx");

    /// <summary>The not-empty (RX) interrupt source, bound in the receiver's VIC.</summary>
    public VirqSource ReceiveSource { get; } = new(name + ".rx");

    internal override bool IsConfigured => Depth > 0;

    /// <summary>msgqueue_configure: OBJECT_STATE unless INIT; ARGUMENT_INVALID for depth or size out of range.</summary>
    public GunyahError Configure(MsgqueueCreateInfo info)
    {
        if (State != GunyahObjectState.Init)
        {
            return GunyahError.ObjectState;
        }

        if (!info.IsQueueDepthInRange || !info.IsMaxMsgSizeInRange)
        {
            return GunyahError.ArgumentInvalid;
        }

        Depth = info.QueueDepth;
        MaxMsgSize = info.MaxMsgSize;
        return GunyahError.Ok;
    }

    /// <summary>Activates a queue that no cspace holds (tools and tests; hypervisor-made queues are activated by object_activate or the RM): INIT → ACTIVE with its storage.</summary>
    public void ActivateDetached()
    {
        if (State == GunyahObjectState.Init && IsConfigured)
        {
            OnActivate();
            State = GunyahObjectState.Active;
        }
    }

    internal override void OnActivate()
    {
        _data = new byte[Depth * MaxMsgSize];
        _sizes = new ushort[Depth];
        NotFullThreshold = Depth - 1;
        NotEmptyThreshold = 1;
    }

    /// <summary>
    /// The slot the next message goes into, after the checks a send makes: OBJECT_STATE before activation,
    /// ARGUMENT_SIZE for 0 or more than the maximum, MSGQUEUE_FULL at depth. Fill it, then <see cref="CommitSend"/>.
    /// </summary>
    public GunyahError BeginSend(int size, out Span<byte> slot)
    {
        slot = default;
        if (State != GunyahObjectState.Active)
        {
            return GunyahError.ObjectState;
        }

        if (size <= 0 || size > MaxMsgSize)
        {
            return GunyahError.ArgumentSize;
        }

        if (Count == Depth)
        {
            return GunyahError.MsgqueueFull;
        }

        var tail = (_head + Count) % Depth;
        slot = _data.AsSpan(tail * MaxMsgSize, size);
        return GunyahError.Ok;
    }

    /// <summary>Queues the message written into the slot; asserts RX at the threshold or on PUSH; returns not_full.</summary>
    public bool CommitSend(int size, bool push)
    {
        _sizes[(_head + Count) % Depth] = (ushort)size;
        Count++;
        if (push || Count == NotEmptyThreshold)
        {
            ReceiveSource.Assert();
        }

        return Count < Depth;
    }

    /// <summary>Sends a message from hypervisor-side code (the Resource Manager): the same checks and effects.</summary>
    public GunyahError Send(ReadOnlySpan<byte> message, bool push, out bool notFull)
    {
        notFull = Count < Depth;
        var error = BeginSend(message.Length, out var slot);
        if (error != GunyahError.Ok)
        {
            return error;
        }

        message.CopyTo(slot);
        notFull = CommitSend(message.Length, push);
        return GunyahError.Ok;
    }

    /// <summary>
    /// The head message, after the checks a receive makes: OBJECT_STATE before activation, MSGQUEUE_EMPTY, and
    /// ADDR_OVERFLOW when it does not fit <paramref name="bufferSize"/> (it stays at the head). Copy it, then
    /// <see cref="CommitReceive"/>.
    /// </summary>
    public GunyahError BeginReceive(ulong bufferSize, out ReadOnlySpan<byte> message)
    {
        message = default;
        if (State != GunyahObjectState.Active)
        {
            return GunyahError.ObjectState;
        }

        if (Count == 0)
        {
            return GunyahError.MsgqueueEmpty;
        }

        var size = _sizes[_head];
        if (bufferSize < size)
        {
            return GunyahError.AddrOverflow;
        }

        message = _data.AsSpan(_head * MaxMsgSize, size);
        return GunyahError.Ok;
    }

    /// <summary>Removes the head message; asserts TX when the count falls to the not-full threshold; returns not_empty.</summary>
    public bool CommitReceive()
    {
        _head = (_head + 1) % Depth;
        Count--;
        if (Count == NotFullThreshold)
        {
            SendSource.Assert();
        }

        return Count > 0;
    }

    /// <summary>Receives into hypervisor-side memory (the Resource Manager): the same checks and effects.</summary>
    public GunyahError Receive(Span<byte> destination, out int size, out bool notEmpty)
    {
        size = 0;
        notEmpty = Count > 0;
        var error = BeginReceive((ulong)destination.Length, out var message);
        if (error != GunyahError.Ok)
        {
            return error;
        }

        message.CopyTo(destination);
        size = message.Length;
        notEmpty = CommitReceive();
        return GunyahError.Ok;
    }

    /// <summary>msgqueue_flush: discards every message; if there were any, asserts TX and withdraws RX.</summary>
    public GunyahError Flush()
    {
        if (State != GunyahObjectState.Active)
        {
            return GunyahError.ObjectState;
        }

        var had = Count > 0;
        Count = 0;
        _head = 0;
        if (had)
        {
            SendSource.Assert();
            ReceiveSource.Deassert();
        }

        return GunyahError.Ok;
    }

    /// <summary>
    /// msgqueue_configure_send: a delay other than −1 is UNIMPLEMENTED; the threshold must be −1 (unchanged) or below the
    /// depth (ARGUMENT_INVALID). Then TX is asserted if the count is at or below it, withdrawn otherwise.
    /// </summary>
    public GunyahError ConfigureSend(ulong threshold, ulong delay)
    {
        if (State != GunyahObjectState.Active)
        {
            return GunyahError.ObjectState;
        }

        if (delay != MsgqueueThreshold.Unchanged)
        {
            return GunyahError.Unimplemented;
        }

        if (threshold != MsgqueueThreshold.Unchanged && threshold >= (ulong)Depth)
        {
            return GunyahError.ArgumentInvalid;
        }

        if (threshold != MsgqueueThreshold.Unchanged)
        {
            NotFullThreshold = (int)threshold;
        }

        if (Count <= NotFullThreshold)
        {
            SendSource.Assert();
        }
        else
        {
            SendSource.Deassert();
        }

        return GunyahError.Ok;
    }

    /// <summary>
    /// msgqueue_configure_receive: a delay other than −1 is UNIMPLEMENTED; the threshold is −1 (unchanged), −2 (the
    /// depth) or 1..depth (0 and above the depth are ARGUMENT_INVALID). Then RX is asserted if the count is at or above
    /// it, withdrawn otherwise.
    /// </summary>
    public GunyahError ConfigureReceive(ulong threshold, ulong delay)
    {
        if (State != GunyahObjectState.Active)
        {
            return GunyahError.ObjectState;
        }

        if (delay != MsgqueueThreshold.Unchanged)
        {
            return GunyahError.Unimplemented;
        }

        if (threshold is not (MsgqueueThreshold.Unchanged or MsgqueueThreshold.QueueDepth) && (threshold == 0 || threshold > (ulong)Depth))
        {
            return GunyahError.ArgumentInvalid;
        }

        NotEmptyThreshold = threshold switch
        {
            MsgqueueThreshold.Unchanged => NotEmptyThreshold,
            MsgqueueThreshold.QueueDepth => Depth,
            _ => (int)threshold,
        };
        if (Count >= NotEmptyThreshold)
        {
            ReceiveSource.Assert();
        }
        else
        {
            ReceiveSource.Deassert();
        }

        return GunyahError.Ok;
    }

    public override string ToString() => $"msgqueue {Name} ({Count}/{Depth})";
}
