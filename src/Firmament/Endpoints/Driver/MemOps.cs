using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Endpoints.Driver;

/// <summary>
/// The driver's memory ops, as Linux's <c>mem_ops</c>: share, lend and donate a list of the endpoint's pages with
/// borrowers (the descriptor written into the TX buffer in the negotiated layout, cut into TX-sized fragments and sent
/// with FRAG_TX whenever the partition manager answers FRAG_RX), retrieve (the response gathered from the RX buffer
/// fragment by fragment with RX_RELEASE and FRAG_RX), relinquish and reclaim. Every op answers a status, never throws
/// for an FF-A error.
/// </summary>
public sealed class MemOps
{
    private readonly FfaDriver _driver;

    internal MemOps(FfaDriver driver) => _driver = driver;

    /// <summary>Normal write-back inner-shareable memory: what a share says.</summary>
    public static MemoryRegionAttributes NormalMemory { get; } = MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable);

    public ValueTask<(FfaStatus Status, MemoryHandle Handle)> ShareAsync(IReadOnlyList<EndpointMemoryAccess> borrowers, IReadOnlyList<MemoryRegionConstituent> pages, ulong tag = 0) =>
        SendAsync(FfaFunction.MemShare, borrowers, pages, NormalMemory, default, tag);

    /// <summary>Lends pages: the endpoint loses access until it reclaims them. One borrower leaves the attributes to it.</summary>
    public ValueTask<(FfaStatus Status, MemoryHandle Handle)> LendAsync(IReadOnlyList<EndpointMemoryAccess> borrowers, IReadOnlyList<MemoryRegionConstituent> pages, bool zero = false, ulong tag = 0)
    {
        ArgumentNullException.ThrowIfNull(borrowers);
        return SendAsync(FfaFunction.MemLend, borrowers, pages, borrowers.Count == 1 ? default : NormalMemory, MemoryTransactionFlags.ForSend(zeroMemory: zero), tag);
    }

    /// <summary>Donates pages to one borrower for good.</summary>
    public ValueTask<(FfaStatus Status, MemoryHandle Handle)> DonateAsync(EndpointId borrower, IReadOnlyList<MemoryRegionConstituent> pages, bool zero = false, ulong tag = 0) =>
        SendAsync(FfaFunction.MemDonate, [new EndpointMemoryAccess(borrower, default)], pages, default, MemoryTransactionFlags.ForSend(zeroMemory: zero), tag);

    /// <summary>Any of the three sends, fragmented through the TX buffer as needed.</summary>
    public async ValueTask<(FfaStatus Status, MemoryHandle Handle)> SendAsync(
        FfaFunction function,
        IReadOnlyList<EndpointMemoryAccess> borrowers,
        IReadOnlyList<MemoryRegionConstituent> pages,
        MemoryRegionAttributes attributes,
        MemoryTransactionFlags flags,
        ulong tag)
    {
        ArgumentNullException.ThrowIfNull(borrowers);
        ArgumentNullException.ThrowIfNull(pages);
        var descriptor = new MemoryTransactionDescriptor { Header = new MemoryTransactionHeader(_driver.Id, attributes, flags, default, tag) };
        descriptor.Receivers.AddRange(borrowers);
        descriptor.Constituents.AddRange(pages);
        var bytes = descriptor.Encode(_driver.Version, MtdShape.Send);
        var tx = TxSize;
        var sent = Math.Min(bytes.Length, tx);
        WriteTx(bytes.AsSpan(0, sent));
        var frame = default(RegisterFrame);
        var transaction = new MemoryTransaction((uint)bytes.Length, (uint)sent, 0, 0);
        switch (function)
        {
            case FfaFunction.MemShare:
                new MemShare(true, transaction).Encode(ref frame);
                break;
            case FfaFunction.MemLend:
                new MemLend(true, transaction).Encode(ref frame);
                break;
            case FfaFunction.MemDonate:
                new MemDonate(true, transaction).Encode(ref frame);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(function), function, "not a memory send");
        }

        frame = await _driver.Conduit.CallAsync(frame);
        while (MemFragRx.TryDecode(frame, out var more, out _))
        {
            if (more.Offset != sent || sent >= bytes.Length)
            {
                return (new FfaStatus(FfaError.Aborted), default);
            }

            var length = Math.Min(bytes.Length - sent, tx);
            WriteTx(bytes.AsSpan(sent, length));
            sent += length;
            new MemFragTx(more.Handle, (uint)length, default).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
        }

        var status = FfaStatus.Of(frame);
        return status.IsOk && MemSendSuccess.TryDecode(frame, out var success, out _) ? (status, success.Handle) : (status.IsOk ? new FfaStatus(FfaError.Aborted) : status, default);
    }

    /// <summary>
    /// Retrieves a transaction as one of its borrowers: the response (every fragment) decoded in the negotiated
    /// layout; its constituents say where the pages are mapped.
    /// </summary>
    public async ValueTask<(FfaStatus Status, MemoryTransactionDescriptor? Response)> RetrieveAsync(
        MemoryHandle handle,
        EndpointId sender,
        IReadOnlyList<EndpointMemoryAccess> borrowers,
        ulong tag = 0,
        MemoryTransactionFlags flags = default)
    {
        ArgumentNullException.ThrowIfNull(borrowers);
        var request = new MemoryTransactionDescriptor { Header = new MemoryTransactionHeader(sender, default, flags, handle, tag) };
        request.Receivers.AddRange(borrowers);
        var bytes = request.Encode(_driver.Version, MtdShape.RetrieveRequest);
        WriteTx(bytes);
        var frame = default(RegisterFrame);
        new MemRetrieveReq(true, MemoryTransaction.InTxBuffer((uint)bytes.Length)).Encode(ref frame);
        frame = await _driver.Conduit.CallAsync(frame);
        if (!MemRetrieveResp.TryDecode(frame, out var response, out _))
        {
            var status = FfaStatus.Of(frame);
            return (status.IsOk ? new FfaStatus(FfaError.Aborted) : status, null);
        }

        var whole = new byte[response.TotalLength];
        var received = 0;
        var length = (int)response.FragmentLength;
        while (true)
        {
            if (length <= 0 || received + length > whole.Length)
            {
                return (new FfaStatus(FfaError.Aborted), null);
            }

            _driver.Context.Memory.TryRead(_driver.Context.Buffers.Rx, whole.AsSpan(received, length), out _);
            received += length;
            new RxRelease(EndpointId.Hypervisor).Encode(ref frame);
            await _driver.Conduit.CallAsync(frame);
            if (received == whole.Length)
            {
                break;
            }

            new MemFragRx(handle, (uint)received, default).Encode(ref frame);
            frame = await _driver.Conduit.CallAsync(frame);
            if (!MemFragTx.TryDecode(frame, out var next, out _))
            {
                return (FfaStatus.Of(frame).IsOk ? new FfaStatus(FfaError.Aborted) : FfaStatus.Of(frame), null);
            }

            length = (int)next.FragmentLength;
        }

        return MemoryTransactionDescriptor.TryDecode(whole, _driver.Version, MtdShape.RetrieveResponse, out var descriptor, out _)
            ? (FfaStatus.Ok, descriptor)
            : (new FfaStatus(FfaError.Aborted), null);
    }

    /// <summary>Gives retrieved memory back (this endpoint alone).</summary>
    public async ValueTask<FfaStatus> RelinquishAsync(MemoryHandle handle, bool zero = false)
    {
        var relinquish = new MemoryRelinquish { Handle = handle, Flags = RelinquishFlags.Of(zeroAfterRelinquish: zero) };
        relinquish.Endpoints.Add(_driver.Id);
        WriteTx(relinquish.Encode());
        var frame = default(RegisterFrame);
        new MemRelinquish().Encode(ref frame);
        return FfaStatus.Of(await _driver.Conduit.CallAsync(frame));
    }

    /// <summary>Takes memory back once every borrower has relinquished it.</summary>
    public async ValueTask<FfaStatus> ReclaimAsync(MemoryHandle handle, bool zero = false)
    {
        var frame = default(RegisterFrame);
        new MemReclaim(handle, zero ? MemReclaimFlags.ZeroMemory : MemReclaimFlags.None).Encode(ref frame);
        return FfaStatus.Of(await _driver.Conduit.CallAsync(frame));
    }

    private int TxSize => (int)_driver.Context.Buffers.Pages * 4096;

    private void WriteTx(ReadOnlySpan<byte> bytes) => _driver.Context.Memory.TryWrite(_driver.Context.Buffers.Tx, bytes, out _);
}
