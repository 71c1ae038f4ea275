using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Machine;

namespace Firmament.Gunyah;

// Doorbell and message-queue hypercalls. Each handler decodes its view (a reserved slot or MBZ bits set:
// ARGUMENT_INVALID), looks its caps up in the caller's cspace (the lookup's own error), then checks the object's state
// and the call's arguments, and only then acts. Rights: doorbell send SEND; receive, reset and mask RECEIVE; bind and
// unbind BIND (+ VIC BIND_SOURCE to bind). Message queue send and configure_send SEND; receive, flush and
// configure_receive RECEIVE; bind/unbind of the send VIRQ BIND_SEND, of the receive VIRQ BIND_RECEIVE; configure the
// generic ACTIVATE right on a queue still in INIT.
public sealed partial class GunyahHypervisor
{
    private static GunyahError ActiveDoorbell(GunyahVm vm, CapId cap, DoorbellRights rights, out Doorbell doorbell)
    {
        var error = vm.Cspace.Lookup(cap, GunyahObjectType.Doorbell, (uint)rights, out doorbell);
        return error != GunyahError.Ok ? error : doorbell.State != GunyahObjectState.Active ? GunyahError.ObjectState : GunyahError.Ok;
    }

    private static CallOutcome DoorbellBindVirq(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.DoorbellBindVirq.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = ActiveDoorbell(vm, call.Doorbell, DoorbellRights.Bind, out var doorbell);
        if (error == GunyahError.Ok)
        {
            error = vm.Cspace.Lookup<Vic>(call.Vic, GunyahObjectType.Vic, (uint)VicRights.BindSource, out var vic);
            error = error == GunyahError.Ok ? vic.Bind(doorbell.Source, call.Virq) : error;
        }

        return Result(ref frame, error);
    }

    private static CallOutcome DoorbellUnbindVirq(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.DoorbellUnbindVirq.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = ActiveDoorbell(vm, call.Doorbell, DoorbellRights.Bind, out var doorbell);
        return Result(ref frame, error == GunyahError.Ok ? Vic.Unbind(doorbell.Source) : error);
    }

    private static CallOutcome DoorbellSend(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.DoorbellSend.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = ActiveDoorbell(vm, call.Doorbell, DoorbellRights.Send, out var doorbell);
        var old = error == GunyahError.Ok ? doorbell.Send(call.NewFlags) : 0;
        Result(ref frame, error);
        frame[1] = old;
        return CallOutcome.Completed;
    }

    private static CallOutcome DoorbellReceive(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.DoorbellReceive.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        ulong old = 0;
        var error = ActiveDoorbell(vm, call.Doorbell, DoorbellRights.Receive, out var doorbell);
        if (error == GunyahError.Ok)
        {
            error = doorbell.Receive(call.ClearFlags, out old);
            old = error == GunyahError.Ok ? old : 0;
        }

        Result(ref frame, error);
        frame[1] = old;
        return CallOutcome.Completed;
    }

    private static CallOutcome DoorbellReset(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.DoorbellReset.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = ActiveDoorbell(vm, call.Doorbell, DoorbellRights.Receive, out var doorbell);
        if (error == GunyahError.Ok)
        {
            doorbell.Reset();
        }

        return Result(ref frame, error);
    }

    private static CallOutcome DoorbellMask(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.DoorbellMask.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = ActiveDoorbell(vm, call.Doorbell, DoorbellRights.Receive, out var doorbell);
        if (error == GunyahError.Ok)
        {
            doorbell.Mask(call.EnableMask, call.AckMask);
        }

        return Result(ref frame, error);
    }

    private static GunyahError Queue(GunyahVm vm, CapId cap, MsgqueueRights rights, out Msgqueue queue) =>
        vm.Cspace.Lookup(cap, GunyahObjectType.Msgqueue, (uint)rights, out queue);

    private static CallOutcome MsgqueueBindVirq(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention, bool send)
    {
        CapId queueCap, vicCap;
        VirqInfo virq;
        bool ok;
        if (send)
        {
            ok = MsgqueueBindSendVirq.TryDecode(frame, convention, out var call, out _);
            (queueCap, vicCap, virq) = (call.Msgqueue, call.Vic, call.Virq);
        }
        else
        {
            ok = MsgqueueBindReceiveVirq.TryDecode(frame, convention, out var call, out _);
            (queueCap, vicCap, virq) = (call.Msgqueue, call.Vic, call.Virq);
        }

        if (!ok)
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, queueCap, send ? MsgqueueRights.BindSend : MsgqueueRights.BindReceive, out var queue);
        if (error == GunyahError.Ok)
        {
            error = vm.Cspace.Lookup<Vic>(vicCap, GunyahObjectType.Vic, (uint)VicRights.BindSource, out var vic);
            error = error == GunyahError.Ok ? vic.Bind(send ? queue.SendSource : queue.ReceiveSource, virq) : error;
        }

        return Result(ref frame, error);
    }

    private static CallOutcome MsgqueueUnbindVirq(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention, bool send)
    {
        CapId queueCap;
        bool ok;
        if (send)
        {
            ok = MsgqueueUnbindSendVirq.TryDecode(frame, convention, out var call, out _);
            queueCap = call.Msgqueue;
        }
        else
        {
            ok = MsgqueueUnbindReceiveVirq.TryDecode(frame, convention, out var call, out _);
            queueCap = call.Msgqueue;
        }

        if (!ok)
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, queueCap, send ? MsgqueueRights.BindSend : MsgqueueRights.BindReceive, out var queue);
        return Result(ref frame, error == GunyahError.Ok ? Vic.Unbind(send ? queue.SendSource : queue.ReceiveSource) : error);
    }

    private static CallOutcome MsgqueueSend(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.MsgqueueSend.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, call.Msgqueue, MsgqueueRights.Send, out var queue);
        var notFull = false;
        if (error == GunyahError.Ok)
        {
            notFull = queue.Count < queue.Depth;
            var size = call.Size > int.MaxValue ? int.MaxValue : (int)call.Size;
            error = queue.BeginSend(size, out var slot);
            if (error == GunyahError.Ok)
            {
                error = CopyIn(vm, call.Buffer, slot) ? GunyahError.Ok : GunyahError.AddrInvalid;
                notFull = error == GunyahError.Ok ? queue.CommitSend(size, call.IsPush) : notFull;
            }
        }

        Result(ref frame, error);
        frame[1] = notFull ? 1UL : 0;
        return CallOutcome.Completed;
    }

    private static CallOutcome MsgqueueReceive(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.MsgqueueReceive.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, call.Msgqueue, MsgqueueRights.Receive, out var queue);
        ulong size = 0;
        var notEmpty = false;
        if (error == GunyahError.Ok)
        {
            notEmpty = queue.Count > 0;
            error = queue.BeginReceive(call.BufferSize, out var message);
            if (error == GunyahError.Ok)
            {
                error = CopyOut(vm, call.Buffer, message) ? GunyahError.Ok : GunyahError.AddrInvalid;
                if (error == GunyahError.Ok)
                {
                    size = (ulong)message.Length;
                    notEmpty = queue.CommitReceive();
                }
            }
        }

        Result(ref frame, error);
        frame[1] = size;
        frame[2] = notEmpty ? 1UL : 0;
        return CallOutcome.Completed;
    }

    /// <summary>Copies a message from the VM's buffer; false when the buffer is not readable by the VM.</summary>
    private static bool CopyIn(GunyahVm vm, ulong buffer, Span<byte> slot)
    {
        if (vm.Memory is not { } memory)
        {
            return false;
        }

        if (vm.ReadWindow.TryGet(memory, buffer, slot.Length, out var window))
        {
            window.CopyTo(slot);
            return true;
        }

        return memory.TryRead(buffer, slot, out _);
    }

    /// <summary>Copies a message into the VM's buffer; false (and nothing written) when it is not writable by the VM.</summary>
    private static bool CopyOut(GunyahVm vm, ulong buffer, ReadOnlySpan<byte> message)
    {
        if (vm.Memory is not { } memory)
        {
            return false;
        }

        if (vm.WriteWindow.TryGet(memory, buffer, message.Length, out var window))
        {
            message.CopyTo(window);
            return true;
        }

        return memory.TryWrite(buffer, message, out _);
    }

    private static CallOutcome MsgqueueFlush(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.MsgqueueFlush.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, call.Msgqueue, MsgqueueRights.Receive, out var queue);
        return Result(ref frame, error == GunyahError.Ok ? queue.Flush() : error);
    }

    private static CallOutcome MsgqueueConfigureSend(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.MsgqueueConfigureSend.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, call.Msgqueue, MsgqueueRights.Send, out var queue);
        return Result(ref frame, error == GunyahError.Ok ? queue.ConfigureSend(call.Threshold, call.Delay) : error);
    }

    private static CallOutcome MsgqueueConfigureReceive(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.MsgqueueConfigureReceive.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, call.Msgqueue, MsgqueueRights.Receive, out var queue);
        return Result(ref frame, error == GunyahError.Ok ? queue.ConfigureReceive(call.Threshold, call.Delay) : error);
    }

    private static CallOutcome MsgqueueConfigure(GunyahVm vm, ref RegisterFrame frame, GunyahConvention convention)
    {
        if (!Abi.Gunyah.MsgqueueConfigure.TryDecode(frame, convention, out var call, out _))
        {
            return Result(ref frame, GunyahError.ArgumentInvalid);
        }

        var error = Queue(vm, call.Msgqueue, MsgqueueRights.Activate, out var queue);
        return Result(ref frame, error == GunyahError.Ok ? queue.Configure(call.CreateInfo) : error);
    }
}
