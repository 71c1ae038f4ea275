using System.Buffers.Binary;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;

namespace Firmament.Gunyah;

/// <summary>
/// One client's RPC link to the RM: a message-queue pair (client → RM, RM → client; 240-byte messages, depth 8), the
/// client's caps to its ends, their VIRQs in the client's VIC, the RM's reassembler for the client's requests, and the
/// packets waiting for room in the client's receive queue.
/// </summary>
public sealed class RmLink
{
    internal RmLink(GunyahVm client, Msgqueue toRm, Msgqueue fromRm)
    {
        Client = client;
        ToRm = toRm;
        FromRm = fromRm;
    }

    public GunyahVm Client { get; }

    public ushort Vmid => Client.Vmid;

    /// <summary>The queue the client sends requests on.</summary>
    public Msgqueue ToRm { get; }

    /// <summary>The queue the RM sends replies and notifications on.</summary>
    public Msgqueue FromRm { get; }

    /// <summary>The client's SEND cap on <see cref="ToRm"/>.</summary>
    public CapId TxCap { get; internal set; }

    /// <summary>The client's RECEIVE cap on <see cref="FromRm"/>.</summary>
    public CapId RxCap { get; internal set; }

    /// <summary>The client's not-full VIRQ (room again in <see cref="ToRm"/>).</summary>
    public uint TxVirq { get; internal set; }

    /// <summary>The client's not-empty VIRQ (a packet waits in <see cref="FromRm"/>).</summary>
    public uint RxVirq { get; internal set; }

    internal RmReassembler Reassembler { get; } = new();

    internal Queue<byte[]> Pending { get; } = new();

    /// <summary>Requests answered, packets the RM dropped.</summary>
    public long Requests { get; internal set; }

    public long Dropped { get; internal set; }

    public override string ToString() => $"RM link to VM 0x{Vmid:X}";
}

/// <summary>
/// The Resource Manager: the root VM (VMID 0xFF) that creates VMs and serves them over message-queue pairs with RM RPC
/// packets (8-byte header, request / reply / notification, sequence numbers, 232-byte fragments up to 14 616 bytes).
/// It is modelled inside the hypervisor: it holds its own cspace with the master caps of every object it creates, and
/// its receive VIRQs land here, so a request is served the moment its last fragment is queued (on the sender's pCPU and
/// time). Replies echo the message ID and sequence number and start with the RM error word; a reply that does not fit
/// the client's queue waits for its not-full VIRQ. Served: VM_ALLOCATE, DEALLOCATE, CONFIG_IMAGE, INIT, START, STOP,
/// RESET, GET_STATE, GET_VMID, GET_OWNER, GET_HYP_RESOURCES, SET_STATUS, EXIT, the console (OPEN, CLOSE, WRITE, FLUSH),
/// the memory parcels (LEND, SHARE, DONATE, ACCEPT, RELEASE, RECLAIM, NOTIFY, on the machine's page ledger; see
/// ResourceManager.Parcels.cs), with the VM_EXITED, VM_STATUS, VM_SHUTDOWN, VM_CONSOLE_CHARS, MEM_SHARED, MEM_ACCEPTED
/// and MEM_RELEASED notifications. Every other message ID (MEM_APPEND among them) is answered UNIMPLEMENTED.
/// </summary>
public sealed partial class ResourceManager : IVirqSink
{
    /// <summary>The RM's VMID.</summary>
    public const ushort Vmid = 0xFF;

    /// <summary>First VIRQ the RM hands out in a VM's VIC.</summary>
    public const uint FirstVirq = 960;

    /// <summary>First dynamically allocated VMID.</summary>
    public const ushort FirstDynamicVmid = 0x80;

    private readonly GunyahHypervisor _gunyah;
    private readonly Dictionary<ushort, RmLink> _links = [];
    private readonly Dictionary<VirqSource, RmLink> _bySource = [];
    private readonly Dictionary<ushort, RmVmRecord> _records = [];
    private readonly byte[] _packet = new byte[RmRpc.PacketSize];
    private readonly byte[] _reply = new byte[RmRpc.MaxPayload];
    private readonly Queue<(ushort Vmid, RmMessageId Id, byte[] Payload)> _notifications = new();
    private readonly Queue<RmLink> _deferred = new();
    private ushort _notificationSequence;
    private bool _serving;

    public ResourceManager(GunyahHypervisor gunyah, IGunyahVmHost? host, IReadOnlyList<GunyahImage> images)
    {
        ArgumentNullException.ThrowIfNull(gunyah);
        _gunyah = gunyah;
        Host = host;
        Images = images;
        Self = gunyah.AddVm(Vmid, "rm", memory: null, vcpus: []);
        gunyah.VmExited = OnVmExited;
    }

    /// <summary>The RM's own VM record: its cspace holds the master caps.</summary>
    public GunyahVm Self { get; }

    public IGunyahVmHost? Host { get; }

    /// <summary>Images VM_CONFIG_IMAGE can name (by index, in place of a memparcel handle).</summary>
    public IReadOnlyList<GunyahImage> Images { get; }

    /// <summary>The VM allowed to allocate VMs (the HLOS).</summary>
    public ushort Primary { get; private set; }

    public IReadOnlyDictionary<ushort, RmLink> Links => _links;

    public RmVmRecord? Record(ushort vmid) => _records.GetValueOrDefault(vmid);

    public RmLink? Link(ushort vmid) => _links.GetValueOrDefault(vmid);

    /// <summary>Registers the primary VM (running from boot, owned by the RM) and gives it an RPC link.</summary>
    public RmLink AddPrimary(GunyahVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        Primary = vm.Vmid;
        _records[vm.Vmid] = new RmVmRecord(vm.Vmid, Vmid) { State = RmVmState.Running, OsState = RmOsState.Run, Vm = vm };
        var link = Connect(vm);
        WriteBootInfo(link, Vmid);
        return link;
    }

    /// <summary>Creates an active message queue in the RM's cspace (the RM holds the master cap).</summary>
    public Msgqueue CreateMsgqueue(string name, ushort depth, ushort maxMsgSize)
    {
        var queue = new Msgqueue(name);
        var error = queue.Configure(new MsgqueueCreateInfo(depth, maxMsgSize));
        if (error != GunyahError.Ok)
        {
            throw new ArgumentException($"message queue {name}: depth {depth} and size {maxMsgSize} must be 1..255 and 1..1023", nameof(depth));
        }

        Activate(queue);
        return queue;
    }

    /// <summary>Creates an active doorbell in the RM's cspace.</summary>
    public Doorbell CreateDoorbell(string name)
    {
        var doorbell = new Doorbell(name);
        Activate(doorbell);
        return doorbell;
    }

    /// <summary>Copies a cap to <paramref name="target"/> into <paramref name="vm"/>'s cspace with <paramref name="rights"/>.</summary>
    public static CapId Grant(GunyahObject target, GunyahVm vm, uint rights)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(vm);
        var error = vm.Cspace.Add(target, rights, master: false, out var cap);
        return error == GunyahError.Ok ? cap.Id : throw new InvalidOperationException($"{vm}: {error.Name()}");
    }

    /// <summary>The next VIRQ number (from 960) with no source in <paramref name="vm"/>'s VIC; 0 when none is left.</summary>
    public static uint AllocateVirq(GunyahVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        for (var virq = FirstVirq; virq <= 1019; virq++)
        {
            if (vm.Vic.SourceOf(virq) is null)
            {
                return virq;
            }
        }

        return 0;
    }

    /// <summary>Binds an interrupt source into a VM's VIC at a fresh VIRQ (as the RM does, edge-triggered); returns it.</summary>
    public static uint BindNew(VirqSource source, GunyahVm vm, VirqTrigger trigger = VirqTrigger.Edge)
    {
        ArgumentNullException.ThrowIfNull(source);
        var virq = AllocateVirq(vm);
        source.Trigger = trigger;
        var error = virq == 0 ? GunyahError.NoResources : vm.Vic.Bind(source, new VirqInfo(virq, 0));
        return error == GunyahError.Ok ? virq : throw new InvalidOperationException($"{vm}: no VIRQ for {source.Name}: {error.Name()}");
    }

    /// <summary>Creates <paramref name="client"/>'s RPC link: the queue pair, its SEND and RECEIVE caps, its two VIRQs.</summary>
    public RmLink Connect(GunyahVm client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var toRm = CreateMsgqueue($"rm-{client.Name}.tx", RmRpc.QueueDepth, RmRpc.PacketSize);
        var fromRm = CreateMsgqueue($"rm-{client.Name}.rx", RmRpc.QueueDepth, RmRpc.PacketSize);
        var link = new RmLink(client, toRm, fromRm)
        {
            TxCap = Grant(toRm, client, (uint)MsgqueueRights.Send),
            RxCap = Grant(fromRm, client, (uint)MsgqueueRights.Receive),
        };
        link.TxVirq = BindNew(toRm.SendSource, client);
        link.RxVirq = BindNew(fromRm.ReceiveSource, client);
        Vic.BindInternal(toRm.ReceiveSource, this, 0);
        Vic.BindInternal(fromRm.SendSource, this, 0);
        _bySource[toRm.ReceiveSource] = link;
        _bySource[fromRm.SendSource] = link;
        _links[client.Vmid] = link;
        return link;
    }

    /// <summary>Writes the VM's <see cref="RmBootInfo"/> at the start of its RAM (what the DT overlay's rm-rpc node carries).</summary>
    private void WriteBootInfo(RmLink link, ushort owner)
    {
        if (link.Client.Memory is { } memory && Host is { } host)
        {
            Span<byte> block = stackalloc byte[RmBootInfo.Size];
            new RmBootInfo(link.Vmid, owner, link.TxCap, link.RxCap, link.TxVirq, link.RxVirq).Write(block);
            memory.TryWrite(host.RamBase(link.Client), block, out _);
        }
    }

    private void Activate(GunyahObject target)
    {
        target.OnActivate();
        target.State = GunyahObjectState.Active;
        Self.Cspace.Add(target, GunyahHypervisor.AllRights, master: true, out _);
    }

    /// <summary>A VIRQ of one of the RM's own queue ends: a client queued a packet, or made room for the RM's.</summary>
    public void Signal(VirqSource source, bool asserted)
    {
        if (!asserted || !_bySource.TryGetValue(source, out var link))
        {
            return;
        }

        if (ReferenceEquals(source, link.FromRm.SendSource))
        {
            FlushPending(link);
            return;
        }

        if (_serving)
        {
            // Already serving (this link's loop will see the packet; another link's waits its turn below).
            if (!_deferred.Contains(link))
            {
                _deferred.Enqueue(link);
            }

            return;
        }

        _serving = true;
        try
        {
            Drain(link);
            while (_deferred.TryDequeue(out var next))
            {
                Drain(next);
            }
        }
        finally
        {
            _serving = false;
        }

        SendNotifications();
    }

    private void Drain(RmLink link)
    {
        while (link.ToRm.Receive(_packet, out var size, out _) == GunyahError.Ok)
        {
            var result = link.Reassembler.Accept(_packet.AsSpan(0, size));
            if (result.IsDropped)
            {
                link.Dropped++;
                continue;
            }

            if (result.IsComplete && link.Reassembler.Header.Type == RmMessageType.Request)
            {
                var header = link.Reassembler.Header;
                var error = Serve(link, header.MessageId, link.Reassembler.Payload, _reply.AsSpan(RmErrors.ErrorWordSize), out var length);
                if (error != RmError.Ok)
                {
                    length = 0;
                }

                RmErrors.WriteReplyError(_reply, error);
                link.Requests++;
                Send(link, RmMessageType.Reply, header.MessageId, header.Sequence, _reply.AsSpan(0, RmErrors.ErrorWordSize + length));
            }
        }
    }

    /// <summary>Splits a message into packets on the client's receive queue; what does not fit waits for its TX VIRQ.</summary>
    private void Send(RmLink link, RmMessageType type, uint id, ushort sequence, ReadOnlySpan<byte> payload)
    {
        if (RmFragmenter.TryCreate(type, id, sequence, payload, out var fragmenter) != RmFragmentStatus.Ok)
        {
            return;
        }

        while (fragmenter.TryWriteNext(_packet, out var length))
        {
            var last = fragmenter.Remaining == 0;
            if (link.Pending.Count > 0 || link.FromRm.Send(_packet.AsSpan(0, length), push: last, out _) != GunyahError.Ok)
            {
                var copy = _packet.AsSpan(0, length).ToArray();
                link.Pending.Enqueue(copy);
            }
        }
    }

    private static void FlushPending(RmLink link)
    {
        while (link.Pending.TryPeek(out var packet) && link.FromRm.Send(packet, push: link.Pending.Count == 1, out _) == GunyahError.Ok)
        {
            link.Pending.Dequeue();
        }
    }

    /// <summary>Queues a notification; it is sent after the reply being built (or at once outside a request).</summary>
    private void Notify(ushort vmid, RmMessageId id, ReadOnlySpan<byte> payload)
    {
        if (_links.ContainsKey(vmid))
        {
            _notifications.Enqueue((vmid, id, payload.ToArray()));
        }

        if (!_serving)
        {
            SendNotifications();
        }
    }

    private void SendNotifications()
    {
        while (_notifications.TryDequeue(out var next))
        {
            if (_links.TryGetValue(next.Vmid, out var link))
            {
                Send(link, RmMessageType.Notification, (uint)next.Id, _notificationSequence++, next.Payload);
            }
        }
    }

    private static ushort U16(ReadOnlySpan<byte> payload, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(payload[offset..]);

    private static uint U32(ReadOnlySpan<byte> payload, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(payload[offset..]);
}
