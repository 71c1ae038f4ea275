using System.Buffers.Binary;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Driver;
using Firmament.Machine;

namespace Firmament.Endpoints.Samples;

/// <summary>
/// VM programs that make memory-sharing traffic for schedule exploration: a lender that shares a page with every other
/// VM, tells it the handle in an indirect message, and reclaims as soon as it can (retrying DENIED while the borrower
/// holds it); a borrower that, when its NPI says a message arrived, retrieves the page, reads it, and relinquishes it.
/// The lender's reclaim and the borrower's retrieve race: whichever order the schedule picks, the answers must agree
/// with the page ownership.
/// </summary>
public static class MemoryPrograms
{
    private const int Rounds = 2;
    private const int Attempts = 20;

    /// <summary>Each round: write the page, share it with each VM peer, send the handle, reclaim.</summary>
    public static async ValueTask Lender(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Vcpu.Index != 0)
        {
            return;
        }

        var (_, driver) = await FfaDriver.ProbeAsync(context);
        if (driver is null)
        {
            return;
        }

        var page = context.Memory.Stage2.Entries().First().Key << PhysicalMemory.PageShift;
        foreach (var peer in driver.Devices.Where(d => !d.Id.IsSecure && d.Id != driver.Id).ToList())
        {
            for (var round = 0; round < Rounds; round++)
            {
                var pattern = new byte[16];
                BinaryPrimitives.WriteUInt64LittleEndian(pattern, 0x5E5E_0000UL + (ulong)round);
                context.Memory.TryWrite(page, pattern, out _);
                var (shared, handle) = await driver.Memory.ShareAsync(
                    [new EndpointMemoryAccess(peer.Id, MemoryAccessPermissions.Of(DataAccess.ReadOnly, InstructionAccess.NotSpecified))],
                    [new MemoryRegionConstituent(page, 1)]);
                if (!shared.IsOk)
                {
                    return;
                }

                var message = new byte[16];
                BinaryPrimitives.WriteUInt64LittleEndian(message, handle.Value);
                BinaryPrimitives.WriteUInt64LittleEndian(message.AsSpan(8), driver.Id.Value);
                for (var attempt = 0; attempt < Attempts && !(await driver.Messaging.IndirectSendAsync(peer.Id, message)).IsOk; attempt++)
                {
                    await Pause(context);
                }

                for (var attempt = 0; attempt < Attempts && (await driver.Memory.ReclaimAsync(handle)).Error == FfaError.Denied; attempt++)
                {
                    await Pause(context);
                }
            }
        }
    }

    /// <summary>Takes its NPI; for each message (a handle and its sender), retrieves the page, reads it, relinquishes it.</summary>
    public static async ValueTask Borrower(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Vcpu.Index != 0 || context.Interrupts is not { } interrupts)
        {
            return;
        }

        var (_, driver) = await FfaDriver.ProbeAsync(context);
        if (driver is null)
        {
            return;
        }

        driver.Notify.RxBufferFull = async _ =>
        {
            var (received, _, bytes) = await driver.Messaging.ReceiveIndirectAsync();
            if (received.IsOk && bytes.Length >= 16)
            {
                var ask = new DirectMessagePayload(SharedMemory.ReadShared, BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)), 0, 0);
                await SharedMemory.ReadAsync(context, driver.Version, ask);
            }
        };
        while (true)
        {
            await interrupts.WaitForInterruptAsync();
        }
    }

    private static ValueTask<RegisterFrame> Pause(EndpointContext context) =>
        context.CallAsync(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.IdGet)));
}
