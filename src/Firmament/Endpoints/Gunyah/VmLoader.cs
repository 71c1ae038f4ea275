using System.Buffers.Binary;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;

namespace Firmament.Endpoints.Gunyah;

/// <summary>Why <see cref="VmLoader.RunAsync"/> came back (the vcpu_run page's exit reasons, as a VMM sees them).</summary>
public enum VcpuExitReason : byte
{
    /// <summary>The vCPU yielded or was preempted: run it again.</summary>
    Ready = 0,

    /// <summary>It waits for an interrupt (PSCI CPU_SUSPEND): run it again once one is sent.</summary>
    Sleeping,

    /// <summary>The VM stopped: <see cref="VcpuExit.ExitType"/> and <see cref="VcpuExit.ExitReason"/> say how.</summary>
    Exited,

    /// <summary>It faulted (or the VM crashed).</summary>
    Crashed,

    /// <summary>It asked for a system reset.</summary>
    SystemReset,

    /// <summary>vcpu_run failed; <see cref="VcpuExit.Error"/> says why.</summary>
    Error,
}

/// <summary>A vCPU exit: the reason, vcpu_run's raw state, and for an exited VM its VM_EXITED type and reason word.</summary>
public readonly record struct VcpuExit(VcpuExitReason Reason, VcpuRunResult Run, GunyahError Error, ushort ExitType = 0, uint ExitReason = 0);

/// <summary>A VM the loader created: its VMID and the resources the RM gave its owner for it.</summary>
public sealed class LoadedVm(ushort vmid)
{
    public ushort Vmid { get; } = vmid;

    /// <summary>vCPU caps (AFFINITY|YIELD_TO), by index.</summary>
    public List<CapId> Vcpus { get; } = [];

    /// <summary>Every resource the owner holds for this VM (vCPUs, message queues, doorbells).</summary>
    public List<RmHypResource> Resources { get; } = [];

    /// <summary>The last VM_EXITED seen for it.</summary>
    public (ushort Type, uint Reason)? Exit { get; internal set; }

    /// <summary>The owner's cap of a resource type (see RM resource types), or invalid.</summary>
    public CapId CapOf(byte type) => Resources.FirstOrDefault(r => r.Type == type) is { Cap.IsValid: true } r ? r.Cap : CapId.Invalid;

    public uint VirqOf(byte type) => Resources.FirstOrDefault(r => r.Type == type).Virq;
}

/// <summary>
/// A userspace-style VM loader on the RM, shaped like the Gunyah KVM-like ioctls: <see cref="CreateVmAsync"/>
/// (CREATE_VM → VM_ALLOCATE), <see cref="SetImageAsync"/> (memory and image → VM_CONFIG_IMAGE naming a platform image;
/// memory parcels are not built yet, so the image slot carries the VM's memory), <see cref="StartAsync"/> (VM_INIT,
/// VM_GET_HYP_RESOURCES, VM_START), <see cref="RunAsync"/> (VCPU_RUN → vcpu_run, with exits), and
/// <see cref="DestroyAsync"/> (VM_STOP if running, VM_RESET, VM_DEALLOCATE).
/// </summary>
public sealed class VmLoader
{
    private readonly GunyahCaller _caller;
    private readonly Dictionary<ushort, LoadedVm> _vms = [];

    public VmLoader(RmClient rm, GunyahCaller caller)
    {
        ArgumentNullException.ThrowIfNull(rm);
        Rm = rm;
        _caller = caller;
        rm.Observer += notification =>
        {
            if (notification.Payload.Length >= 2 && _vms.TryGetValue(BinaryPrimitives.ReadUInt16LittleEndian(notification.Payload), out var vm))
            {
                Observe(vm, notification);
            }
        };
    }

    public RmClient Rm { get; }

    public async ValueTask<(RmError Error, LoadedVm? Vm)> CreateVmAsync()
    {
        var (error, vmid) = await Rm.AllocateAsync().ConfigureAwait(false);
        if (error != RmError.Ok)
        {
            return (error, null);
        }

        var vm = new LoadedVm(vmid);
        _vms[vmid] = vm;
        return (error, vm);
    }

    public ValueTask<RmError> SetImageAsync(LoadedVm vm, uint image)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return Rm.ConfigImageAsync(vm.Vmid, image);
    }

    /// <summary>VM_INIT, then learns the owner's resources for the VM, then VM_START.</summary>
    public async ValueTask<RmError> StartAsync(LoadedVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var error = await Rm.InitAsync(vm.Vmid).ConfigureAwait(false);
        if (error != RmError.Ok)
        {
            return error;
        }

        var (listed, resources) = await Rm.GetHypResourcesAsync(vm.Vmid).ConfigureAwait(false);
        if (listed != RmError.Ok)
        {
            return listed;
        }

        vm.Resources.AddRange(resources);
        vm.Vcpus.AddRange(resources.Where(static r => r.Type == RmResourceTypes.VirtualCpu).OrderBy(static r => r.Label).Select(static r => r.Cap));
        return await Rm.StartAsync(vm.Vmid).ConfigureAwait(false);
    }

    /// <summary>Runs vCPU <paramref name="index"/> until it exits to the loader (one vcpu_run, plus the exit's details).</summary>
    public async ValueTask<VcpuExit> RunAsync(LoadedVm vm, int index = 0)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var run = await _caller.VcpuRunAsync(vm.Vcpus[index]).ConfigureAwait(false);
        if (run.Error != GunyahError.Ok)
        {
            return new VcpuExit(VcpuExitReason.Error, run, run.Error);
        }

        switch (run.State)
        {
            case VcpuRunState.Ready or VcpuRunState.Blocked:
                return new VcpuExit(VcpuExitReason.Ready, run, GunyahError.Ok);
            case VcpuRunState.ExpectsWakeup:
                return new VcpuExit(VcpuExitReason.Sleeping, run, GunyahError.Ok);
            case VcpuRunState.Fault:
                return new VcpuExit(VcpuExitReason.Crashed, run, GunyahError.Ok);
            case VcpuRunState.PsciSystemReset:
                return new VcpuExit(VcpuExitReason.SystemReset, run, GunyahError.Ok);
            default:
                await Rm.PollAsync().ConfigureAwait(false);
                var exit = vm.Exit ?? (0, 0);
                return new VcpuExit(VcpuExitReason.Exited, run, GunyahError.Ok, exit.Type, exit.Reason);
        }
    }

    /// <summary>Records a VM_EXITED notification for <paramref name="vm"/>; false if it is for another VM or not one.</summary>
    public static bool Observe(LoadedVm vm, RmNotification notification)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(notification);
        var payload = notification.Payload;
        if (notification.Id != RmMessageId.VmExitedNotification || payload.Length < 8 || BinaryPrimitives.ReadUInt16LittleEndian(payload) != vm.Vmid)
        {
            return false;
        }

        var reason = payload.Length >= 12 ? BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(8)) : 0;
        vm.Exit = (BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(2)), reason);
        return true;
    }

    /// <summary>Stops the VM if it runs, resets it and frees its VMID.</summary>
    public async ValueTask<RmError> DestroyAsync(LoadedVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var (error, state, _, _) = await Rm.GetStateAsync(vm.Vmid).ConfigureAwait(false);
        if (error != RmError.Ok)
        {
            return error;
        }

        if (state is RmVmState.Running or RmVmState.Paused)
        {
            error = await Rm.StopAsync(vm.Vmid, force: true, reason: 3).ConfigureAwait(false);
            if (error != RmError.Ok)
            {
                return error;
            }
        }

        if (state != RmVmState.Load)
        {
            error = await Rm.ResetAsync(vm.Vmid).ConfigureAwait(false);
            if (error != RmError.Ok)
            {
                return error;
            }
        }

        error = await Rm.DeallocateAsync(vm.Vmid).ConfigureAwait(false);
        if (error == RmError.Ok)
        {
            _vms.Remove(vm.Vmid);
        }

        return error;
    }
}
