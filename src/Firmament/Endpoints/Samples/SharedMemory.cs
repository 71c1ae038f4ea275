using System.Buffers.Binary;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Driver;

namespace Firmament.Endpoints.Samples;

/// <summary>
/// Memory sharing in the samples: a borrower's side written on the raw ABI (retrieve, read, relinquish) that the echo
/// SP and the server VM run when asked, and the demo client's side (share a page, ask the borrower to read it, reclaim).
/// </summary>
public static class SharedMemory
{
    /// <summary>
    /// Payload word 0 asking a partition to read shared memory: word 1 = the handle, word 2 = the sender's ID. The
    /// answer: word 1 = bytes read (0 on error), words 2 and 3 = the first 16 bytes, word 4 = the FF-A error, if any.
    /// </summary>
    public const ulong ReadShared = 0x5348_4D52; // "SHMR"

    /// <summary>Retrieves the transaction read-only, reads its first 16 bytes through this endpoint's own map, relinquishes it.</summary>
    public static async ValueTask<DirectMessagePayload> ReadAsync(EndpointContext context, FfaVersion version, DirectMessagePayload payload)
    {
        ArgumentNullException.ThrowIfNull(context);
        var self = context.Vcpu.Endpoint;
        var handle = new MemoryHandle(payload.Arg1);
        var request = new MemoryTransactionDescriptor { Header = new MemoryTransactionHeader(new EndpointId((ushort)payload.Arg2), default, default, handle, 0) };
        request.Receivers.Add(new EndpointMemoryAccess(self, MemoryAccessPermissions.Of(DataAccess.ReadOnly, InstructionAccess.NotSpecified)));
        var bytes = request.Encode(version, MtdShape.RetrieveRequest);
        context.Memory.TryWrite(context.Buffers.Tx, bytes, out _);
        var frame = default(RegisterFrame);
        new MemRetrieveReq(true, MemoryTransaction.InTxBuffer((uint)bytes.Length)).Encode(ref frame);
        frame = await context.CallAsync(frame);
        if (!MemRetrieveResp.TryDecode(frame, out var response, out _))
        {
            return payload with { Arg1 = 0, Arg2 = 0, Arg3 = 0, Arg4 = frame.W(2) };
        }

        var rx = new byte[response.FragmentLength];
        context.Memory.TryRead(context.Buffers.Rx, rx, out _);
        new RxRelease(EndpointId.Hypervisor).Encode(ref frame);
        await context.CallAsync(frame);
        if (!MemoryTransactionDescriptorReader.TryRead(rx, version, MtdShape.RetrieveResponse, out var view, out _) || view.Constituents.Count == 0)
        {
            return payload with { Arg1 = 0, Arg4 = unchecked((uint)(int)FfaError.Aborted) };
        }

        var data = new byte[16];
        context.Memory.TryRead(view.GetConstituent(0).Address, data, out _);
        var relinquish = new MemoryRelinquish { Handle = handle };
        relinquish.Endpoints.Add(self);
        context.Memory.TryWrite(context.Buffers.Tx, relinquish.Encode(), out _);
        new MemRelinquish().Encode(ref frame);
        frame = await context.CallAsync(frame);
        return new DirectMessagePayload(payload.Arg0, (ulong)data.Length, BinaryPrimitives.ReadUInt64LittleEndian(data), BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(8)), FfaStatus.Of(frame).IsOk ? 0 : frame.W(2));
    }

    /// <summary>
    /// The demo client's part: writes a line into the first page of its RAM, shares the page with the borrower,
    /// asks it (a direct request) to read the page, logs what came back, and reclaims the page.
    /// </summary>
    public static async ValueTask ShareAndAskAsync(EndpointContext context, FfaDriver driver, FfaDevice borrower, string text)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentNullException.ThrowIfNull(borrower);
        var page = context.Memory.Stage2.Entries().First().Key << 12; // the lowest page of this endpoint's RAM
        var line = new byte[16];
        System.Text.Encoding.ASCII.GetBytes(text.AsSpan(0, Math.Min(16, text.Length)), line);
        context.Memory.TryWrite(page, line, out _);
        var (status, handle) = await driver.Memory.ShareAsync(
            [new EndpointMemoryAccess(borrower.Id, MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified))],
            [new MemoryRegionConstituent(page, 1)]);
        if (!status.IsOk)
        {
            context.Log($"MEM_SHARE of a page to {borrower.Id}: {status}");
            return;
        }

        // The borrower may be busy (handling an interrupt, say): a driver retries BUSY, a bounded number of times.
        var ask = new DirectMessagePayload(ReadShared, handle.Value, driver.Id.Value, 0, 0);
        var answer = await driver.Messaging.SyncSendReceiveAsync(borrower, ask);
        for (var attempt = 0; attempt < 1_000 && answer.Status.Error == FfaError.Busy; attempt++)
        {
            answer = await driver.Messaging.SyncSendReceiveAsync(borrower, ask);
        }

        if (!answer.IsOk)
        {
            context.Log($"MEM_SHARE of a page to {borrower.Id}: handle {handle}; asking it to read: {answer.Status}; MEM_RECLAIM: {await driver.Memory.ReclaimAsync(handle)}");
            return;
        }

        var read = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(read, answer[5]);
        BinaryPrimitives.WriteUInt64LittleEndian(read.AsSpan(8), answer[6]);
        var reclaimed = await driver.Memory.ReclaimAsync(handle);
        context.Log($"MEM_SHARE of a page to {borrower.Id}: handle {handle}; it read \"{System.Text.Encoding.ASCII.GetString(read).TrimEnd('\0')}\" through its own map; MEM_RECLAIM: {reclaimed}");
    }
}
