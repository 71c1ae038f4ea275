using System.Buffers.Binary;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;

namespace Firmament.Endpoints.Gunyah;

/// <summary>The answer to an RM request: the RM error, the reply data's length (after the error word), how the wait ended.</summary>
public readonly record struct RmCallResult(RmError Error, int Length, WaitOutcome Wait)
{
    public bool IsOk => Error == RmError.Ok && Wait == WaitOutcome.Done;
}

/// <summary>A notification the RM sent (payload copied out of the transport).</summary>
public sealed record RmNotification(RmMessageId Id, byte[] Payload);

/// <summary>
/// The guest's RM RPC client over its link (a message-queue pair): requests are split into 240-byte packets (PUSH on
/// the last), replies are matched by message ID and 16-bit cyclic sequence number, and notifications that arrive
/// meanwhile are kept for <see cref="TakeNotification"/>. Waiting for a reply is bounded by a budget (the RM answers
/// within the request on this platform, so a reply that never comes means a dead link). The request path allocates
/// nothing; notifications are copied.
/// </summary>
public sealed class RmClient
{
    private readonly MsgqueueClient _link;
    private readonly byte[] _packet = new byte[RmRpc.PacketSize];
    private readonly RmReassembler _reassembler = new();
    private readonly Queue<RmNotification> _notifications = new();
    private ushort _sequence;

    public RmClient(MsgqueueClient link)
    {
        ArgumentNullException.ThrowIfNull(link);
        _link = link;
    }

    /// <summary>How long a call waits for its reply.</summary>
    public WaitBudget Budget { get; set; } = WaitBudget.Default;

    /// <summary>Packets dropped (malformed, or replies to nothing this client asked).</summary>
    public long Dropped { get; private set; }

    public int PendingNotifications => _notifications.Count;

    /// <summary>Called with every notification as it arrives (it is also kept for <see cref="TakeNotification"/>).</summary>
    public Action<RmNotification>? Observer { get; set; }

    public bool TakeNotification(out RmNotification notification) => _notifications.TryDequeue(out notification!);

    /// <summary>
    /// Sends request <paramref name="id"/> with <paramref name="request"/> and waits for its reply; the reply data (after
    /// the error word) is copied into <paramref name="reply"/>.
    /// </summary>
    public async ValueTask<RmCallResult> CallAsync(RmMessageId id, ReadOnlyMemory<byte> request, Memory<byte> reply, CancellationToken cancellation = default)
    {
        if (RmFragmenter.Check(RmMessageType.Request, request.Length) != RmFragmentStatus.Ok)
        {
            return new RmCallResult(RmError.MsgInvalid, 0, WaitOutcome.Done);
        }

        var sequence = _sequence++;
        var packets = RmFragmenter.PacketCountFor(request.Length);
        for (var i = 0; i < packets; i++)
        {
            var type = i == 0 ? RmMessageType.Request : RmMessageType.Continuation;
            new RmPacketHeader(type, (byte)(packets - 1), sequence, (uint)id).Write(_packet);
            var start = i * RmRpc.PayloadPerPacket;
            var chunk = request.Span[start..Math.Min(request.Length, start + RmRpc.PayloadPerPacket)];
            chunk.CopyTo(_packet.AsSpan(RmRpc.HeaderSize));
            var sent = await _link.SendAsync(_packet.AsMemory(0, RmRpc.HeaderSize + chunk.Length), push: i == packets - 1, Budget, cancellation).ConfigureAwait(false);
            if (sent.Wait != WaitOutcome.Done || sent.Error != GunyahError.Ok)
            {
                return new RmCallResult(RmErrors.FromTransport(sent.Error), 0, sent.Wait);
            }
        }

        for (var yields = 0; ; yields++)
        {
            var got = await _link.TryReceiveAsync(_packet).ConfigureAwait(false);
            if (got.Error == GunyahError.Ok)
            {
                if (Accept(got.Size, (uint)id, sequence, reply, out var answer))
                {
                    return answer;
                }

                continue;
            }

            if (got.Error != GunyahError.MsgqueueEmpty)
            {
                return new RmCallResult(RmErrors.FromTransport(got.Error), 0, WaitOutcome.Done);
            }

            if (cancellation.IsCancellationRequested || yields >= Budget.Yields)
            {
                return new RmCallResult(RmError.Busy, 0, cancellation.IsCancellationRequested ? WaitOutcome.Cancelled : WaitOutcome.TimedOut);
            }

            await _link.Caller.YieldAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Drains whatever the RM has sent (notifications) without a request; returns how many notifications are kept.</summary>
    public async ValueTask<int> PollAsync()
    {
        while (true)
        {
            var got = await _link.TryReceiveAsync(_packet).ConfigureAwait(false);
            if (got.Error != GunyahError.Ok)
            {
                return _notifications.Count;
            }

            Accept(got.Size, 0, 0, default, out _);
        }
    }

    private bool Accept(int size, uint id, ushort sequence, Memory<byte> reply, out RmCallResult answer)
    {
        answer = default;
        var result = _reassembler.Accept(_packet.AsSpan(0, size));
        if (result.IsDropped)
        {
            Dropped++;
            return false;
        }

        if (!result.IsComplete)
        {
            return false;
        }

        var header = _reassembler.Header;
        var payload = _reassembler.Payload;
        if (header.Type == RmMessageType.Notification)
        {
            var notification = new RmNotification((RmMessageId)header.MessageId, payload.ToArray());
            _notifications.Enqueue(notification);
            Observer?.Invoke(notification);
            return false;
        }

        if (header.Type != RmMessageType.Reply || header.MessageId != id || header.Sequence != sequence || id == 0)
        {
            Dropped++;
            return false;
        }

        if (!RmErrors.TryReadReply(payload, out var error, out var data))
        {
            answer = new RmCallResult(RmError.MsgInvalid, 0, WaitOutcome.Done);
            return true;
        }

        var length = Math.Min(data.Length, reply.Length);
        data[..length].CopyTo(reply.Span);
        answer = new RmCallResult(error, length, WaitOutcome.Done);
        return true;
    }

    // Typed requests (the shapes of RM's payloads; they allocate their small request and reply buffers).

    public async ValueTask<(RmError Error, ushort Vmid)> GetVmidAsync()
    {
        var reply = new byte[4];
        var result = await CallAsync(RmMessageId.VmGetVmid, ReadOnlyMemory<byte>.Empty, reply).ConfigureAwait(false);
        return (Error(result), result.IsOk && result.Length >= 4 ? (ushort)BinaryPrimitives.ReadUInt32LittleEndian(reply) : (ushort)0);
    }

    /// <summary>VM_ALLOCATE: 0 asks for a dynamic VMID, which the reply gives.</summary>
    public async ValueTask<(RmError Error, ushort Vmid)> AllocateAsync(ushort vmid = 0)
    {
        var reply = new byte[4];
        var result = await CallAsync(RmMessageId.VmAllocate, Vmid(vmid), reply).ConfigureAwait(false);
        return (Error(result), !result.IsOk ? (ushort)0 : vmid != 0 ? vmid : (ushort)BinaryPrimitives.ReadUInt32LittleEndian(reply));
    }

    /// <summary>VM_CONFIG_IMAGE with no authentication; <paramref name="image"/> is the platform's image index (see docs/gunyah.md).</summary>
    public ValueTask<RmError> ConfigImageAsync(ushort vmid, uint image, ulong imageOffset = 0, ulong imageSize = 0, ulong dtbOffset = 0, ulong dtbSize = 0)
    {
        var request = new byte[40];
        BinaryPrimitives.WriteUInt16LittleEndian(request, vmid);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), image);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(8), imageOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), imageSize);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(24), dtbOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(32), dtbSize);
        return SimpleAsync(RmMessageId.VmConfigImage, request);
    }

    public ValueTask<RmError> InitAsync(ushort vmid) => SimpleAsync(RmMessageId.VmInit, Vmid(vmid));

    public ValueTask<RmError> StartAsync(ushort vmid) => SimpleAsync(RmMessageId.VmStart, Vmid(vmid));

    public ValueTask<RmError> StopAsync(ushort vmid, bool force, uint reason = 0)
    {
        var request = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(request, vmid);
        request[2] = force ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), reason);
        return SimpleAsync(RmMessageId.VmStop, request);
    }

    public ValueTask<RmError> ResetAsync(ushort vmid) => SimpleAsync(RmMessageId.VmReset, Vmid(vmid));

    public ValueTask<RmError> DeallocateAsync(ushort vmid) => SimpleAsync(RmMessageId.VmDeallocate, Vmid(vmid));

    /// <summary>VM_EXIT for the calling VM itself.</summary>
    public ValueTask<RmError> ExitAsync(ushort exitFlags = 0, byte exitCode = 0)
    {
        var request = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(request, exitFlags);
        request[2] = exitCode;
        return SimpleAsync(RmMessageId.VmExit, request);
    }

    public async ValueTask<(RmError Error, RmVmState Vm, RmOsState Os, ushort App)> GetStateAsync(ushort vmid = 0)
    {
        var reply = new byte[4];
        var result = await CallAsync(RmMessageId.VmGetState, Vmid(vmid), reply).ConfigureAwait(false);
        var (vm, os, app) = RmVmStates.UnpackState(BinaryPrimitives.ReadUInt32LittleEndian(reply));
        return (Error(result), vm, os, app);
    }

    /// <summary>VM_GET_HYP_RESOURCES: the caller's caps that concern <paramref name="vmid"/> (0: all of its own).</summary>
    public async ValueTask<(RmError Error, IReadOnlyList<RmHypResource> Resources)> GetHypResourcesAsync(ushort vmid = 0)
    {
        var reply = new byte[RmRpc.MaxPayload];
        var result = await CallAsync(RmMessageId.VmGetHypResources, Vmid(vmid), reply).ConfigureAwait(false);
        var list = new List<RmHypResource>();
        if (result.IsOk && result.Length >= 4)
        {
            var count = BinaryPrimitives.ReadUInt32LittleEndian(reply);
            for (var i = 0; i < count && 4 + ((i + 1) * 44) <= result.Length; i++)
            {
                var entry = reply.AsSpan(4 + (i * 44), 44);
                list.Add(new RmHypResource(
                    entry[0],
                    BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]),
                    new CapId(BinaryPrimitives.ReadUInt64LittleEndian(entry[12..])),
                    BinaryPrimitives.ReadUInt32LittleEndian(entry[24..])));
            }
        }

        return (Error(result), list);
    }

    public ValueTask<RmError> ConsoleOpenAsync(ushort vmid = 0) => SimpleAsync(RmMessageId.VmConsoleOpen, Vmid(vmid));

    public ValueTask<RmError> ConsoleCloseAsync(ushort vmid = 0) => SimpleAsync(RmMessageId.VmConsoleClose, Vmid(vmid));

    public ValueTask<RmError> ConsoleFlushAsync(ushort vmid = 0) => SimpleAsync(RmMessageId.VmConsoleFlush, Vmid(vmid));

    public ValueTask<RmError> ConsoleWriteAsync(ushort vmid, ReadOnlySpan<byte> bytes)
    {
        var request = new byte[4 + bytes.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(request, vmid);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), (ushort)bytes.Length);
        bytes.CopyTo(request.AsSpan(4));
        return SimpleAsync(RmMessageId.VmConsoleWrite, request);
    }

    // Memory parcels (docs/gunyah.md): create over the caller's own IPA ranges, accept / release as an ACL VM, reclaim
    // as the owner, notify the other side.

    /// <summary>MEM_LEND: the ACL's VMs (not the caller) may map the ranges; the caller loses access until reclaim.</summary>
    public ValueTask<(RmError Error, uint Handle)> LendAsync(IReadOnlyList<RmAclEntry> acl, IReadOnlyList<RmSglEntry> ranges, uint label = 0, bool sanitize = false) =>
        CreateParcelAsync(RmMessageId.MemLend, acl, ranges, label, sanitize);

    /// <summary>MEM_SHARE: the ACL names the caller too; it keeps its access.</summary>
    public ValueTask<(RmError Error, uint Handle)> ShareAsync(IReadOnlyList<RmAclEntry> acl, IReadOnlyList<RmSglEntry> ranges, uint label = 0, bool sanitize = false) =>
        CreateParcelAsync(RmMessageId.MemShare, acl, ranges, label, sanitize);

    /// <summary>MEM_DONATE: one VM with RWX; it owns the pages once it accepts them.</summary>
    public ValueTask<(RmError Error, uint Handle)> DonateAsync(IReadOnlyList<RmAclEntry> acl, IReadOnlyList<RmSglEntry> ranges, uint label = 0, bool sanitize = false) =>
        CreateParcelAsync(RmMessageId.MemDonate, acl, ranges, label, sanitize);

    /// <summary>
    /// MEM_ACCEPT of a parcel of type <paramref name="transType"/>. Without <paramref name="ranges"/> the RM chooses where
    /// the regions go and says so (the reply's SGL); with them, they must be where the RM maps (IPA = PA here).
    /// </summary>
    public async ValueTask<(RmError Error, IReadOnlyList<RmSglEntry> Regions)> AcceptAsync(
        uint handle, RmTransType transType, RmAcceptFlags flags = RmAcceptFlags.Done, uint label = 0, IReadOnlyList<RmAclEntry>? acl = null, IReadOnlyList<RmSglEntry>? ranges = null)
    {
        acl ??= [];
        ranges ??= [];
        var request = new byte[12 + ListsSize(acl, ranges)];
        BinaryPrimitives.WriteUInt32LittleEndian(request, handle);
        request[5] = (byte)transType;
        request[6] = (byte)flags;
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), label);
        WriteLists(request.AsSpan(12), acl, ranges);
        var reply = new byte[RmRpc.MaxPayload];
        var result = await CallAsync(RmMessageId.MemAccept, request, reply).ConfigureAwait(false);
        var regions = new List<RmSglEntry>();
        if (result.IsOk && result.Length >= 4)
        {
            var count = BinaryPrimitives.ReadUInt16LittleEndian(reply);
            for (var i = 0; i < count && 4 + ((i + 1) * 16) <= result.Length; i++)
            {
                regions.Add(new RmSglEntry(BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(4 + (i * 16))), BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(12 + (i * 16)))));
            }
        }

        return (Error(result), regions);
    }

    /// <summary>MEM_RELEASE: the caller (an ACL VM) unmaps the parcel; <paramref name="sanitize"/> zeroes it first.</summary>
    public ValueTask<RmError> ReleaseAsync(uint handle, bool sanitize = false) => SimpleAsync(RmMessageId.MemRelease, HandleAndFlags(handle, sanitize));

    /// <summary>MEM_RECLAIM: the owner takes its pages back (refused while an ACL VM has them mapped).</summary>
    public ValueTask<RmError> ReclaimAsync(uint handle, bool sanitize = false) => SimpleAsync(RmMessageId.MemReclaim, HandleAndFlags(handle, sanitize));

    /// <summary>MEM_NOTIFY(SHARED): the owner has the RM send MEM_SHARED to <paramref name="vmids"/> (VMs of the ACL).</summary>
    public ValueTask<RmError> NotifySharedAsync(uint handle, IReadOnlyList<ushort> vmids, uint memInfoTag = 0)
    {
        ArgumentNullException.ThrowIfNull(vmids);
        var request = new byte[16 + (vmids.Count * 4)];
        BinaryPrimitives.WriteUInt32LittleEndian(request, handle);
        request[4] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), memInfoTag);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(12), (ushort)vmids.Count);
        for (var i = 0; i < vmids.Count; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(16 + (i * 4)), vmids[i]);
        }

        return SimpleAsync(RmMessageId.MemNotify, request);
    }

    /// <summary>MEM_NOTIFY(ACCEPTED or RELEASED): an ACL VM has the RM tell the owner what it did.</summary>
    public ValueTask<RmError> NotifyOwnerAsync(uint handle, bool accepted, uint memInfoTag = 0)
    {
        var request = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(request, handle);
        request[4] = accepted ? (byte)4 : (byte)2;
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), memInfoTag);
        return SimpleAsync(RmMessageId.MemNotify, request);
    }

    private async ValueTask<(RmError Error, uint Handle)> CreateParcelAsync(RmMessageId id, IReadOnlyList<RmAclEntry> acl, IReadOnlyList<RmSglEntry> ranges, uint label, bool sanitize)
    {
        ArgumentNullException.ThrowIfNull(acl);
        ArgumentNullException.ThrowIfNull(ranges);
        var request = new byte[8 + ListsSize(acl, ranges)];
        request[2] = sanitize ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), label);
        WriteLists(request.AsSpan(8), acl, ranges);
        var reply = new byte[4];
        var result = await CallAsync(id, request, reply).ConfigureAwait(false);
        return (Error(result), result.IsOk && result.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(reply) : 0xFFFF_FFFF);
    }

    private static int ListsSize(IReadOnlyList<RmAclEntry> acl, IReadOnlyList<RmSglEntry> ranges) => 4 + (acl.Count * 4) + 4 + (ranges.Count * 16) + 4;

    /// <summary>ACL (u32 count, {u16 vmid, u8 rights, u8 0}), SGL (u16 count, u16 0, {u64 IPA, u64 size}), no attributes.</summary>
    private static void WriteLists(Span<byte> lists, IReadOnlyList<RmAclEntry> acl, IReadOnlyList<RmSglEntry> ranges)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(lists, (uint)acl.Count);
        var at = 4;
        foreach (var entry in acl)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(lists[at..], entry.Vmid);
            lists[at + 2] = (byte)entry.Rights;
            at += 4;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(lists[at..], (ushort)ranges.Count);
        at += 4;
        foreach (var range in ranges)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(lists[at..], range.Ipa);
            BinaryPrimitives.WriteUInt64LittleEndian(lists[(at + 8)..], range.Size);
            at += 16;
        }
    }

    private static byte[] HandleAndFlags(uint handle, bool sanitize)
    {
        var request = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(request, handle);
        request[4] = sanitize ? (byte)1 : (byte)0;
        return request;
    }

    private async ValueTask<RmError> SimpleAsync(RmMessageId id, byte[] request)
    {
        var result = await CallAsync(id, request, Memory<byte>.Empty).ConfigureAwait(false);
        return Error(result);
    }

    private static RmError Error(RmCallResult result) => result.Wait == WaitOutcome.Done ? result.Error : RmError.Busy;

    private static byte[] Vmid(ushort vmid)
    {
        var request = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(request, vmid);
        return request;
    }
}

/// <summary>One entry of VM_GET_HYP_RESOURCES as a guest reads it.</summary>
public readonly record struct RmHypResource(byte Type, ushort Partner, uint Label, CapId Cap, uint Virq);
