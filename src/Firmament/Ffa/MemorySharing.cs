using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Machine;

namespace Firmament.Ffa;

// Memory sharing: FFA_MEM_SHARE, FFA_MEM_LEND, FFA_MEM_DONATE (32/64), FFA_MEM_RETRIEVE_REQ (32/64) answered with
// FFA_MEM_RETRIEVE_RESP, FFA_MEM_RELINQUISH, FFA_MEM_RECLAIM, FFA_MEM_FRAG_TX and FFA_MEM_FRAG_RX (both directions).
// Pages are real: every page has an owner in the machine's PageOwnership ledger, which changes the stage-2 maps.
// Rules (reference §10; Hafnium's ffa_memory.c where the reference is silent), every check an early return, state
// changed only once all have passed:
// - Send: w1 total, w2 fragment (0 < fragment ≤ total), w3/w4 the descriptor's buffer (0/0: the TX buffer, which must
//   be mapped, else INVALID_PARAMETERS as Hafnium; a caller buffer must be aligned, 1+ pages, readable by the caller
//   (DENIED otherwise), or the personality refuses it). The descriptor is read in the caller's negotiated layout;
//   any codec fault is INVALID_PARAMETERS. handle ≠ 0, a composite per EMAD that differs, the zero flag on SHARE, the
//   time-slice flag (unsupported, as in Hafnium), a receiver that is the sender, twice, or unknown, instruction
//   access specified, data access unspecified for SHARE/LEND or specified for DONATE, DONATE to several borrowers, a
//   reserved memory type, a type given for DONATE or single-borrower LEND, no constituent or one of zero pages, and
//   overlapping constituents are INVALID_PARAMETERS. A sender that is not the caller, memory the caller does not own
//   exclusively (or cannot reach), and SHARE / multi-borrower LEND attributes other than normal write-back inner
//   shareable or device nGnRnE are DENIED.
// - Fragments: a send whose first fragment is short answers FRAG_RX(handle, bytes so far); each FRAG_TX adds whole
//   16-byte constituents from the same buffer; the last one validates and commits the whole. Until then the handle
//   cannot be retrieved (DENIED) or reclaimed (INVALID_PARAMETERS). A bad fragment discards the pending transaction.
//   A retrieve response longer than the borrower's RX buffer comes in RX-sized pieces: the borrower releases RX and
//   asks FRAG_RX(handle, bytes received); the manager answers FRAG_TX(handle, length) with the next piece in RX.
// - Retrieve: the request (in the borrower's layout, one fragment) names the transaction by handle (unknown:
//   INVALID_PARAMETERS; still being sent: DENIED), its sender (else DENIED) and tag (else INVALID_PARAMETERS); its
//   borrower list must match the send unless the v1.2 bypass flag is set with one EMAD (INVALID_PARAMETERS); the
//   caller must be one of them and, in v1.2, give the same implementation-defined value (INVALID_PARAMETERS); a
//   non-zero transaction type must match (INVALID_PARAMETERS). Permissions may only narrow (an RO share retrieved RW
//   is DENIED; executable on SHARE is DENIED); attributes may only be made stricter (device over normal,
//   non-cacheable over write-back; else DENIED); zeroing on SHARE is INVALID_PARAMETERS, zeroing the sender did not
//   allow or zeroing read-only memory DENIED; a second retrieve before relinquish DENIED; no free RX buffer BUSY; no
//   room in the borrower's map NO_MEMORY. The borrower maps the pages at IPA = PA (as Hafnium does) and the response,
//   in its layout, lists them there with its own EMAD only. DONATE moves ownership to the borrower for good.
// - Relinquish: the descriptor in TX names the handle, the caller alone (else INVALID_PARAMETERS); the caller must
//   hold the memory, with every fragment of its retrieve received (INVALID_PARAMETERS); zeroing on SHARE is
//   INVALID_PARAMETERS and on read-only memory DENIED.
// - Reclaim: by the owner (INVALID_PARAMETERS otherwise), MBZ flags and time slicing INVALID_PARAMETERS, zeroing a
//   SHARE INVALID_PARAMETERS, DENIED while any borrower holds the memory.
// Limits: a retrieve request with an address range (a composite) is refused by the codec as in Hafnium
// (INVALID_PARAMETERS); the hypervisor retrieve request, the NS bit in responses and MEM_OP_PAUSE/RESUME are not
// built (NOT_SUPPORTED where they are calls). MEM_PERM_GET/SET are in MemoryPermissions.cs.
public abstract partial class PartitionManager
{
    private readonly Dictionary<ulong, SharedMemory> _shared = [];
    private readonly Dictionary<ulong, PendingSend> _pendingSends = [];
    private ulong _lastHandleIndex;

    /// <summary>Where a memory transaction's receiver is served.</summary>
    protected enum Reach : byte
    {
        Unknown = 0,
        Local,
        Remote,
    }

    /// <summary>The machine's page ledger; memory sharing answers NOT_SUPPORTED without one.</summary>
    public PageOwnership? Pages { get; set; }

    /// <summary>The live transactions this manager relays, by handle.</summary>
    public IReadOnlyDictionary<ulong, SharedMemory> SharedMemory => _shared;

    /// <summary>Handles of sends still waiting for fragments.</summary>
    public IReadOnlyCollection<ulong> PendingSendHandles => _pendingSends.Keys;

    /// <summary>Bit 63 for handles the hypervisor allocates, 0 for the SPMC's.</summary>
    protected virtual ulong HandleAllocatorBit => 0;

    /// <summary>Where a receiver named in a send is served.</summary>
    protected virtual Reach MemoryReceiver(EndpointId id) =>
        LocalPartition(id) is { IsAborted: false } ? Reach.Local : Reach.Unknown;

    /// <summary>Whether the caller may send memory whose descriptor names <paramref name="sender"/> as the owner.</summary>
    protected virtual bool MaySendAs(in FfaCaller caller, EndpointId sender) => sender == caller.Id;

    /// <summary>A send (validated and owned) whose receivers are served by the other manager: the SPMC refuses it (no SP lends to the normal world).</summary>
    protected virtual CallOutcome ForwardMemorySend(in FfaCaller caller, ref RegisterFrame frame, MemorySendPlan plan) => Fail(ref frame, FfaError.Denied);

    /// <summary>A handle this manager did not allocate (the hypervisor forwards RECLAIM of the SPMC's).</summary>
    protected virtual CallOutcome ForeignHandle(in FfaCaller caller, ref RegisterFrame frame, FfaFunction function, MemoryHandle handle) =>
        Fail(ref frame, FfaError.InvalidParameters);

    private void RegisterMemorySharing()
    {
        Register(FfaFunction.MemDonate, HandleMemSend);
        Register(FfaFunction.MemLend, HandleMemSend);
        Register(FfaFunction.MemShare, HandleMemSend);
        Register(FfaFunction.MemRetrieveReq, HandleMemRetrieveReq);
        Register(FfaFunction.MemRelinquish, HandleMemRelinquish);
        Register(FfaFunction.MemReclaim, HandleMemReclaim);
        Register(FfaFunction.MemFragTx, HandleMemFragTx);
        Register(FfaFunction.MemFragRx, HandleMemFragRx);
    }

    private bool IsOwnHandle(MemoryHandle handle) => (handle.Value & MemoryHandle.HypervisorAllocatorBit) == HandleAllocatorBit;

    private MemoryHandle NextHandle() => new(++_lastHandleIndex | HandleAllocatorBit);

    private CallOutcome HandleMemSend(in FfaCaller caller, ref RegisterFrame frame)
    {
        var function = (FfaFunction)(frame.W(0) & 0xFF);
        if (!MemoryTransaction.TryDecode(frame, function, out _, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (Pages is null)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        if (ReadTransactionBuffer(caller, call, out var bytes, out var source) is { } bufferError)
        {
            return Fail(ref frame, bufferError);
        }

        if (call.FragmentLength < call.TotalLength)
        {
            if (Personality.ErrorForFragmentedSend is { } refused)
            {
                return Fail(ref frame, refused);
            }

            // Only the header, the EMADs and the composite header must be here; the rest comes with FRAG_TX.
            if (!MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes, call.TotalLength, caller.Version, MtdShape.Send, out var first, out _)
                || call.FragmentLength % MemoryRegionConstituent.Size != 0)
            {
                return Fail(ref frame, FfaError.InvalidParameters);
            }

            if (!MaySendAs(caller, first.Sender))
            {
                return Fail(ref frame, FfaError.Denied);
            }

            var pendingHandle = NextHandle();
            var whole = new byte[call.TotalLength];
            bytes.CopyTo(whole, 0);
            _pendingSends.Add(pendingHandle.Value, new PendingSend(caller.Endpoint, function, whole, (int)call.FragmentLength, caller.Version, source, first.Sender));
            new MemFragRx(pendingHandle, call.FragmentLength, ActingFor(caller, first.Sender)).Encode(ref frame);
            return CallOutcome.Completed;
        }

        return CompleteSend(caller, ref frame, function, bytes, caller.Version, handle: null);
    }

    /// <summary>Validates a whole send descriptor and commits it here (or hands it to the other manager).</summary>
    private CallOutcome CompleteSend(in FfaCaller caller, ref RegisterFrame frame, FfaFunction function, ReadOnlySpan<byte> bytes, FfaVersion layout, MemoryHandle? handle)
    {
        if (ValidateSend(caller, function, bytes, layout, out var plan) is { } error)
        {
            return Fail(ref frame, error);
        }

        if (plan.Remote)
        {
            return ForwardMemorySend(caller, ref frame, plan);
        }

        var committed = CommitSend(plan, handle ?? NextHandle());
        return Succeed(ref frame, committed.Low, committed.High);
    }

    /// <summary>Opens the grant in the ledger and records the transaction.</summary>
    private MemoryHandle CommitSend(MemorySendPlan plan, MemoryHandle handle)
    {
        Span<EndpointId> borrowers = plan.Receivers.Length <= 16 ? stackalloc EndpointId[plan.Receivers.Length] : new EndpointId[plan.Receivers.Length];
        for (var i = 0; i < plan.Receivers.Length; i++)
        {
            borrowers[i] = plan.Receivers[i].Receiver;
        }

        Pages!.Open(handle.Value, plan.Header.Sender, plan.Kind, plan.Runs, borrowers, plan.Header.Flags.ZeroMemory);
        _shared.Add(handle.Value, new SharedMemory(handle, plan));
        return handle;
    }

    /// <summary>
    /// Every check of a whole send descriptor, in the order the rules above list them; on success the plan holds
    /// what to commit: the receivers, the physical runs, where the receivers are.
    /// </summary>
    private FfaError? ValidateSend(in FfaCaller caller, FfaFunction function, ReadOnlySpan<byte> bytes, FfaVersion layout, out MemorySendPlan plan)
    {
        plan = null!;
        if (!MemoryTransactionDescriptorReader.TryRead(bytes, layout, MtdShape.Send, out var view, out _))
        {
            return FfaError.InvalidParameters;
        }

        var header = view.Header;
        if (header.Handle.Value != 0 || !view.EmadsShareComposite(out _) || header.Flags.TimeSlice)
        {
            return FfaError.InvalidParameters;
        }

        if (!MaySendAs(caller, header.Sender))
        {
            return FfaError.Denied;
        }

        var kind = function switch
        {
            FfaFunction.MemShare => GrantKind.Share,
            FfaFunction.MemLend => GrantKind.Lend,
            _ => GrantKind.Donate,
        };
        if (header.Flags.ZeroMemory && kind == GrantKind.Share)
        {
            return FfaError.InvalidParameters;
        }

        if (view.EmadCount > Personality.MaxMemoryBorrowers)
        {
            return FfaError.NotSupported;
        }

        var receivers = new EndpointMemoryAccess[view.EmadCount];
        var local = 0;
        var remote = 0;
        for (var i = 0; i < receivers.Length; i++)
        {
            var emad = view.GetEmad(i);
            var permissions = emad.Permissions;
            if (emad.Receiver == header.Sender
                || Seen(receivers.AsSpan(0, i), emad.Receiver)
                || permissions.Data == DataAccess.Reserved
                || permissions.Instruction != InstructionAccess.NotSpecified
                || (kind == GrantKind.Donate) != (permissions.Data == DataAccess.NotSpecified)
                || (kind == GrantKind.Donate && view.EmadCount > 1))
            {
                return FfaError.InvalidParameters;
            }

            switch (MemoryReceiver(emad.Receiver))
            {
                case Reach.Local:
                    local++;
                    break;
                case Reach.Remote:
                    remote++;
                    break;
                default:
                    return FfaError.InvalidParameters;
            }

            receivers[i] = emad;
        }

        if (local > 0 && remote > 0)
        {
            // Normal-world and secure borrowers in one transaction: not built (Hafnium relays these through the SPMC).
            return FfaError.NotSupported;
        }

        if (local > 0 && caller.Endpoint.Partition?.Config.Kind == PartitionKind.Vm && Personality.ErrorForMemoryBetweenVms is { } betweenVms)
        {
            return betweenVms;
        }

        var attributes = header.Attributes;
        if (attributes.Type == MemoryType.Reserved)
        {
            return FfaError.InvalidParameters;
        }

        if (kind == GrantKind.Donate || (kind == GrantKind.Lend && receivers.Length == 1))
        {
            if (attributes.Type != MemoryType.NotSpecified)
            {
                return FfaError.InvalidParameters;
            }
        }
        else if (!IsAcceptedSendAttributes(attributes))
        {
            return FfaError.Denied;
        }

        if (view.ConstituentCount == 0)
        {
            return FfaError.InvalidParameters;
        }

        if (SpaceOf(caller) is not { } space)
        {
            return FfaError.Denied;
        }

        var constituents = view.Constituents;
        var runs = new List<PageRun>(constituents.Count);
        foreach (var constituent in constituents)
        {
            if (constituent.PageCount == 0)
            {
                return FfaError.InvalidParameters;
            }

            if (!TryTranslate(space, constituent, runs))
            {
                return FfaError.Denied;
            }
        }

        var runArray = runs.ToArray();
        if (Overlapping(runArray))
        {
            return FfaError.InvalidParameters;
        }

        foreach (var run in runArray)
        {
            if (!Pages!.OwnsExclusively(header.Sender, run))
            {
                return FfaError.Denied;
            }
        }

        if (Personality.MaxMemorySharesPerSender is { } max && CountShares(header.Sender) >= max)
        {
            return FfaError.NoMemory;
        }

        plan = new MemorySendPlan(kind, function, header, receivers, runArray, remote > 0);
        return null;
    }

    private static bool Seen(ReadOnlySpan<EndpointMemoryAccess> earlier, EndpointId receiver)
    {
        foreach (var e in earlier)
        {
            if (e.Receiver == receiver)
            {
                return true;
            }
        }

        return false;
    }

    private int CountShares(EndpointId sender)
    {
        var n = 0;
        foreach (var shared in _shared.Values)
        {
            n += shared.Sender == sender ? 1 : 0;
        }

        return n;
    }

    /// <summary>Normal write-back inner shareable, or device nGnRnE: what Hafnium accepts for a share.</summary>
    private static bool IsAcceptedSendAttributes(MemoryRegionAttributes attributes) =>
        (attributes.Type == MemoryType.Normal && attributes.Cacheability == Cacheability.WriteBack && attributes.Shareability == Shareability.InnerShareable)
        || (attributes.Type == MemoryType.Device && attributes.DeviceType == DeviceMemoryType.nGnRnE && (attributes.Value & 3) == 0);

    /// <summary>Splits a constituent (addresses in <paramref name="space"/>) into physically contiguous runs; false if a page is not mapped.</summary>
    private static bool TryTranslate(AddressSpace space, MemoryRegionConstituent constituent, List<PageRun> runs)
    {
        ulong start = 0;
        ulong length = 0;
        for (uint i = 0; i < constituent.PageCount; i++)
        {
            if (!space.Stage2.TryGetEntry(constituent.Address + ((ulong)i << PhysicalMemory.PageShift), out var entry))
            {
                return false;
            }

            if (length > 0 && entry.PhysicalPage == start + length)
            {
                length++;
                continue;
            }

            if (length > 0)
            {
                runs.Add(new PageRun(start, length));
            }

            start = entry.PhysicalPage;
            length = 1;
        }

        runs.Add(new PageRun(start, length));
        return true;
    }

    /// <summary>Whether two runs share a page: one pass when the runs ascend (the usual case), else a sorted copy.</summary>
    private static bool Overlapping(PageRun[] runs)
    {
        var ascending = true;
        for (var i = 1; i < runs.Length && ascending; i++)
        {
            ascending = runs[i].PhysicalPage >= runs[i - 1].PhysicalPage + runs[i - 1].Pages;
        }

        if (ascending)
        {
            return false;
        }

        var sorted = (PageRun[])runs.Clone();
        Array.Sort(sorted, static (a, b) => a.PhysicalPage.CompareTo(b.PhysicalPage));
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].PhysicalPage < sorted[i - 1].PhysicalPage + sorted[i - 1].Pages)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The fragment of a send or retrieve request the caller points at: its TX buffer (w3 = w4 = 0) or a buffer of
    /// its own (w3 = address, w4 = pages). Copied out, so nothing the caller does later changes what is validated.
    /// </summary>
    private FfaError? ReadTransactionBuffer(in FfaCaller caller, MemoryTransaction call, out byte[] bytes, out TransactionBuffer source)
    {
        bytes = [];
        source = default;
        if (call.TotalLength == 0 || call.FragmentLength == 0 || call.FragmentLength > call.TotalLength)
        {
            return FfaError.InvalidParameters;
        }

        AddressSpace space;
        ulong address;
        ulong size;
        if (call.Address == 0)
        {
            var mailbox = caller.Endpoint.Mailbox;
            if (call.PageCount != 0 || !mailbox.IsMapped)
            {
                return FfaError.InvalidParameters;
            }

            (space, address, size) = (mailbox.Space!, mailbox.TxAddress, (ulong)mailbox.Size);
        }
        else
        {
            if (Personality.ErrorForCallerBuffer is { } refused)
            {
                return refused;
            }

            if (call.PageCount == 0 || (call.Address & PhysicalMemory.PageMask) != 0)
            {
                return FfaError.InvalidParameters;
            }

            if (SpaceOf(caller) is not { } own)
            {
                return FfaError.Denied;
            }

            (space, address, size) = (own, call.Address, (ulong)call.PageCount * PhysicalMemory.PageSize);
            if (!space.CanAccess(address, size, Stage2Access.Read, out _))
            {
                return FfaError.Denied;
            }
        }

        if (call.FragmentLength > size)
        {
            return FfaError.InvalidParameters;
        }

        bytes = new byte[call.FragmentLength];
        if (!space.TryRead(address, bytes, out _))
        {
            return FfaError.Denied;
        }

        source = new TransactionBuffer(space, address, size);
        return null;
    }

    /// <summary>The endpoint the hypervisor acts for in a fragment call at the SPMC (w4[31:16]), else 0.</summary>
    private static EndpointId ActingFor(in FfaCaller caller, EndpointId sender) =>
        caller.FromOtherWorld && sender != EndpointId.Hypervisor ? sender : default;

    private CallOutcome HandleMemFragTx(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MemFragTx.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!_pendingSends.TryGetValue(call.Handle.Value, out var pending))
        {
            return IsOwnHandle(call.Handle) || _shared.ContainsKey(call.Handle.Value)
                ? Fail(ref frame, FfaError.InvalidParameters)
                : ForeignHandle(caller, ref frame, FfaFunction.MemFragTx, call.Handle);
        }

        if (pending.Caller != caller.Endpoint || (call.Endpoint != default && (!caller.FromOtherWorld || call.Endpoint != pending.Sender)))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var remaining = pending.Bytes.Length - pending.Received;
        if (call.FragmentLength == 0
            || call.FragmentLength > remaining
            || (ulong)call.FragmentLength > pending.Source.Size
            || call.FragmentLength % MemoryRegionConstituent.Size != 0
            || !pending.Source.Space.TryRead(pending.Source.Address, pending.Bytes.AsSpan(pending.Received, (int)call.FragmentLength), out _))
        {
            // A broken fragment ends the transaction: nothing was committed, the handle is never used again.
            _pendingSends.Remove(call.Handle.Value);
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        pending.Received += (int)call.FragmentLength;
        if (pending.Received < pending.Bytes.Length)
        {
            new MemFragRx(call.Handle, (uint)pending.Received, ActingFor(caller, pending.Sender)).Encode(ref frame);
            return CallOutcome.Completed;
        }

        _pendingSends.Remove(call.Handle.Value);
        return CompleteSend(caller, ref frame, pending.Function, pending.Bytes, pending.Layout, call.Handle);
    }

    private CallOutcome HandleMemRetrieveReq(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MemRetrieveReq.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (Pages is null)
        {
            return Fail(ref frame, FfaError.NotSupported);
        }

        if (ReadTransactionBuffer(caller, call.Transaction, out var bytes, out _) is { } bufferError)
        {
            return Fail(ref frame, bufferError);
        }

        // A retrieve request comes in one fragment, and carries no address range (Hafnium refuses both).
        if (call.Transaction.FragmentLength != call.Transaction.TotalLength
            || !MemoryTransactionDescriptorReader.TryRead(bytes, caller.Version, MtdShape.RetrieveRequest, out var request, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var handle = request.Handle;
        if (_pendingSends.ContainsKey(handle.Value))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (!_shared.TryGetValue(handle.Value, out var shared))
        {
            return IsOwnHandle(handle) ? Fail(ref frame, FfaError.InvalidParameters) : ForeignHandle(caller, ref frame, FfaFunction.MemRetrieveReq, handle);
        }

        if (request.Sender != shared.Sender)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var flags = request.Flags;
        var bypass = flags.BypassMultipleBorrowerCheck;
        if (request.Tag != shared.Tag
            || flags.TimeSlice
            || flags.AlignmentHintValid
            || (flags.TransactionType != MemoryTransactionType.Unspecified && flags.TransactionType != shared.TransactionType)
            || (bypass ? request.EmadCount != 1 : request.EmadCount != shared.Receivers.Length))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var mine = -1;
        EndpointMemoryAccess asked = default;
        for (var i = 0; i < request.EmadCount; i++)
        {
            var emad = request.GetEmad(i);
            var index = shared.IndexOf(emad.Receiver);
            if (index < 0 || emad.Permissions.Data == DataAccess.Reserved || emad.Permissions.Instruction == InstructionAccess.Reserved)
            {
                return Fail(ref frame, FfaError.InvalidParameters);
            }

            if (emad.Receiver == caller.Id)
            {
                mine = index;
                asked = emad;
            }
        }

        if (mine < 0 || asked.ImplementationDefined != shared.Receivers[mine].ImplementationDefined)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var granted = shared.Receivers[mine].Permissions;
        if (!TryNarrow(shared.Kind, shared.Receivers.Length, granted, asked.Permissions, out var permissions, out var access))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var wantsZero = flags.ZeroMemory || flags.ZeroAfterRelinquish;
        if (wantsZero && shared.Kind == GrantKind.Share)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if ((flags.ZeroMemory && !shared.Flags.ZeroMemory) || (wantsZero && permissions.Data == DataAccess.ReadOnly))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        if (request.Attributes.Type == MemoryType.Reserved)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!TryCombineAttributes(shared.Attributes, request.Attributes, out var attributes))
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var progress = shared.Progress[mine];
        if (progress.Holds)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        var endpoint = caller.Endpoint;
        if (!endpoint.Mailbox.RxFree)
        {
            return Fail(ref frame, FfaError.Busy);
        }

        if (!Pages.CanMap(handle.Value, caller.Id))
        {
            return Fail(ref frame, FfaError.NoMemory);
        }

        if (!AcquireForWrite(endpoint))
        {
            return Fail(ref frame, FfaError.Busy);
        }

        // Commit: map, answer in the borrower's layout, hand over ownership for a donation.
        Pages.MapBorrower(handle.Value, caller.Id, access, zero: false);
        progress.Holds = true;
        progress.ZeroAfterRelinquish = flags.ZeroAfterRelinquish;
        progress.Access = permissions;
        var response = shared.WriteResponse(caller.Version, attributes, permissions, mine, flags.ZeroMemory, flags.ZeroAfterRelinquish);
        var first = Math.Min(response.Length, endpoint.Mailbox.Size);
        progress.Response = first < response.Length ? response : null;
        progress.Delivered = first;
        FillRx(endpoint, response.AsSpan(0, first));
        if (shared.Kind == GrantKind.Donate)
        {
            Pages.Transfer(handle.Value, caller.Id);
            _shared.Remove(handle.Value);
        }

        new MemRetrieveResp((uint)response.Length, (uint)first).Encode(ref frame);
        return CallOutcome.Completed;
    }

    /// <summary>
    /// What a borrower gets: the sender's data access or narrower (RO from RW), never wider; no execution of shared
    /// memory (SHARE, and LEND to several borrowers, are NX as Hafnium records them); a donation gets what it asks (RW
    /// when unspecified).
    /// </summary>
    private static bool TryNarrow(GrantKind kind, int borrowers, MemoryAccessPermissions granted, MemoryAccessPermissions asked, out MemoryAccessPermissions result, out Stage2Access access)
    {
        result = default;
        access = Stage2Access.None;
        var data = kind == GrantKind.Donate ? (asked.Data == DataAccess.NotSpecified ? DataAccess.ReadWrite : asked.Data)
            : asked.Data == DataAccess.NotSpecified ? granted.Data
            : asked.Data;
        if (kind != GrantKind.Donate && data == DataAccess.ReadWrite && granted.Data == DataAccess.ReadOnly)
        {
            return false;
        }

        var noExecute = kind == GrantKind.Share || (kind == GrantKind.Lend && borrowers > 1);
        var instruction = asked.Instruction == InstructionAccess.NotSpecified
            ? (noExecute ? InstructionAccess.NotExecutable : InstructionAccess.Executable)
            : asked.Instruction;
        if (noExecute && instruction == InstructionAccess.Executable)
        {
            return false;
        }

        result = MemoryAccessPermissions.Of(data, instruction);
        access = (data == DataAccess.ReadWrite ? Stage2Access.ReadWrite : Stage2Access.Read) | (instruction == InstructionAccess.Executable ? Stage2Access.Execute : Stage2Access.None);
        return true;
    }

    /// <summary>
    /// The attributes the borrower maps with: the sender's, made stricter by the borrower if it asks (device over
    /// normal; a stricter device type; non-cacheable over write-back); a request that would relax them is refused.
    /// Nothing specified on either side: normal write-back inner shareable.
    /// </summary>
    private static bool TryCombineAttributes(MemoryRegionAttributes sender, MemoryRegionAttributes asked, out MemoryRegionAttributes result)
    {
        var fallback = MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable);
        if (asked.Type == MemoryType.NotSpecified)
        {
            result = sender.Type == MemoryType.NotSpecified ? fallback : sender;
            return true;
        }

        result = asked;
        if (sender.Type == MemoryType.NotSpecified || sender == asked)
        {
            return true;
        }

        return (sender.Type, asked.Type) switch
        {
            (MemoryType.Normal, MemoryType.Device) => true,
            (MemoryType.Device, MemoryType.Device) => asked.DeviceType < sender.DeviceType,
            (MemoryType.Normal, MemoryType.Normal) => asked.Shareability == sender.Shareability
                && sender.Cacheability == Cacheability.WriteBack && asked.Cacheability == Cacheability.NonCacheable,
            _ => false,
        };
    }

    private CallOutcome HandleMemFragRx(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MemFragRx.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!_shared.TryGetValue(call.Handle.Value, out var shared))
        {
            return IsOwnHandle(call.Handle) || _pendingSends.ContainsKey(call.Handle.Value)
                ? Fail(ref frame, FfaError.InvalidParameters)
                : ForeignHandle(caller, ref frame, FfaFunction.MemFragRx, call.Handle);
        }

        var index = shared.IndexOf(caller.Id);
        if (call.Endpoint != default || index < 0 || shared.Progress[index].Response is not { } response || call.Offset != shared.Progress[index].Delivered)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var endpoint = caller.Endpoint;
        if (!endpoint.Mailbox.RxFree || !AcquireForWrite(endpoint))
        {
            return Fail(ref frame, FfaError.Busy);
        }

        var progress = shared.Progress[index];
        var length = Math.Min(response.Length - progress.Delivered, endpoint.Mailbox.Size);
        FillRx(endpoint, response.AsSpan(progress.Delivered, length));
        progress.Delivered += length;
        if (progress.Delivered == response.Length)
        {
            progress.Response = null;
        }

        new MemFragTx(call.Handle, (uint)length, default).Encode(ref frame);
        return CallOutcome.Completed;
    }

    private CallOutcome HandleMemRelinquish(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MemRelinquish.TryDecode(frame, out _, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var mailbox = caller.Endpoint.Mailbox;
        if (!mailbox.IsMapped)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        // The header says how many endpoints follow; Firmament accepts one, so 16 + 2 bytes is all it needs to read
        // (a longer list is refused below either way).
        Span<byte> bytes = stackalloc byte[MemoryRelinquishDescriptor.RequiredLength(1)];
        if (!mailbox.Space!.TryRead(mailbox.TxAddress, bytes, out _)
            || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]) > 1
            || !MemoryRelinquishDescriptor.TryRead(bytes, out var view, out _)
            || view.EndpointCount != 1
            || view.Flags.TimeSlice)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var handle = view.Handle;
        var borrower = view.GetEndpoint(0);
        if (borrower != caller.Id || _pendingSends.ContainsKey(handle.Value))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!_shared.TryGetValue(handle.Value, out var shared))
        {
            return IsOwnHandle(handle) ? Fail(ref frame, FfaError.InvalidParameters) : ForeignHandle(caller, ref frame, FfaFunction.MemRelinquish, handle);
        }

        var index = shared.IndexOf(borrower);
        if (index < 0 || !shared.Progress[index].Holds || shared.Progress[index].Response is not null)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var progress = shared.Progress[index];
        var zero = view.Flags.ZeroAfterRelinquish || progress.ZeroAfterRelinquish;
        if (view.Flags.ZeroAfterRelinquish && shared.Kind == GrantKind.Share)
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (zero && progress.Access.Data == DataAccess.ReadOnly)
        {
            return Fail(ref frame, FfaError.Denied);
        }

        Pages!.UnmapBorrower(handle.Value, borrower, zero);
        progress.Holds = false;
        progress.ZeroAfterRelinquish = false;
        return Succeed(ref frame);
    }

    private CallOutcome HandleMemReclaim(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!MemReclaim.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        var handle = call.Handle;
        if (_pendingSends.ContainsKey(handle.Value))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!_shared.TryGetValue(handle.Value, out var shared))
        {
            return IsOwnHandle(handle) ? Fail(ref frame, FfaError.InvalidParameters) : ForeignHandle(caller, ref frame, FfaFunction.MemReclaim, handle);
        }

        var zero = (call.Flags & MemReclaimFlags.ZeroMemory) != 0;
        if (!MaySendAs(caller, shared.Sender)
            || (call.Flags & MemReclaimFlags.TimeSlicing) != 0
            || (zero && shared.Kind == GrantKind.Share))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        foreach (var progress in shared.Progress)
        {
            if (progress.Holds)
            {
                return Fail(ref frame, FfaError.Denied);
            }
        }

        if (Personality.MemoryReclaimWindow)
        {
            // The planted race: the borrowers were checked; the grant is closed later, whatever happened meanwhile.
            CloseAfterWindow(caller, handle.Value, zero);
            return CallOutcome.Blocked;
        }

        Pages!.Close(handle.Value, zero);
        _shared.Remove(handle.Value);
        return Succeed(ref frame);
    }

    /// <summary>The planted window's second half (a method of its own, so the common path allocates no closure).</summary>
    private void CloseAfterWindow(in FfaCaller caller, ulong key, bool zero) =>
        FinishLater(caller, () =>
        {
            Pages!.Close(key, zero);
            _shared.Remove(key);
            var answer = default(RegisterFrame);
            Succeed(ref answer);
            return answer;
        });

    /// <summary>
    /// Writes a retrieve response (or a piece of it) into the borrower's RX buffer and hands the buffer to the
    /// borrower. The rest of the buffer is left as it was: it holds only what was written for this same endpoint
    /// before, so nothing crosses between partitions, and a 4 KiB clear per retrieve is the hot path's largest cost.
    /// </summary>
    private static void FillRx(FfaEndpoint endpoint, ReadOnlySpan<byte> bytes)
    {
        var mailbox = endpoint.Mailbox;
        mailbox.Space!.TryWrite(mailbox.RxAddress, bytes, Stage2Access.Read, out _);
        mailbox.RxOwner = RxOwner.Endpoint;
    }

    /// <summary>Where a send's descriptor fragments are read from: the TX buffer or the caller's own buffer.</summary>
    private readonly record struct TransactionBuffer(AddressSpace Space, ulong Address, ulong Size);

    /// <summary>A send whose descriptor is still arriving in fragments.</summary>
    private sealed class PendingSend(FfaEndpoint caller, FfaFunction function, byte[] bytes, int received, FfaVersion layout, TransactionBuffer source, EndpointId sender)
    {
        public FfaEndpoint Caller { get; } = caller;

        public FfaFunction Function { get; } = function;

        public byte[] Bytes { get; } = bytes;

        public int Received { get; set; } = received;

        public FfaVersion Layout { get; } = layout;

        public TransactionBuffer Source { get; } = source;

        public EndpointId Sender { get; } = sender;
    }
}

/// <summary>A validated send, ready to commit: what kind, the header, the receivers, the physical runs, whether the receivers are the other manager's.</summary>
public sealed record MemorySendPlan(GrantKind Kind, FfaFunction Function, MemoryTransactionHeader Header, EndpointMemoryAccess[] Receivers, PageRun[] Runs, bool Remote);

/// <summary>One borrower's progress in a transaction: whether it holds the memory, and the retrieve response still being fetched in fragments.</summary>
public sealed class BorrowerProgress
{
    public bool Holds { get; internal set; }

    public MemoryAccessPermissions Access { get; internal set; }

    internal bool ZeroAfterRelinquish { get; set; }

    /// <summary>The whole retrieve response while fragments of it are outstanding.</summary>
    internal byte[]? Response { get; set; }

    internal int Delivered { get; set; }
}

/// <summary>A live memory transaction at the manager that relays it: as sent, plus each borrower's progress.</summary>
public sealed class SharedMemory
{
    internal SharedMemory(MemoryHandle handle, MemorySendPlan plan)
    {
        Handle = handle;
        Kind = plan.Kind;
        Sender = plan.Header.Sender;
        Attributes = plan.Header.Attributes;
        Flags = plan.Header.Flags;
        Tag = plan.Header.Tag;
        Receivers = plan.Receivers;
        Runs = plan.Runs;
        Progress = new BorrowerProgress[Receivers.Length];
        for (var i = 0; i < Progress.Length; i++)
        {
            Progress[i] = new BorrowerProgress();
        }
    }

    public MemoryHandle Handle { get; }

    public GrantKind Kind { get; }

    public EndpointId Sender { get; }

    public MemoryRegionAttributes Attributes { get; }

    public MemoryTransactionFlags Flags { get; }

    public ulong Tag { get; }

    public IReadOnlyList<EndpointMemoryAccess> ReceiverList => Receivers;

    public IReadOnlyList<BorrowerProgress> BorrowerProgress => Progress;

    internal EndpointMemoryAccess[] Receivers { get; }

    internal PageRun[] Runs { get; }

    internal BorrowerProgress[] Progress { get; }

    internal MemoryTransactionType TransactionType => (MemoryTransactionType)(int)Kind;

    internal int IndexOf(EndpointId receiver)
    {
        for (var i = 0; i < Receivers.Length; i++)
        {
            if (Receivers[i].Receiver == receiver)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The retrieve response for receiver <paramref name="index"/> in <paramref name="layout"/>: its own EMAD, the pages where it maps them.</summary>
    internal byte[] WriteResponse(FfaVersion layout, MemoryRegionAttributes attributes, MemoryAccessPermissions permissions, int index, bool zeroed, bool zeroAfterRelinquish)
    {
        var constituents = new MemoryRegionConstituent[Runs.Length];
        for (var i = 0; i < Runs.Length; i++)
        {
            constituents[i] = new MemoryRegionConstituent(Runs[i].PhysicalPage << PhysicalMemory.PageShift, (uint)Runs[i].Pages);
        }

        var header = new MemoryTransactionHeader(Sender, attributes, MemoryTransactionFlags.ForRetrieveResponse(TransactionType, zeroed, zeroAfterRelinquish), Handle, Tag);
        ReadOnlySpan<EndpointMemoryAccess> emad = [Receivers[index] with { Permissions = permissions, Flags = EmadFlags.None }];
        var bytes = new byte[MemoryTransactionDescriptorWriter.RequiredLength(layout, MtdShape.RetrieveResponse, 1, constituents.Length)];
        MemoryTransactionDescriptorWriter.TryWrite(bytes, layout, MtdShape.RetrieveResponse, header, emad, constituents, out _);
        return bytes;
    }
}
