using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;

namespace Firmament.Gunyah;

/// <summary>
/// A VM image the platform provides for RM-created VMs. Memory parcels are not built yet, so VM_CONFIG_IMAGE's
/// memparcel handle names one of these (its index in the platform's list) instead of a lent parcel holding the image.
/// </summary>
/// <param name="Name">The image's name (the VM's partition is named after it).</param>
/// <param name="Program">Name of the program the host runs on its vCPUs.</param>
/// <param name="Vcpus">vCPUs of the VM.</param>
/// <param name="Console">Whether the VM gets an RM console.</param>
/// <param name="Peer">Whether the RM wires a message-queue pair and a doorbell between the VM and its owner.</param>
public sealed record GunyahImage(string Name, string Program, int Vcpus = 1, bool Console = true, bool Peer = true);

/// <summary>What the RM needs from the platform: to create a VM's partition and vCPUs, and to tear it down.</summary>
public interface IGunyahVmHost
{
    /// <summary>Creates the partition for <paramref name="image"/> with VMID <paramref name="vmid"/>; null with a reason when it cannot.</summary>
    GunyahVm? CreateVm(ushort vmid, GunyahImage image, out string reason);

    /// <summary>IPA of the VM's RAM, where the RM writes its boot information (<see cref="RmBootInfo"/>).</summary>
    ulong RamBase(GunyahVm vm);

    /// <summary>Removes a VM's partition (its vCPUs stop for good).</summary>
    void DestroyVm(GunyahVm vm);
}

/// <summary>One hypervisor resource as VM_GET_HYP_RESOURCES describes it to the VM that holds it.</summary>
public readonly record struct RmResource(byte Type, ushort Partner, uint Handle, uint Label, CapId Cap, uint Virq);

/// <summary>The RM's record of a VM: state, owner, image, console sides, the resources it was given.</summary>
public sealed class RmVmRecord(ushort vmid, ushort owner)
{
    public ushort Vmid { get; } = vmid;

    /// <summary>VMID of the VM that allocated it (the RM's own for the primary).</summary>
    public ushort Owner { get; } = owner;

    public RmVmState State { get; internal set; }

    public RmOsState OsState { get; internal set; }

    public ushort AppStatus { get; internal set; }

    public GunyahImage? Image { get; internal set; }

    public GunyahVm? Vm { get; internal set; }

    /// <summary>Whether the VM has a console object, and which sides have it open.</summary>
    public bool HasConsole { get; internal set; }

    public bool ConsoleOpenBySelf { get; internal set; }

    public bool ConsoleOpenByOwner { get; internal set; }

    /// <summary>Resources this VM holds (its caps), by the VM they connect it to.</summary>
    public List<RmResource> Resources { get; } = [];

    public override string ToString() => $"RM VM 0x{Vmid:X} ({State.Name()})";
}
