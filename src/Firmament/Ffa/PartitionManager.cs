using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>
/// The FF-A core both partition managers share: one dispatcher over the function table, the version rule, the
/// per-endpoint records, and a handler per ABI. The handlers live in one file per ABI area (Discovery, RxTx,
/// DirectMessaging, IndirectMessaging, CpuCycles); the roles (<see cref="Spmc"/>, <see cref="Hypervisor"/>) say which
/// endpoints are theirs, what they forward, and what they offer to whom.
/// Every handler validates first and acts after: a call that gets an error has changed nothing.
/// </summary>
public abstract partial class PartitionManager : ICallHandler
{
    private const int FunctionCount = FfaFunctions.Last - FfaFunctions.First + 1;

    private readonly Handler?[] _handlers = new Handler?[FunctionCount];
    private readonly long[] _callsByFunction = new long[FunctionCount];
    private readonly long[] _errorsByCode = new long[11];

    /// <summary>The personality's withheld functions, by (function number − 0x60) × 2 + (1 for SMC64).</summary>
    private readonly bool[] _withheld = new bool[FunctionCount * 2];

    /// <param name="scheduler">The machine's scheduler.</param>
    /// <param name="memory">Physical memory.</param>
    /// <param name="personality">The platform's personality; this manager answers as it where it describes <paramref name="role"/>, else as the default.</param>
    /// <param name="role">Which manager this is.</param>
    protected PartitionManager(Scheduler scheduler, PhysicalMemory memory, Personality personality, PersonalityRoles role)
    {
        ArgumentNullException.ThrowIfNull(personality);
        Scheduler = scheduler;
        Memory = memory;
        Personality = personality.For(role);
        foreach (var withheld in Personality.Withheld)
        {
            var index = (int)withheld.Function - FfaFunctions.First;
            _withheld[index * 2] |= withheld.Covers(withheld.Function, is64: false);
            _withheld[(index * 2) + 1] |= withheld.Covers(withheld.Function, is64: true);
        }

        RegisterDiscovery();
        RegisterRxTx();
        RegisterDirectMessaging();
        RegisterIndirectMessaging();
        RegisterCpuCycles();
        RegisterNotifications();
        RegisterMemorySharing();
        RegisterMemoryPermissions();
        RegisterConsole();
    }

    /// <summary>A handler for one ABI: the caller, and the frame it passed (which the handler turns into the return).</summary>
    protected delegate CallOutcome Handler(in FfaCaller caller, ref RegisterFrame frame);

    public Scheduler Scheduler { get; }

    public PhysicalMemory Memory { get; }

    /// <summary>How this manager answers where implementations differ (the platform's personality for this role, or the default).</summary>
    public Personality Personality { get; }

    /// <summary>The version this manager implements.</summary>
    public static FfaVersion Implemented => FfaVersion.V1_2;

    /// <summary>This manager's own endpoint ID (the SPMC's 0x8000, the hypervisor's 0).</summary>
    public abstract EndpointId OwnId { get; }

    /// <summary>"SPMC" or "hypervisor", for traces and messages.</summary>
    public abstract string RoleName { get; }

    /// <summary>Endpoints this manager serves, by ID.</summary>
    protected Dictionary<EndpointId, FfaEndpoint> Endpoints { get; } = [];

    /// <summary>The partitions this manager owns, in creation order.</summary>
    public List<Partition> Partitions { get; } = [];

    /// <summary>Calls handled, by function number − 0x60.</summary>
    public ReadOnlySpan<long> CallsByFunction => _callsByFunction;

    /// <summary>Errors returned, by −code (index 1 = NOT_SUPPORTED … 10 = NOT_READY).</summary>
    public ReadOnlySpan<long> ErrorsByCode => _errorsByCode;

    /// <summary>The record of an endpoint this manager serves, if any.</summary>
    public FfaEndpoint? Endpoint(EndpointId id) => Endpoints.GetValueOrDefault(id);

    /// <summary>The record of one of this manager's own partitions, if the ID is one.</summary>
    public Partition? LocalPartition(EndpointId id) => Endpoints.TryGetValue(id, out var ep) ? ep.Partition : null;

    /// <summary>Adds a partition of this manager's world with its memory; its vCPUs are attached with <see cref="AttachVcpu"/>.</summary>
    public Partition AddPartition(PartitionConfig config, AddressSpace memory)
    {
        ArgumentNullException.ThrowIfNull(config);
        var partition = new Partition(config, memory);
        Partitions.Add(partition);
        Endpoints.Add(config.Id, new FfaEndpoint(config.Id, partition, config.Version));
        if (ReceivesNotifications(config))
        {
            AddReceiver(config.Id, config.VcpuCount);
        }

        return partition;
    }

    /// <summary>Whether a partition of this manager's world can receive notifications (SPs: their manifest says so).</summary>
    protected virtual bool ReceivesNotifications(PartitionConfig config) => config.Has(PartitionProperties.ReceivesNotifications);

    /// <summary>Makes <paramref name="vcpu"/> one of <paramref name="partition"/>'s vCPUs, served by this manager.</summary>
    public void AttachVcpu(Partition partition, Vcpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(vcpu);
        vcpu.Owner = new FfaVcpu(vcpu, Endpoints[partition.Id]);
        vcpu.Handler = this;
        partition.Vcpus.Add(vcpu);
    }

    CallOutcome ICallHandler.Call(Vcpu caller, ref RegisterFrame frame) => HandleOwnVcpuCall((FfaVcpu)caller.Owner!, ref frame);

    /// <summary>A call from one of this manager's own partitions' vCPUs.</summary>
    protected virtual CallOutcome HandleOwnVcpuCall(FfaVcpu self, ref RegisterFrame frame) =>
        Dispatch(new FfaCaller(self.Endpoint, self.Vcpu, self, false), ref frame);

    void ICallHandler.OnStopped(Vcpu vcpu, string? fault)
    {
        var self = (FfaVcpu)vcpu.Owner!;
        if (fault is null)
        {
            Scheduler.Stop(vcpu, VcpuState.Off);
            return;
        }

        Abort(self, fault);
    }

    /// <summary>Registers the handler for one function (both conventions: the typed decoders tell them apart).</summary>
    protected void Register(FfaFunction function, Handler handler) => _handlers[(int)function - FfaFunctions.First] = handler;

    /// <summary>Whether this manager offers a function to this caller (FEATURES says so, and the call is served).</summary>
    protected virtual bool Offers(FfaFunction function, bool is64, in FfaCaller caller) => true;

    /// <summary>
    /// Whether a function is served to this caller: registered, not withheld by the personality, and offered by the
    /// role. The dispatcher and FEATURES both ask this, so they agree by construction.
    /// </summary>
    protected bool Serves(FfaFunction function, bool is64, in FfaCaller caller)
    {
        var index = (int)function - FfaFunctions.First;
        return _handlers[index] is not null && !_withheld[(index * 2) + (is64 ? 1 : 0)] && Offers(function, is64, caller)
            && (function is not (FfaFunction.MemPermGet or FfaFunction.MemPermSet) || IsSEl0(caller));
    }

    /// <summary>A call whose w0 is not an FF-A function this table defines (the hypervisor also serves Gunyah calls).</summary>
    protected virtual CallOutcome UnknownFunction(in FfaCaller caller, ref RegisterFrame frame) => Fail(ref frame, FfaError.NotSupported);

    /// <summary>
    /// Routes one call: checks the ID; refuses anything but VERSION before VERSION where the personality wants it
    /// (before anything else, as Xen and pKVM do); refuses what this manager does not serve to this caller; then the
    /// caller's version (it locks at the first other call the endpoint makes itself; no ABI newer than the negotiated
    /// version; unused x8..x17 zero for v1.2 SMC64 calls); then runs the ABI's handler.
    /// </summary>
    protected CallOutcome Dispatch(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!FfaFunctions.TryClassify(frame.W(0), out var info, out var is64))
        {
            return info is null ? UnknownFunction(caller, ref frame) : Fail(ref frame, FfaError.NotSupported);
        }

        var index = (int)info.Function - FfaFunctions.First;
        _callsByFunction[index]++;
        var endpoint = caller.Endpoint;
        if (info.Function != FfaFunction.Version && !endpoint.VersionCalled && Personality.ErrorBeforeVersion is { } beforeVersion)
        {
            return Fail(ref frame, beforeVersion);
        }

        // Any FF-A call other than VERSION (and the INTERRUPT only managers issue) makes the version final, served or
        // not, as Hafnium does.
        if (info.Function is not (FfaFunction.Version or FfaFunction.Interrupt))
        {
            endpoint.VersionLocked = true;
        }

        if (!Serves(info.Function, is64, caller))
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        if (info.Function != FfaFunction.Version)
        {
            if (endpoint.Version < info.Introduced)
            {
                return Fail(ref frame, FfaError.NotSupported);
            }

            if (is64 && endpoint.Version >= FfaVersion.V1_2 && !FfaFrames.UnusedUpperRegistersAreZero(frame, FirstUnusedRegister(info.Function)))
            {
                return Fail(ref frame, FfaError.InvalidParameters);
            }
        }

        return _handlers[index]!(caller, ref frame);
    }

    /// <summary>Writes FFA_ERROR with <paramref name="error"/> as the return; the call completes.</summary>
    protected CallOutcome Fail(ref RegisterFrame frame, FfaError error)
    {
        _errorsByCode[-(int)error]++;
        new ErrorReturn(error).Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>Writes FFA_SUCCESS_32 with w2/w3 (and zero elsewhere); the call completes.</summary>
    protected static CallOutcome Succeed(ref RegisterFrame frame, uint w2 = 0, uint w3 = 0)
    {
        new SuccessReturn(false, default, w2, w3, 0, 0, 0, 0).Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>
    /// Aborts one of this manager's partitions from outside (fault injection): as if its code had faulted now. False if
    /// it is not one of this manager's, or has no vCPU, or is aborted already.
    /// </summary>
    public bool AbortPartition(EndpointId id, string reason)
    {
        if (LocalPartition(id) is not { Vcpus.Count: > 0 } partition || partition.IsAborted)
        {
            return false;
        }

        Abort((FfaVcpu)partition.Vcpus[0].Owner!, reason);
        return true;
    }

    /// <summary>Contains a faulting partition: aborted for good, its callers answered, everything else runs on.</summary>
    protected virtual void Abort(FfaVcpu vcpu, string reason)
    {
        var partition = vcpu.Endpoint.Partition!;
        partition.AbortReason ??= reason;
        if (Scheduler.Trace.Enabled)
        {
            var pcpu = vcpu.Vcpu.Pcpu;
            Scheduler.Trace.Record(pcpu?.Time ?? Scheduler.Now, pcpu?.Index ?? -1, vcpu.Vcpu.Id, TraceKind.Fault, text: $"{partition.Name}: {reason}");
        }

        foreach (var v in partition.Vcpus)
        {
            var record = (FfaVcpu)v.Owner!;
            var owed = record.Occupation;
            var pcpu = v.Pcpu;
            var returnTo = record.ReturnTo;
            var otherWorld = record.ReturnToOtherWorld;
            record.Settle();
            Scheduler.Stop(v, VcpuState.Aborted);
            if (owed is Occupation.DirectRequest or Occupation.Run && returnTo is not null && pcpu is not null)
            {
                var answer = default(RegisterFrame);
                new ErrorReturn(FfaError.Aborted).Encode(ref answer);
                GiveBack(pcpu, returnTo, otherWorld, answer);
            }
        }
    }

    /// <summary>
    /// Gives pCPU <paramref name="pcpu"/> back to <paramref name="vcpu"/> with <paramref name="answer"/>: directly
    /// when it is in this world, through the other world's return path when the call came from there.
    /// </summary>
    protected void GiveBack(Pcpu pcpu, Vcpu vcpu, bool otherWorld, in RegisterFrame answer)
    {
        if (otherWorld)
        {
            ReturnToOtherWorld(vcpu, pcpu, answer);
        }
        else
        {
            Scheduler.SwitchTo(pcpu, vcpu, answer);
        }
    }

    /// <summary>Returns to the other world's vCPU that entered this one on <paramref name="pcpu"/> (the SPMC's way back to the normal world).</summary>
    protected virtual void ReturnToOtherWorld(Vcpu vcpu, Pcpu pcpu, in RegisterFrame answer) =>
        throw new InvalidOperationException($"{RoleName} has no other world to return to");

    private static int FirstUnusedRegister(FfaFunction function) => function switch
    {
        FfaFunction.MsgSendDirectReq2 or FfaFunction.MsgSendDirectResp2 or FfaFunction.PartitionInfoGetRegs or FfaFunction.ConsoleLog => RegisterFrame.Count,
        _ => 8,
    };
}
