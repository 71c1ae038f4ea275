using Firmament.Abi.Gunyah;
using Firmament.Machine;

namespace Firmament.Endpoints.Gunyah;

/// <summary>How a blocking wait ended.</summary>
public enum WaitOutcome : byte
{
    /// <summary>The operation was carried out (or failed with an error that waiting cannot cure).</summary>
    Done = 0,

    /// <summary>The budget ran out first: the peer never made room (or never sent).</summary>
    TimedOut,

    /// <summary>The token was cancelled first.</summary>
    Cancelled,
}

/// <summary>
/// How long a blocking client call may wait: at most <paramref name="Yields"/> scheduler_yield calls between retries.
/// A wait is always bounded, and cancellable with a token: a send never waits forever on a dead peer.
/// </summary>
public readonly record struct WaitBudget(int Yields)
{
    public static WaitBudget Default => new(10_000);

    /// <summary>Do not wait at all.</summary>
    public static WaitBudget None => new(0);
}

/// <summary>The result of a blocking send: the hypercall's answer and how the wait ended.</summary>
public readonly record struct MsgqueueSendOutcome(GunyahError Error, bool NotFull, WaitOutcome Wait);

/// <summary>The result of a receive: bytes received, whether more wait, and how the wait ended.</summary>
public readonly record struct MsgqueueReceiveOutcome(GunyahError Error, int Size, bool NotEmpty, WaitOutcome Wait);

/// <summary>
/// A guest's end of a message-queue pair: a SEND cap (TX queue) and/or a RECEIVE cap (RX queue), and a message
/// buffer in the guest's own memory the hypercalls copy from and to. Non-blocking calls answer at once (FULL, EMPTY);
/// blocking ones retry after scheduler_yield until the budget is spent or the token is cancelled. A receive that finds
/// nothing in a vcpu_run-scheduled guest yields the CPU back to its owner, which is what lets the owner's messages in.
/// </summary>
public sealed class MsgqueueClient
{
    private readonly GunyahCaller _caller;
    private readonly AddressSpace _memory;

    /// <param name="caller">The guest's hypercall layer.</param>
    /// <param name="memory">The guest's own memory.</param>
    /// <param name="buffer">IPA of a message buffer of at least <paramref name="bufferSize"/> bytes in that memory.</param>
    /// <param name="bufferSize">Size of the buffer (1024 covers every message size).</param>
    /// <param name="tx">SEND cap of the queue this guest sends on (invalid if none).</param>
    /// <param name="rx">RECEIVE cap of the queue this guest receives from (invalid if none).</param>
    public MsgqueueClient(GunyahCaller caller, AddressSpace memory, ulong buffer, int bufferSize, CapId tx, CapId rx)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(memory);
        _caller = caller;
        _memory = memory;
        Buffer = buffer;
        BufferSize = bufferSize;
        Tx = tx;
        Rx = rx;
    }

    public CapId Tx { get; }

    public CapId Rx { get; }

    public ulong Buffer { get; }

    public int BufferSize { get; }

    public GunyahCaller Caller => _caller;

    /// <summary>Sends once: MSGQUEUE_FULL comes back as it is.</summary>
    public ValueTask<MsgqueueSendResult> TrySendAsync(ReadOnlyMemory<byte> message, bool push = false)
    {
        if (message.Length > BufferSize || !_memory.TryWrite(Buffer, message.Span, out _))
        {
            return new ValueTask<MsgqueueSendResult>(new MsgqueueSendResult(GunyahError.ArgumentSize, false));
        }

        return _caller.MsgqueueSendAsync(Tx, (ulong)message.Length, Buffer, push);
    }

    /// <summary>Receives once into <paramref name="destination"/>: MSGQUEUE_EMPTY comes back as it is.</summary>
    public async ValueTask<MsgqueueReceiveOutcome> TryReceiveAsync(Memory<byte> destination)
    {
        var result = await _caller.MsgqueueReceiveAsync(Rx, Buffer, (ulong)Math.Min(BufferSize, destination.Length)).ConfigureAwait(false);
        var size = result.Error == GunyahError.Ok ? (int)result.Size : 0;
        if (size > 0 && !_memory.TryRead(Buffer, destination.Span[..size], out _))
        {
            return new MsgqueueReceiveOutcome(GunyahError.AddrInvalid, 0, result.NotEmpty, WaitOutcome.Done);
        }

        return new MsgqueueReceiveOutcome(result.Error, size, result.NotEmpty, WaitOutcome.Done);
    }

    /// <summary>Sends, waiting (yielding) while the queue is full, at most <paramref name="budget"/>.</summary>
    public async ValueTask<MsgqueueSendOutcome> SendAsync(ReadOnlyMemory<byte> message, bool push, WaitBudget budget, CancellationToken cancellation = default)
    {
        for (var yields = 0; ; yields++)
        {
            var result = await TrySendAsync(message, push).ConfigureAwait(false);
            if (result.Error != GunyahError.MsgqueueFull)
            {
                return new MsgqueueSendOutcome(result.Error, result.NotFull, WaitOutcome.Done);
            }

            if (cancellation.IsCancellationRequested)
            {
                return new MsgqueueSendOutcome(result.Error, false, WaitOutcome.Cancelled);
            }

            if (yields >= budget.Yields)
            {
                return new MsgqueueSendOutcome(result.Error, false, WaitOutcome.TimedOut);
            }

            await _caller.YieldAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Receives, waiting (yielding) while the queue is empty, at most <paramref name="budget"/>.</summary>
    public async ValueTask<MsgqueueReceiveOutcome> ReceiveAsync(Memory<byte> destination, WaitBudget budget, CancellationToken cancellation = default)
    {
        for (var yields = 0; ; yields++)
        {
            var result = await TryReceiveAsync(destination).ConfigureAwait(false);
            if (result.Error != GunyahError.MsgqueueEmpty)
            {
                return result;
            }

            if (cancellation.IsCancellationRequested)
            {
                return result with { Wait = WaitOutcome.Cancelled };
            }

            if (yields >= budget.Yields)
            {
                return result with { Wait = WaitOutcome.TimedOut };
            }

            await _caller.YieldAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// A guest's doorbell: as a sender (SEND cap) it is an interrupt source for the receiver — <see cref="RingAsync"/>
/// raises the receiver's VIRQ, or sets flags in a bitmap several senders share; as a receiver (RECEIVE cap) it reads
/// and clears flags, sets the enable/ack masks (level mode: <c>MaskAsync(1, 1)</c>) and can wait for flags.
/// </summary>
public sealed class DoorbellClient(GunyahCaller caller, CapId cap, uint virq = 0)
{
    public CapId Cap { get; } = cap;

    /// <summary>The receiver's VIRQ (0 for a sender's cap).</summary>
    public uint Virq { get; } = virq;

    /// <summary>ORs <paramref name="flags"/> in (1 for a plain interrupt); returns the flags before.</summary>
    public ValueTask<DoorbellFlagsResult> RingAsync(ulong flags = 1) => caller.DoorbellSendAsync(Cap, flags);

    /// <summary>Reads and clears <paramref name="clear"/> (non-zero); returns the flags before.</summary>
    public ValueTask<DoorbellFlagsResult> TakeAsync(ulong clear = ulong.MaxValue) => caller.DoorbellReceiveAsync(Cap, clear);

    public ValueTask<GunyahError> MaskAsync(ulong enableMask, ulong ackMask) => caller.DoorbellMaskAsync(Cap, enableMask, ackMask);

    public ValueTask<GunyahError> ResetAsync() => caller.DoorbellResetAsync(Cap);

    /// <summary>Waits (yielding) until a flag of <paramref name="mask"/> is set, then takes those flags.</summary>
    public async ValueTask<(DoorbellFlagsResult Result, WaitOutcome Wait)> WaitAsync(ulong mask, WaitBudget budget, CancellationToken cancellation = default)
    {
        for (var yields = 0; ; yields++)
        {
            var result = await TakeAsync(mask).ConfigureAwait(false);
            if (result.Error != GunyahError.Ok || (result.OldFlags & mask) != 0)
            {
                return (result, WaitOutcome.Done);
            }

            if (cancellation.IsCancellationRequested)
            {
                return (result, WaitOutcome.Cancelled);
            }

            if (yields >= budget.Yields)
            {
                return (result, WaitOutcome.TimedOut);
            }

            await caller.YieldAsync().ConfigureAwait(false);
        }
    }
}
