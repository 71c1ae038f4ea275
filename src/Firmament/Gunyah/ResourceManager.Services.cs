using System.Buffers.Binary;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;

namespace Firmament.Gunyah;

// The RM's services, one method per message ID; each validates the payload length (MSG_INVALID), the VMID and who
// asks (VMID_INVALID / DENIED) and the VM's state (VM_STATE) before it changes anything.
public sealed partial class ResourceManager
{
    /// <summary>Size of one VM_GET_HYP_RESOURCES descriptor.</summary>
    public const int ResourceDescriptorSize = 44;

    private RmError Serve(RmLink link, uint id, ReadOnlySpan<byte> request, Span<byte> reply, out int length)
    {
        length = 0;
        var caller = link.Vmid;
        switch ((RmMessageId)id)
        {
            case RmMessageId.VmGetVmid:
                if (request.Length != 0)
                {
                    return RmError.MsgInvalid;
                }

                BinaryPrimitives.WriteUInt32LittleEndian(reply, caller);
                length = 4;
                return RmError.Ok;
            case RmMessageId.VmGetOwner:
                if (request.Length != 0)
                {
                    return RmError.MsgInvalid;
                }

                BinaryPrimitives.WriteUInt32LittleEndian(reply, _records.TryGetValue(caller, out var own) ? own.Owner : Vmid);
                length = 4;
                return RmError.Ok;
            case RmMessageId.VmAllocate:
                return Allocate(caller, request, reply, out length);
            case RmMessageId.VmDeallocate:
                return Deallocate(caller, request);
            case RmMessageId.VmConfigImage:
                return ConfigImage(caller, request);
            case RmMessageId.VmInit:
                return Init(caller, request);
            case RmMessageId.VmStart:
                return Start(caller, request);
            case RmMessageId.VmStop:
                return Stop(caller, request);
            case RmMessageId.VmReset:
                return Reset(caller, request);
            case RmMessageId.VmGetState:
                return GetState(caller, request, reply, out length);
            case RmMessageId.VmGetHypResources:
                return GetHypResources(caller, request, reply, out length);
            case RmMessageId.VmSetStatus:
                return SetStatus(caller, request);
            case RmMessageId.VmExit:
                return Exit(caller, request);
            case RmMessageId.VmConsoleOpen:
            case RmMessageId.VmConsoleClose:
                return ConsoleOpenClose(caller, request, open: id == (uint)RmMessageId.VmConsoleOpen);
            case RmMessageId.VmConsoleWrite:
                return ConsoleWrite(caller, request, flush: false);
            case RmMessageId.VmConsoleFlush:
                return ConsoleWrite(caller, request, flush: true);
            case RmMessageId.MemLend or RmMessageId.MemShare or RmMessageId.MemDonate or RmMessageId.MemAccept
                or RmMessageId.MemRelease or RmMessageId.MemReclaim or RmMessageId.MemNotify:
                return ServeMemory(caller, (RmMessageId)id, request, reply, out length);
            default:
                return RmError.Unimplemented;
        }
    }

    /// <summary>The VM a request names (its u16 VMID at offset 0), if the caller owns it.</summary>
    private RmError Owned(ushort caller, ReadOnlySpan<byte> request, int expectedLength, RmError notOwner, out RmVmRecord record)
    {
        record = null!;
        if (request.Length != expectedLength)
        {
            return RmError.MsgInvalid;
        }

        if (!_records.TryGetValue(U16(request, 0), out record!) || record.Owner != caller)
        {
            return record is null ? RmError.VmidInvalid : notOwner;
        }

        return RmError.Ok;
    }

    private RmError Allocate(ushort caller, ReadOnlySpan<byte> request, Span<byte> reply, out int length)
    {
        length = 0;
        if (request.Length != 4)
        {
            return RmError.MsgInvalid;
        }

        if (caller != Primary)
        {
            return RmError.Denied;
        }

        var wanted = U16(request, 0);
        ushort vmid;
        if (wanted == 0)
        {
            vmid = FirstDynamicVmid;
            while (vmid < 0xC0 && (_records.ContainsKey(vmid) || _gunyah.Vm(vmid) is not null))
            {
                vmid++;
            }

            if (vmid >= 0xC0)
            {
                return RmError.NoResource;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(reply, vmid);
            length = 4;
        }
        else
        {
            if (wanted is 0 or > 63 || _records.ContainsKey(wanted) || _gunyah.Vm(wanted) is not null)
            {
                return RmError.VmidInvalid;
            }

            vmid = wanted;
        }

        _records[vmid] = new RmVmRecord(vmid, caller) { State = RmVmState.Load };
        return RmError.Ok;
    }

    private RmError Deallocate(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = Owned(caller, request, 4, RmError.VmidInvalid, out var record);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (record.State is not (RmVmState.Load or RmVmState.Reset))
        {
            return RmError.VmState;
        }

        _records.Remove(record.Vmid);
        return RmError.Ok;
    }

    private RmError ConfigImage(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = Owned(caller, request, 40, RmError.VmidInvalid, out var record);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (record.State is not (RmVmState.Load or RmVmState.Reset))
        {
            return RmError.VmState;
        }

        var auth = U16(request, 2);
        var handle = U32(request, 4);
        if (auth != 0)
        {
            return RmError.ArgumentInvalid; // only "no authentication" images exist here
        }

        if (handle >= Images.Count)
        {
            return RmError.HandleInvalid;
        }

        record.Image = Images[(int)handle];
        record.State = RmVmState.Init;
        return RmError.Ok;
    }

    private RmError Init(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = Owned(caller, request, 4, RmError.VmidInvalid, out var record);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (record.State != RmVmState.Init)
        {
            return RmError.VmState;
        }

        if (Host is null || _records.GetValueOrDefault(record.Owner)?.Vm is not { } owner || Host.CreateVm(record.Vmid, record.Image!, out _) is not { } vm)
        {
            record.State = RmVmState.InitFailed;
            return RmError.NoResource;
        }

        record.Vm = vm;
        record.HasConsole = record.Image!.Console;
        WriteBootInfo(Connect(vm), record.Owner);
        var ownerRecord = _records[record.Owner];
        foreach (var thread in vm.Threads)
        {
            var cap = Grant(thread, owner, (uint)(ThreadRights.Affinity | ThreadRights.YieldTo | ThreadRights.State));
            var virq = BindNew(thread.WakeupSource, owner);
            ownerRecord.Resources.Add(new RmResource(RmResourceTypes.VirtualCpu, vm.Vmid, HandleOf(thread), thread.Vcpu.Id.Index, cap, virq));
        }

        if (record.Image.Peer)
        {
            WirePeers(owner, ownerRecord, vm, record);
        }

        record.State = RmVmState.Ready;
        return RmError.Ok;
    }

    /// <summary>A message-queue pair and a doorbell each way between a VM and its owner (label 0 for all).</summary>
    private void WirePeers(GunyahVm owner, RmVmRecord ownerRecord, GunyahVm vm, RmVmRecord record)
    {
        foreach (var (from, fromRecord, to, toRecord) in new[] { (owner, ownerRecord, vm, record), (vm, record, owner, ownerRecord) })
        {
            var queue = CreateMsgqueue($"{from.Name}->{to.Name}", RmRpc.QueueDepth, RmRpc.PacketSize);
            var sendCap = Grant(queue, from, (uint)MsgqueueRights.Send);
            var sendVirq = BindNew(queue.SendSource, from);
            var receiveCap = Grant(queue, to, (uint)MsgqueueRights.Receive);
            var receiveVirq = BindNew(queue.ReceiveSource, to);
            fromRecord.Resources.Add(new RmResource(RmResourceTypes.MsgqueueSend, to.Vmid, HandleOf(queue), 0, sendCap, sendVirq));
            toRecord.Resources.Add(new RmResource(RmResourceTypes.MsgqueueReceive, from.Vmid, HandleOf(queue), 0, receiveCap, receiveVirq));

            var doorbell = CreateDoorbell($"{from.Name}->{to.Name}");
            var ring = Grant(doorbell, from, (uint)DoorbellRights.Send);
            var answer = Grant(doorbell, to, (uint)DoorbellRights.Receive);
            var bell = BindNew(doorbell.Source, to);
            fromRecord.Resources.Add(new RmResource(RmResourceTypes.DoorbellSource, to.Vmid, HandleOf(doorbell), 0, ring, 0));
            toRecord.Resources.Add(new RmResource(RmResourceTypes.Doorbell, from.Vmid, HandleOf(doorbell), 0, answer, bell));
        }
    }

    private uint HandleOf(GunyahObject target) => target.Caps.Count > 0 && target.Caps[0].Owner == Self.Cspace ? (uint)target.Caps[0].Index : 0;

    private RmError Start(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = Owned(caller, request, 4, RmError.Denied, out var record);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (record.State != RmVmState.Ready)
        {
            return RmError.VmState;
        }

        record.State = RmVmState.Running;
        record.OsState = RmOsState.Boot;
        foreach (var thread in record.Vm!.Threads)
        {
            GunyahHypervisor.PowerOn(thread);
        }

        NotifyStatus(record);
        return RmError.Ok;
    }

    private RmError Stop(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = Owned(caller, request, 8, RmError.VmidInvalid, out var record);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (record.State is not (RmVmState.Running or RmVmState.Paused))
        {
            return RmError.VmState;
        }

        var force = (request[2] & 1) != 0;
        var reason = U32(request, 4);
        if (!force)
        {
            Span<byte> shutdown = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(shutdown, reason);
            Notify(record.Vmid, RmMessageId.VmShutdownNotification, shutdown);
            return RmError.Ok;
        }

        _gunyah.StopVm(record.Vm!);
        Exited(record, VmExitType.VmStopForced, reason);
        return RmError.Ok;
    }

    private RmError Reset(ushort caller, ReadOnlySpan<byte> request)
    {
        var error = Owned(caller, request, 4, RmError.VmidInvalid, out var record);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (record.State is not (RmVmState.Exited or RmVmState.Ready or RmVmState.InitFailed))
        {
            return RmError.VmState;
        }

        record.State = RmVmState.Resetting;
        if (record.Vm is { } vm)
        {
            _gunyah.StopVm(vm);
            if (_links.Remove(vm.Vmid, out var link))
            {
                _bySource.Remove(link.ToRm.ReceiveSource);
                _bySource.Remove(link.FromRm.SendSource);
            }

            if (_records.GetValueOrDefault(record.Owner) is { Vm: { } owner } ownerRecord)
            {
                // The owner's caps to the VM's vCPUs and vdevices go; their VIRQs leave its VIC.
                foreach (var resource in ownerRecord.Resources.Where(r => r.Partner == vm.Vmid).ToList())
                {
                    if (owner.Cspace.TryGet(resource.Cap, out var cap) is GunyahError.Ok or GunyahError.CspaceCapRevoked)
                    {
                        UnbindSourcesOf(cap.Object, owner);
                        owner.Cspace.Remove(cap);
                    }

                    ownerRecord.Resources.Remove(resource);
                }
            }

            if (Pages is not null)
            {
                ReleaseParcelsOf(vm.Vmid);
            }

            Host?.DestroyVm(vm);
            _gunyah.RemoveVm(vm.Vmid);
            record.Vm = null;
        }

        record.Resources.Clear();
        record.ConsoleOpenByOwner = false;
        record.ConsoleOpenBySelf = false;
        record.State = RmVmState.Reset;
        NotifyStatus(record);
        return RmError.Ok;
    }

    private static void UnbindSourcesOf(GunyahObject target, GunyahVm vm)
    {
        var sources = target switch
        {
            Msgqueue q => new[] { q.SendSource, q.ReceiveSource },
            Doorbell d => [d.Source],
            GunyahThread t => [t.WakeupSource],
            _ => [],
        };
        foreach (var source in sources)
        {
            if (source.Sink is Vic vic && vic.Vm == vm)
            {
                Vic.Unbind(source);
            }
        }
    }

    private RmError GetState(ushort caller, ReadOnlySpan<byte> request, Span<byte> reply, out int length)
    {
        length = 0;
        if (request.Length != 4)
        {
            return RmError.MsgInvalid;
        }

        var vmid = U16(request, 0) is 0 ? caller : U16(request, 0);
        if (!_records.TryGetValue(vmid, out var record))
        {
            return RmError.VmidInvalid;
        }

        if (vmid != caller && record.Owner != caller)
        {
            return RmError.Denied;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(reply, RmVmStates.PackState(record.State, record.OsState, record.AppStatus));
        length = 4;
        return RmError.Ok;
    }

    private RmError GetHypResources(ushort caller, ReadOnlySpan<byte> request, Span<byte> reply, out int length)
    {
        length = 0;
        if (request.Length != 4)
        {
            return RmError.MsgInvalid;
        }

        var vmid = U16(request, 0) is 0 ? caller : U16(request, 0);
        if (!_records.TryGetValue(vmid, out _) || !_records.TryGetValue(caller, out var self))
        {
            return RmError.VmidInvalid;
        }

        var count = 0;
        var offset = 4;
        foreach (var resource in self.Resources)
        {
            if (vmid != caller && resource.Partner != vmid)
            {
                continue;
            }

            var entry = reply.Slice(offset, ResourceDescriptorSize);
            entry.Clear();
            entry[0] = resource.Type;
            BinaryPrimitives.WriteUInt16LittleEndian(entry[2..], resource.Partner);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], resource.Handle);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], resource.Label);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[12..], resource.Cap.Value);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], resource.Virq);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[24..], resource.Virq);
            offset += ResourceDescriptorSize;
            count++;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(reply, (uint)count);
        length = offset;
        return RmError.Ok;
    }

    private RmError SetStatus(ushort caller, ReadOnlySpan<byte> request)
    {
        if (request.Length != 4)
        {
            return RmError.MsgInvalid;
        }

        if (caller == Primary || !_records.TryGetValue(caller, out var record))
        {
            return RmError.Denied;
        }

        var os = request[1];
        if (os > (byte)RmOsState.Crashed)
        {
            return RmError.ArgumentInvalid;
        }

        if (os != 0)
        {
            record.OsState = (RmOsState)os;
        }

        record.AppStatus = U16(request, 2);
        NotifyStatus(record);
        return RmError.Ok;
    }

    private RmError Exit(ushort caller, ReadOnlySpan<byte> request)
    {
        if (request.Length != 4)
        {
            return RmError.MsgInvalid;
        }

        if (caller == Primary || !_records.TryGetValue(caller, out var record) || record.Vm is null)
        {
            return RmError.Denied;
        }

        if (record.State is not (RmVmState.Running or RmVmState.Paused))
        {
            return RmError.VmState;
        }

        var reason = U16(request, 0) | ((uint)request[2] << 16);
        _gunyah.StopVm(record.Vm);
        Exited(record, VmExitType.VmExit, reason);
        return RmError.Ok;
    }

    private RmError ConsoleOpenClose(ushort caller, ReadOnlySpan<byte> request, bool open)
    {
        if (request.Length != 4)
        {
            return RmError.MsgInvalid;
        }

        var error = Console(caller, U16(request, 0), out var record, out var self);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (self)
        {
            record.ConsoleOpenBySelf = open;
        }
        else
        {
            record.ConsoleOpenByOwner = open;
        }

        return RmError.Ok;
    }

    private RmError ConsoleWrite(ushort caller, ReadOnlySpan<byte> request, bool flush)
    {
        if (request.Length < 4 || (!flush && request.Length != 4 + U16(request, 2)) || (flush && request.Length != 4))
        {
            return RmError.MsgInvalid;
        }

        var error = Console(caller, U16(request, 0), out var record, out var self);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (!(self ? record.ConsoleOpenBySelf : record.ConsoleOpenByOwner))
        {
            return RmError.Denied;
        }

        var otherOpen = self ? record.ConsoleOpenByOwner : record.ConsoleOpenBySelf;
        if (flush || !otherOpen)
        {
            return RmError.Ok; // nothing is buffered; a write nobody reads is dropped with OK, as the RM does
        }

        var chars = new byte[request.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(chars, self ? record.Vmid : (ushort)0);
        request[2..].CopyTo(chars.AsSpan(2));
        Notify(self ? record.Owner : record.Vmid, RmMessageId.VmConsoleCharsNotification, chars);
        return RmError.Ok;
    }

    /// <summary>The console a request names: 0 is the caller's own; another VM's only for its owner (DENIED otherwise).</summary>
    private RmError Console(ushort caller, ushort vmid, out RmVmRecord record, out bool self)
    {
        self = vmid == 0 || vmid == caller;
        var target = self ? caller : vmid;
        if (!_records.TryGetValue(target, out record!))
        {
            return RmError.VmidInvalid;
        }

        if (!self && record.Owner != caller)
        {
            return RmError.Denied;
        }

        return record.HasConsole ? RmError.Ok : RmError.ArgumentInvalid;
    }

    private void OnVmExited(GunyahVm vm, VmExitType type, uint reason)
    {
        if (_records.TryGetValue(vm.Vmid, out var record) && record.State is RmVmState.Running or RmVmState.Paused)
        {
            Exited(record, type, reason);
        }
    }

    /// <summary>RUNNING/PAUSED → EXITED: VM_EXITED to the owner (exit type, a 4-byte reason) and VM_STATUS.</summary>
    private void Exited(RmVmRecord record, VmExitType type, uint reason)
    {
        record.State = RmVmState.Exited;
        Span<byte> exited = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(exited, record.Vmid);
        BinaryPrimitives.WriteUInt16LittleEndian(exited[2..], (ushort)type);
        BinaryPrimitives.WriteUInt32LittleEndian(exited[4..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(exited[8..], reason);
        Notify(record.Owner, RmMessageId.VmExitedNotification, exited);
        NotifyStatus(record);
    }

    /// <summary>VM_STATUS to the VM's owner.</summary>
    private void NotifyStatus(RmVmRecord record)
    {
        Span<byte> status = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(status, record.Vmid);
        status[4] = (byte)record.State;
        status[5] = (byte)record.OsState;
        BinaryPrimitives.WriteUInt16LittleEndian(status[6..], record.AppStatus);
        Notify(record.Owner, RmMessageId.VmStatusNotification, status);
    }
}
