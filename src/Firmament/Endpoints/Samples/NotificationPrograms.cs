using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Endpoints.Samples;

/// <summary>
/// VM programs that make notification traffic for schedule exploration, written on the raw ABI. VM n's IDs are
/// 8(n−1) … 8(n−1)+7: a receiver binds each other VM's range to it; a sender sets the first three IDs of its range,
/// from every one of its vCPUs, for every VM that says it receives notifications (PARTITION_INFO_GET_REGS).
/// </summary>
public static class NotificationPrograms
{
    /// <summary>IDs each sender sets (the first of its range).</summary>
    public const int IdsPerSender = 3;

    private const int Attempts = 2_000;

    /// <summary>
    /// Every vCPU sets IDs 8(self−1) … +2, in order, for every VM receiver; a SET that is DENIED (the receiver has not
    /// bound it yet) or BUSY (an implementation that gave up delivering) is retried, a bounded number of times.
    /// </summary>
    public static async ValueTask Sender(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var self = context.Vcpu.Endpoint;
        await VersionAsync(context);
        var receivers = await ReceiversAsync(context);
        var first = (self.Value - 1) * 8;
        for (var id = first; id < first + IdsPerSender; id++)
        {
            foreach (var receiver in receivers)
            {
                var set = default(RegisterFrame);
                new NotificationSet(new SenderReceiver(self, receiver), NotificationSetFlags.None, 0, NotificationBitmap.Of(id)).Encode(ref set);
                for (var attempt = 0; attempt < Attempts; attempt++)
                {
                    var answer = await context.CallAsync(set);
                    var error = answer.W(0) == FfaFunctions.Id32(FfaFunction.Error) ? (FfaError?)(int)answer.W(2) : null;
                    if (error is not (FfaError.Denied or FfaError.Busy))
                    {
                        break;
                    }

                    await context.CallAsync(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.IdGet)));
                }
            }
        }
    }

    /// <summary>
    /// vCPU 0 binds every other VM's range to it (global); every vCPU takes its NPI with GET, and waits for the next
    /// (WFI) for ever.
    /// </summary>
    public static async ValueTask Receiver(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Interrupts is not { } interrupts)
        {
            return;
        }

        var self = context.Vcpu.Endpoint;
        await VersionAsync(context);
        var features = default(RegisterFrame);
        new Features(FeatureQuery.Of(FfaFeature.NotificationPendingInterrupt), 0).Encode(ref features);
        features = await context.CallAsync(features);
        if (features.W(0) != FfaFunctions.Id32(FfaFunction.Success))
        {
            return;
        }

        var get = default(RegisterFrame);
        new NotificationGet(context.Vcpu.Index, self, NotificationGetFlags.All).Encode(ref get);
        interrupts.Handle((int)features.W(2), async _ => await context.CallAsync(get));
        if (context.Vcpu.Index == 0)
        {
            foreach (var peer in await VmsAsync(context))
            {
                if (peer != self && peer.Value is > 0 and <= 8)
                {
                    var bind = default(RegisterFrame);
                    new NotificationBind(new SenderReceiver(peer, self), NotificationBindFlags.None, new NotificationBitmap(0xFFUL << ((peer.Value - 1) * 8)))
                        .Encode(ref bind);
                    await context.CallAsync(bind);
                }
            }
        }

        while (true)
        {
            await interrupts.WaitForInterruptAsync();
        }
    }

    private static async ValueTask VersionAsync(EndpointContext context)
    {
        var version = default(RegisterFrame);
        new VersionCall(FfaVersion.V1_2).Encode(ref version);
        await context.CallAsync(version);
    }

    private static async ValueTask<List<EndpointId>> ReceiversAsync(EndpointContext context) =>
        (await EntriesAsync(context))
            .Where(e => e.Id != context.Vcpu.Endpoint && !e.Id.IsSecure && (e.Properties & (uint)PartitionProperties.ReceivesNotifications) != 0)
            .Select(static e => e.Id)
            .ToList();

    private static async ValueTask<List<EndpointId>> VmsAsync(EndpointContext context) =>
        (await EntriesAsync(context)).Where(static e => !e.Id.IsSecure).Select(static e => e.Id).ToList();

    /// <summary>Every partition, from PARTITION_INFO_GET_REGS (no RX buffer needed: every vCPU may ask).</summary>
    private static async ValueTask<List<PartitionInfoRegsEntry>> EntriesAsync(EndpointContext context)
    {
        var entries = new List<PartitionInfoRegsEntry>();
        ushort start = 0;
        while (true)
        {
            var call = default(RegisterFrame);
            new PartitionInfoGetRegs(Uuid.Nil, start, 0).Encode(ref call);
            var answer = await context.CallAsync(call);
            if (!PartitionInfoGetRegsSuccess.TryDecode(answer, out var success, out _) || !success.TryRead(start, out var reader, out _))
            {
                return entries;
            }

            foreach (var entry in reader)
            {
                entries.Add(entry);
            }

            if (success.CurrentIndex >= success.LastIndex)
            {
                return entries;
            }

            start = (ushort)(success.CurrentIndex + 1);
        }
    }
}
