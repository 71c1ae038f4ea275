using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

// Discovery: FFA_VERSION, FFA_FEATURES, FFA_ID_GET, FFA_SPM_ID_GET, FFA_PARTITION_INFO_GET, FFA_PARTITION_INFO_GET_REGS.
// Choices where implementations differ (each pinned by a test):
// - VERSION answers this manager's own version. A caller asking for a newer minor gets our version and is served at
//   ours (the spec's negotiation) unless the personality refuses it (Hafnium). Once locked, asking for another
//   version is NOT_SUPPORTED (Hafnium).
// - PARTITION_INFO_GET lists one descriptor per (partition, UUID); a partition without UUIDs appears once with the Nil
//   UUID. The caller's own entry is listed for v1.2 callers, and for older ones only where the personality says so
//   (Linux before its v1.2 support rejected its own entry; Xen lists it for v1.2 guests only).
// - Count-only calls return the descriptor size in w3 too, and leave the RX buffer alone.
// - PARTITION_INFO_GET_REGS has no information tags: a non-zero tag is RETRY (Hafnium); on the first call (start
//   index 0) the personality may say INVALID_PARAMETERS instead (Xen).
public abstract partial class PartitionManager
{
    /// <summary>The partitions this caller may discover, in the order they are listed (role-specific).</summary>
    protected abstract IEnumerable<PartitionInfo> DiscoverablePartitions(in FfaCaller caller);

    /// <summary>The interrupt ID behind a FEATURES feature query (NPI, SRI, MEI) for this caller, or null if none.</summary>
    protected virtual uint? FeatureInterruptId(FfaFeature feature, in FfaCaller caller) => null;

    /// <summary>FFA_SPM_ID_GET's answer, or null where there is no SPMC to name.</summary>
    protected abstract EndpointId? SpmcId { get; }

    private void RegisterDiscovery()
    {
        Register(FfaFunction.Version, HandleVersion);
        Register(FfaFunction.Features, HandleFeatures);
        Register(FfaFunction.IdGet, HandleIdGet);
        Register(FfaFunction.SpmIdGet, HandleSpmIdGet);
        Register(FfaFunction.PartitionInfoGet, HandlePartitionInfoGet);
        Register(FfaFunction.PartitionInfoGetRegs, HandlePartitionInfoGetRegs);
    }

    private CallOutcome HandleVersion(in FfaCaller caller, ref RegisterFrame frame)
    {
        var endpoint = caller.Endpoint;
        if (!VersionCall.TryDecode(frame, out var call, out _)
            || call.Requested.Major != Implemented.Major
            || (endpoint.VersionLocked && call.Requested != endpoint.Version)
            || (call.Requested.Minor > Implemented.Minor && Personality.RejectNewerMinorVersion))
        {
            new VersionReturn(null).Encode(ref frame);
            return CallOutcome.Completed;
        }

        endpoint.Version = call.Requested < Implemented ? call.Requested : Implemented;
        endpoint.VersionCalled = true;
        new VersionReturn(Implemented).Encode(ref frame);
        return CallOutcome.Completed;
    }

    private CallOutcome HandleFeatures(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!Features.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        if (call.Query.IsFeature)
        {
            return FeatureInterruptId(call.Query.Feature, caller) is { } intid
                ? Succeed(ref frame, intid)
                : Fail(ref frame, FfaError.NotSupported);
        }

        if (!FfaFunctions.TryClassify(call.Query.Value, out var info, out var is64)
            || !Serves(info.Function, is64, caller)
            || caller.Version < info.Introduced)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        return Succeed(ref frame, FunctionProperties(info.Function, caller));
    }

    /// <summary>FEATURES' w2 for a function: RXTX_MAP's minimum size and alignment (4 KiB) and, from v1.2, its maximum.</summary>
    protected virtual uint FunctionProperties(FfaFunction function, in FfaCaller caller) => function switch
    {
        FfaFunction.RxTxMap when caller.Version >= FfaVersion.V1_2 => MaxRxTxPages << 16,

        // Bit 0: the descriptor may be in a buffer of the caller's own (a dynamic buffer).
        FfaFunction.MemShare or FfaFunction.MemLend or FfaFunction.MemDonate when Personality.ErrorForCallerBuffer is null => 1,
        _ => 0,
    };

    private CallOutcome HandleIdGet(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!IdGet.TryDecode(frame, out _, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        new IdGetSuccess(false, caller.Id).Encode(ref frame);
        return CallOutcome.Completed;
    }

    private CallOutcome HandleSpmIdGet(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!SpmIdGet.TryDecode(frame, out _, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (SpmcId is not { } id)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        new IdGetSuccess(false, id).Encode(ref frame);
        return CallOutcome.Completed;
    }

    private CallOutcome HandlePartitionInfoGet(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!PartitionInfoGet.TryDecode(frame, out var call, out _)
            || (call.Flags != PartitionInfoGetFlags.None && caller.Version < FfaVersion.V1_1))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var entries = Matching(caller, call.Uuid);
        if (entries.Count == 0 && !call.Uuid.IsNil)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var size = PartitionInfoDescriptors.SizeFor(caller.Version);
        var reportedSize = caller.Version >= FfaVersion.V1_1 ? (uint)size : 0;
        if ((call.Flags & PartitionInfoGetFlags.CountOnly) != 0)
        {
            return Succeed(ref frame, (uint)entries.Count, reportedSize);
        }

        var mailbox = caller.Endpoint.Mailbox;
        var length = PartitionInfoDescriptors.RequiredLength(entries.Count, caller.Version);
        if (mailbox.RxFree && length > mailbox.Size)
        {
            return Fail(ref frame, FfaError.NoMemory);
        }

        if (!mailbox.RxFree || !AcquireForWrite(caller.Endpoint))
        {
            return Fail(ref frame, FfaError.Busy);
        }

        var bytes = new byte[length];
        PartitionInfoDescriptors.TryWrite(entries.ToArray(), caller.Version, bytes, out _);
        if (!TryFillRx(caller.Endpoint, bytes))
        {
            return Fail(ref frame, FfaError.Aborted);
        }

        return Succeed(ref frame, (uint)entries.Count, reportedSize);
    }

    private CallOutcome HandlePartitionInfoGetRegs(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!PartitionInfoGetRegs.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var entries = Matching(caller, call.Uuid);
        if (entries.Count == 0 && !call.Uuid.IsNil)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (call.Tag != 0)
        {
            // No tags here: a non-zero tag is stale. On the first call Xen calls it a bad parameter instead.
            return Fail(ref frame, call.StartIndex == 0 ? Personality.RegsTagOnFirstCall : FfaError.Retry);
        }

        if (call.StartIndex >= entries.Count)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var writer = default(PartitionInfoRegsWriter);
        var index = (int)call.StartIndex;
        while (index < entries.Count)
        {
            var info = entries[index];
            if (!writer.TryAdd(new PartitionInfoRegsEntry(info.Id, info.ExecutionContextCount, (uint)info.Properties, info.Uuid)))
            {
                break;
            }

            index++;
        }

        new PartitionInfoGetRegsSuccess(
            (ushort)(entries.Count - 1),
            (ushort)(index - 1),
            0,
            PartitionInfoRegsEntry.DescriptorSize,
            writer.ToDescriptors()).Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>The entries this caller sees for a UUID (Nil: all), with properties cut to what its version defines.</summary>
    private List<PartitionInfo> Matching(in FfaCaller caller, Uuid uuid)
    {
        var defined = PartitionPropertiesExtensions.DefinedFor(caller.Version);
        var listSelf = caller.Version >= FfaVersion.V1_2 || Personality.ListSelfBeforeV12;
        var result = new List<PartitionInfo>();
        foreach (var entry in DiscoverablePartitions(caller))
        {
            if ((!uuid.IsNil && entry.Uuid != uuid) || (!listSelf && entry.Id == caller.Id))
            {
                continue;
            }

            result.Add(entry with { Properties = entry.Properties & defined });
        }

        return result;
    }

    /// <summary>
    /// Writes a message or descriptors into an endpoint's RX buffer (zeroing the rest, so nothing stale leaks) and
    /// hands the buffer to the endpoint. False if the buffer's memory faulted (the endpoint unmapped it under us).
    /// </summary>
    protected static bool TryFillRx(FfaEndpoint endpoint, ReadOnlySpan<byte> bytes)
    {
        var mailbox = endpoint.Mailbox;
        var space = mailbox.Space!;
        var padded = new byte[mailbox.Size];
        bytes.CopyTo(padded);
        if (!space.TryWrite(mailbox.RxAddress, padded, Stage2Access.Read, out _))
        {
            return false;
        }

        mailbox.RxOwner = RxOwner.Endpoint;
        return true;
    }
}

/// <summary>How a partition appears in discovery.</summary>
public static class PartitionInfos
{
    /// <summary>One descriptor per UUID of the partition, or one with the Nil UUID if it has none.</summary>
    public static IEnumerable<PartitionInfo> For(PartitionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var contexts = (ushort)config.VcpuCount;
        if (config.Uuids.Count == 0)
        {
            return [new PartitionInfo(config.Id, contexts, config.Properties, Uuid.Nil)];
        }

        return config.Uuids.Select(uuid => new PartitionInfo(config.Id, contexts, config.Properties, uuid));
    }
}
