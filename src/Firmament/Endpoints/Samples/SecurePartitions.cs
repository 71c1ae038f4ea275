using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;

namespace Firmament.Endpoints.Samples;

/// <summary>
/// Secure-partition programs written against the raw register ABI: each initialises, calls FFA_MSG_WAIT, and then
/// serves what its MSG_WAIT (or its previous response) returns.
/// </summary>
public static class SecurePartitions
{
    /// <summary>Payload word 0 asking an echo partition to FFA_YIELD once before it answers.</summary>
    public const ulong YieldFirst = 0x5945_4C44; // "YELD"

    /// <summary>Payload word 0 asking an echo partition to make a fast call (a preemption point) before it answers.</summary>
    public const ulong WorkFirst = 0x574F_524B; // "WORK"

    /// <summary>Payload word 0 asking an echo partition to read the indirect message in its RX buffer and answer its length and sum.</summary>
    public const ulong ReadMailbox = 0x4D41_494C; // "MAIL"

    /// <summary>
    /// Payload word 0 asking an echo partition to set notification ID word 1 for the requester, or for the endpoint in
    /// word 3 when it is not 0 (word 2 = 1: delay the SRI); it answers the status in word 1.
    /// </summary>
    public const ulong NotifyMe = 0x4E54_4659; // "NTFY"

    /// <summary>Payload word 0 asking a partition to bind notification ID word 1 to the requester; it answers the status in word 1.</summary>
    public const ulong BindFromMe = 0x424E_4421; // "BND!"

    /// <summary>Payload word 0 that makes the faulty partition fault.</summary>
    public const ulong Crash = 0xDEAD;

    /// <summary>
    /// Echoes every direct request: DIRECT_REQ gets DIRECT_RESP with the same five payload registers, REQ2 gets RESP2
    /// with the same fourteen; framework VM created/destroyed messages get their success response. Special first
    /// payload words ask it to yield, to work a little, or to read its RX buffer first.
    /// </summary>
    public static async ValueTask Echo(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var frame = default(RegisterFrame);
        new VersionCall(FfaVersion.V1_2).Encode(ref frame);
        await context.CallAsync(frame);
        if (context.Vcpu.Index == 0 && !context.Buffers.MappedByManager)
        {
            // One RX/TX pair per partition: the primary vCPU maps it, unless its manifest had the SPMC do it.
            var buffers = context.Buffers;
            new RxTxMap(true, buffers.Tx, buffers.Rx, buffers.Pages).Encode(ref frame);
            await context.CallAsync(frame);
        }

        await EnableNotificationsAsync(context);
        frame = default;
        new MsgWait(MsgWaitFlags.None).Encode(ref frame);
        frame = await context.CallAsync(frame);
        while (true)
        {
            frame = await context.CallAsync(await AnswerAsync(context, frame));
        }
    }

    /// <summary>Answers every request with a zero payload: a partition that exists but does nothing.</summary>
    public static async ValueTask Idle(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var frame = RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait));
        frame = await context.CallAsync(frame);
        while (true)
        {
            frame = await context.CallAsync(IsRequest(frame, out var sender, out var receiver, out var is64)
                ? Response(is64, receiver, sender, default)
                : RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait)));
        }
    }

    /// <summary>Serves like <see cref="Echo"/> until it gets <see cref="Crash"/>, then faults (a managed exception).</summary>
    public static async ValueTask Faulty(EndpointContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var frame = await context.CallAsync(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait)));
        while (true)
        {
            if (frame.X3 == Crash)
            {
                throw new InvalidOperationException("the faulty partition was asked to crash");
            }

            frame = await context.CallAsync(await AnswerAsync(context, frame));
        }
    }

    /// <summary>
    /// Where the SPMC offers notifications, handles the NPI: it is taken at a call boundary, or wakes MSG_WAIT with
    /// FFA_INTERRUPT when the normal world's scheduler runs this SP for its notifications.
    /// </summary>
    private static async ValueTask EnableNotificationsAsync(EndpointContext context)
    {
        var frame = default(RegisterFrame);
        new Features(FeatureQuery.Of(FfaFeature.NotificationPendingInterrupt), 0).Encode(ref frame);
        frame = await context.CallAsync(frame);
        if (frame.W(0) == FfaFunctions.Id32(FfaFunction.Success) && context.Interrupts is { } interrupts)
        {
            interrupts.Handle((int)frame.W(2), _ => TakeNotificationsAsync(context));
        }
    }

    private static async ValueTask TakeNotificationsAsync(EndpointContext context)
    {
        var frame = default(RegisterFrame);
        new NotificationGet(context.Vcpu.Index, context.Vcpu.Endpoint, NotificationGetFlags.All).Encode(ref frame);
        frame = await context.CallAsync(frame);
        if (NotificationGetSuccess.TryDecode(frame, out var got, out _) && (got.SpBitmap.Bits | got.VmBitmap.Bits) != 0)
        {
            context.Log($"NPI: notifications from SPs 0x{got.SpBitmap.Bits:X}, from VMs 0x{got.VmBitmap.Bits:X}");
        }
    }

    private static async ValueTask<RegisterFrame> AnswerAsync(EndpointContext context, RegisterFrame request)
    {
        if (request.W(0) == FfaFunctions.Id32(FfaFunction.Interrupt) && context.Interrupts is { } interrupts)
        {
            // Woken for an interrupt (the NPI, when run for notifications): handle it, end it, wait again.
            var intid = (int)request.W(2);
            if (interrupts.HandlerOf(intid) is { } handler)
            {
                await handler(intid);
            }

            interrupts.EndOfInterrupt(intid);

            // Keep the RX buffer: a message may be in it (its RX-full notification was just taken), read on request.
            var wait = default(RegisterFrame);
            new MsgWait(MsgWaitFlags.RetainRxBuffer).Encode(ref wait);
            return wait;
        }

        if (MsgSendDirectReq2.TryDecode(request, out var req2, out _))
        {
            var answer2 = default(RegisterFrame);
            new MsgSendDirectResp2(new SenderReceiver(req2.Endpoints.Receiver, req2.Endpoints.Sender), req2.Payload).Encode(ref answer2);
            return answer2;
        }

        if (!MsgSendDirectReq.TryDecode(request, out var req, out _))
        {
            return RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait));
        }

        var back = new SenderReceiver(req.Endpoints.Receiver, req.Endpoints.Sender);
        if (req.Kind.IsFramework())
        {
            var kind = req.Kind == DirectMessageKind.VmDestroyed ? DirectMessageKind.VmDestroyedResponse : DirectMessageKind.VmCreatedResponse;
            context.Log($"{(kind == DirectMessageKind.VmCreatedResponse ? "VM created" : "VM destroyed")}: VM {new EndpointId((ushort)req.Payload.Arg2)}");
            var framework = default(RegisterFrame);
            new MsgSendDirectResp(false, back, kind, default).Encode(ref framework);
            return framework;
        }

        var payload = req.Payload;
        switch (payload.Arg0)
        {
            case YieldFirst:
                var yield = default(RegisterFrame);
                new Yield(default, 0).Encode(ref yield);
                await context.CallAsync(yield);
                break;
            case WorkFirst:
                var id = default(RegisterFrame);
                new IdGet().Encode(ref id);
                await context.CallAsync(id);
                break;
            case ReadMailbox:
                payload = await ReadMailboxAsync(context, payload);
                break;
            case NotifyMe:
                var set = default(RegisterFrame);
                var flags = payload.Arg2 == 1 ? NotificationSetFlags.DelaySri : NotificationSetFlags.None;
                var target = payload.Arg3 == 0 ? back.Receiver : new EndpointId((ushort)payload.Arg3);
                new NotificationSet(new SenderReceiver(back.Sender, target), flags, 0, NotificationBitmap.Of((int)(payload.Arg1 & 63))).Encode(ref set);
                set = await context.CallAsync(set);
                payload = payload with { Arg1 = set.W(0) == FfaFunctions.Id32(FfaFunction.Success) ? 0 : set.W(2) };
                break;
            case BindFromMe:
                var bind = default(RegisterFrame);
                new NotificationBind(new SenderReceiver(back.Receiver, back.Sender), NotificationBindFlags.None, NotificationBitmap.Of((int)(payload.Arg1 & 63))).Encode(ref bind);
                bind = await context.CallAsync(bind);
                payload = payload with { Arg1 = bind.W(0) == FfaFunctions.Id32(FfaFunction.Success) ? 0 : bind.W(2) };
                break;
            case SharedMemory.ReadShared:
                payload = await SharedMemory.ReadAsync(context, FfaVersion.V1_2, payload);
                break;
        }

        return Response(req.Is64, back.Sender, back.Receiver, payload);
    }

    private static async ValueTask<DirectMessagePayload> ReadMailboxAsync(EndpointContext context, DirectMessagePayload payload)
    {
        var bytes = new byte[context.Buffers.Pages * 4096];
        context.Memory.TryRead(context.Buffers.Rx, bytes, out _);
        var offset = BitConverter.ToUInt32(bytes, 8);
        var size = BitConverter.ToUInt32(bytes, 16);
        ulong sum = 0;
        for (var i = 0; i < size && offset + i < bytes.Length; i++)
        {
            sum += bytes[offset + i];
        }

        // The RX-buffer-full framework notification is taken before the buffer is given back (Hafnium refuses the release
        // while it is pending).
        var release = default(RegisterFrame);
        new NotificationGet(context.Vcpu.Index, context.Vcpu.Endpoint, NotificationGetFlags.SpmFrameworkBitmap | NotificationGetFlags.HypervisorFrameworkBitmap)
            .Encode(ref release);
        await context.CallAsync(release);
        new RxRelease(EndpointId.Hypervisor).Encode(ref release);
        await context.CallAsync(release);
        return payload with { Arg1 = size, Arg2 = sum };
    }

    private static bool IsRequest(in RegisterFrame frame, out EndpointId sender, out EndpointId receiver, out bool is64)
    {
        var ok = MsgSendDirectReq.TryDecode(frame, out var req, out _);
        sender = req.Endpoints.Sender;
        receiver = req.Endpoints.Receiver;
        is64 = req.Is64;
        return ok;
    }

    private static RegisterFrame Response(bool is64, EndpointId from, EndpointId to, DirectMessagePayload payload)
    {
        var frame = default(RegisterFrame);
        new MsgSendDirectResp(is64, new SenderReceiver(from, to), DirectMessageKind.Partition, payload).Encode(ref frame);
        return frame;
    }
}
