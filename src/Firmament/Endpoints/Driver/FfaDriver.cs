using System.Runtime.CompilerServices;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Endpoints.Driver;

/// <summary>
/// The endpoint-side FF-A driver, shaped like Linux's <c>arm_ffa</c>: it negotiates the version, learns its own ID,
/// maps its RX/TX buffers, discovers the partitions and makes a device per partition UUID, matches client drivers to
/// devices, and offers ops grouped by purpose — <see cref="Info"/>, <see cref="Messaging"/>, <see cref="Cpu"/>,
/// <see cref="Memory"/>, <see cref="Notify"/> — over
/// one conduit. It sees nothing but the conduit and its own memory.
/// </summary>
public sealed class FfaDriver
{
    private readonly List<FfaDevice> _devices = [];
    private readonly List<IFfaClientDriver> _clients = [];

    private FfaDriver(EndpointContext context, FfaVersion version, EndpointId id)
    {
        Context = context;
        Version = version;
        Id = id;
        Info = new InfoOps(this);
        Messaging = new MsgOps(this);
        Cpu = new CpuOps(this);
        Notify = new NotifyOps(this);
        Memory = new MemOps(this);
    }

    /// <summary>The driver's own version: what it asks for.</summary>
    public static FfaVersion DriverVersion => FfaVersion.V1_2;

    public EndpointContext Context { get; }

    /// <summary>The negotiated version: the lower of the driver's and the partition manager's.</summary>
    public FfaVersion Version { get; }

    /// <summary>This endpoint's own ID (FFA_ID_GET).</summary>
    public EndpointId Id { get; }

    public IReadOnlyList<FfaDevice> Devices => _devices;

    public InfoOps Info { get; }

    public MsgOps Messaging { get; }

    public CpuOps Cpu { get; }

    public NotifyOps Notify { get; }
    /// <summary>Memory sharing: share, lend, donate, retrieve, relinquish, reclaim (MemOps.cs).</summary>
    public MemOps Memory { get; }

    internal IConduit Conduit => Context.Conduit;

    /// <summary>
    /// Probes FF-A: VERSION, ID_GET, RXTX_MAP of the endpoint's buffers, PARTITION_INFO_GET, then notifications
    /// (FEATURES decides: its own bitmap when it is the physical endpoint, the SRI handler when it schedules, the NPI
    /// handler when it is virtual; <paramref name="cpus"/> is the vCPU count its own bitmap is created for). Fails
    /// (with the status) when the partition manager does not speak a compatible version or refuses the buffers.
    /// </summary>
    public static async ValueTask<(FfaStatus Status, FfaDriver? Driver)> ProbeAsync(EndpointContext context, FfaVersion? ask = null, int cpus = 1)
    {
        ArgumentNullException.ThrowIfNull(context);
        var wanted = ask ?? DriverVersion;
        var frame = default(RegisterFrame);
        new VersionCall(wanted).Encode(ref frame);
        frame = await context.CallAsync(frame);
        if (!VersionReturn.TryDecode(frame, out var answer, out _) || answer.Version is not { } firmware || firmware.Major != wanted.Major)
        {
            return (new FfaStatus(FfaError.NotSupported), null);
        }

        var version = firmware < wanted ? firmware : wanted;
        if (version != wanted)
        {
            // The partition manager is older: ask again for its version so it formats data for it.
            new VersionCall(version).Encode(ref frame);
            await context.CallAsync(frame);
        }

        new IdGet().Encode(ref frame);
        frame = await context.CallAsync(frame);
        if (!IdGetSuccess.TryDecode(frame, out var id, out _))
        {
            return (FfaStatus.Of(frame), null);
        }

        var driver = new FfaDriver(context, version, id.Id);
        var buffers = context.Buffers;
        new RxTxMap(true, buffers.Tx, buffers.Rx, buffers.Pages).Encode(ref frame);
        frame = await context.CallAsync(frame);
        var mapped = FfaStatus.Of(frame);
        if (!mapped.IsOk)
        {
            return (mapped, null);
        }

        var (found, partitions) = await driver.Info.PartitionInfoGetAsync(Uuid.Nil);
        if (!found.IsOk)
        {
            return (found, null);
        }

        foreach (var info in partitions)
        {
            if (info.Id != driver.Id)
            {
                driver._devices.Add(new FfaDevice(info));
            }
        }

        if (version >= FfaVersion.V1_1)
        {
            await driver.Notify.SetupAsync(cpus);
        }

        return (FfaStatus.Ok, driver);
    }

    /// <summary>Registers a client driver and probes it against every unbound device with one of its UUIDs.</summary>
    public int Register(IFfaClientDriver client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _clients.Add(client);
        var bound = 0;
        foreach (var device in _devices)
        {
            if (device.Driver is null && client.Uuids.Contains(device.Uuid) && client.Probe(device))
            {
                device.Driver = client;
                bound++;
            }
        }

        return bound;
    }

    /// <summary>The device for a partition ID (its first UUID), if discovered.</summary>
    public FfaDevice? Device(EndpointId id) => _devices.FirstOrDefault(d => d.Id == id);

    /// <summary>Discovery: partition information (the RX buffer is read and released).</summary>
    public sealed class InfoOps
    {
        private readonly FfaDriver _driver;

        internal InfoOps(FfaDriver driver) => _driver = driver;

        public async ValueTask<(FfaStatus Status, IReadOnlyList<PartitionInfo> Partitions)> PartitionInfoGetAsync(Uuid uuid)
        {
            var frame = default(RegisterFrame);
            new PartitionInfoGet(uuid, PartitionInfoGetFlags.None).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            var status = FfaStatus.Of(frame);
            if (!status.IsOk)
            {
                return (status, []);
            }

            var count = frame.W(2);
            var size = _driver.Version >= FfaVersion.V1_1 ? frame.W(3) : (uint)PartitionInfoDescriptors.SizeV1_0;
            var buffers = _driver.Context.Buffers;
            var bytes = new byte[(int)Math.Min(count * size, buffers.Pages * 4096UL)];
            _driver.Context.Memory.TryRead(buffers.Rx, bytes, out _);
            var result = new List<PartitionInfo>();
            if (PartitionInfoDescriptors.TryRead(bytes, count, size, out var list, out _))
            {
                foreach (var info in list)
                {
                    result.Add(info);
                }
            }

            new RxRelease(EndpointId.Hypervisor).Encode(ref frame);
            await _driver.Conduit.CallAsync(frame);
            return (FfaStatus.Ok, result);
        }

        /// <summary>How many partitions match, without touching the RX buffer (v1.1+).</summary>
        public async ValueTask<(FfaStatus Status, uint Count)> PartitionCountAsync(Uuid uuid)
        {
            var frame = default(RegisterFrame);
            new PartitionInfoGet(uuid, PartitionInfoGetFlags.CountOnly).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            var status = FfaStatus.Of(frame);
            return (status, status.IsOk ? frame.W(2) : 0);
        }
    }

    /// <summary>Messaging: synchronous-looking direct requests (v1.0 and REQ2) and indirect messages.</summary>
    public sealed class MsgOps
    {
        private readonly FfaDriver _driver;

        internal MsgOps(FfaDriver driver) => _driver = driver;

        /// <summary>
        /// Sends a direct request and waits for the response, running the receiver again with FFA_RUN whenever it
        /// was preempted (FFA_INTERRUPT) or yielded (FFA_YIELD), as Linux does.
        /// </summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<DirectResponse> SyncSendReceiveAsync(FfaDevice device, DirectMessagePayload payload)
        {
            ArgumentNullException.ThrowIfNull(device);
            var frame = default(RegisterFrame);
            new MsgSendDirectReq(device.Is64, new SenderReceiver(_driver.Id, device.Id), DirectMessageKind.Partition, payload).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            frame = await _driver.Cpu.RunUntilAnsweredAsync(frame);
            return new DirectResponse(FfaStatus.Of(frame), frame);
        }

        /// <summary>DIRECT_REQ2 to a service UUID of the device's partition (v1.2): fourteen payload registers each way.</summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        public async ValueTask<DirectResponse> SyncSendReceive2Async(FfaDevice device, Uuid service, DirectMessage2Payload payload)
        {
            ArgumentNullException.ThrowIfNull(device);
            var frame = default(RegisterFrame);
            new MsgSendDirectReq2(new SenderReceiver(_driver.Id, device.Id), service, payload).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            frame = await _driver.Cpu.RunUntilAnsweredAsync(frame);
            return new DirectResponse(FfaStatus.Of(frame), frame);
        }

        /// <summary>An indirect message (FFA_MSG_SEND2): the header and payload go into the TX buffer first.</summary>
        public async ValueTask<FfaStatus> IndirectSendAsync(EndpointId receiver, ReadOnlyMemory<byte> payload, Uuid service = default)
        {
            var header = IndirectMessageHeader.For(_driver.Version, _driver.Id, receiver, (uint)payload.Length, service);
            var size = IndirectMessageHeader.SizeFor(_driver.Version);
            var message = new byte[size + payload.Length];
            header.TryWrite(message, _driver.Version, out _);
            payload.Span.CopyTo(message.AsSpan(size));
            if (!_driver.Context.Memory.TryWrite(_driver.Context.Buffers.Tx, message, out _))
            {
                return new FfaStatus(FfaError.NoMemory);
            }

            var frame = default(RegisterFrame);
            new MsgSend2(EndpointId.Hypervisor, MsgSend2Flags.None).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            return FfaStatus.Of(frame);
        }

        /// <summary>Reads the indirect message in the RX buffer (header in this driver's layout) and releases the buffer.</summary>
        public async ValueTask<(FfaStatus Status, EndpointId Sender, byte[] Payload)> ReceiveIndirectAsync()
        {
            var buffers = _driver.Context.Buffers;
            var bytes = new byte[buffers.Pages * 4096];
            _driver.Context.Memory.TryRead(buffers.Rx, bytes, out _);
            if (!IndirectMessageHeader.TryRead(bytes, _driver.Version, out var header, out _))
            {
                return (new FfaStatus(FfaError.NoData), default, []);
            }

            var payload = header.Payload(bytes).ToArray();
            var frame = default(RegisterFrame);
            if (_driver.Notify.Enabled)
            {
                // The RX-full framework notification goes before the buffer is released (or the release is DENIED).
                var framework = _driver.Id == EndpointId.Hypervisor
                    ? NotificationGetFlags.SpmFrameworkBitmap
                    : NotificationGetFlags.SpmFrameworkBitmap | NotificationGetFlags.HypervisorFrameworkBitmap;
                new NotificationGet(_driver.Context.Vcpu.Index, _driver.Id, framework).Encode(ref frame);
                await _driver.Conduit.CallAsync(frame);
            }

            new RxRelease(EndpointId.Hypervisor).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            return (FfaStatus.Of(frame), header.Sender, payload);
        }
    }

    /// <summary>CPU cycles: FFA_RUN, and the loop that keeps a preempted or yielding receiver running.</summary>
    public sealed class CpuOps
    {
        private readonly FfaDriver _driver;

        internal CpuOps(FfaDriver driver) => _driver = driver;

        /// <summary>FFA_RUN on a partition's vCPU, looping while it is preempted; returns what ended the run.</summary>
        public async ValueTask<RegisterFrame> RunAsync(EndpointId partition, ushort vcpu)
        {
            var frame = default(RegisterFrame);
            new Run(new TargetInfo(partition, vcpu)).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            return await RunUntilAnsweredAsync(frame);
        }

        /// <summary>
        /// When a wait (MSG_WAIT) was woken with FFA_INTERRUPT for an interrupt this endpoint handles, runs its handler
        /// and ends the interrupt; false when <paramref name="frame"/> is something else (a message to serve).
        /// </summary>
        public async ValueTask<bool> TakeInterruptAsync(RegisterFrame frame)
        {
            if (frame.W(0) != FfaFunctions.Id32(FfaFunction.Interrupt) || _driver.Context.Interrupts is not { } interrupts)
            {
                return false;
            }

            var intid = (int)frame.W(2);
            if (interrupts.HandlerOf(intid) is { } handler)
            {
                await handler(intid);
            }

            interrupts.EndOfInterrupt(intid);
            return true;
        }

        /// <summary>While <paramref name="frame"/> is FFA_INTERRUPT or FFA_YIELD, FFA_RUN the vCPU it names; returns the first other answer.</summary>
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        internal async ValueTask<RegisterFrame> RunUntilAnsweredAsync(RegisterFrame frame)
        {
            while (frame.W(0) == FfaFunctions.Id32(FfaFunction.Interrupt) || frame.W(0) == FfaFunctions.Id32(FfaFunction.Yield))
            {
                var target = TargetInfo.Unpack(frame.W(1));
                new Run(target).Encode(ref frame);
                frame = await _driver.Conduit.CallAsync(frame);
            }

            return frame;
        }
    }
}
