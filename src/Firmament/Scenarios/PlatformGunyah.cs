using Firmament.Abi.Ffa;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;
using Firmament.Gunyah;

namespace Firmament.Scenarios;

/// <summary>A message queue the platform wires between two VMs (the sender gets SEND, the receiver RECEIVE).</summary>
public sealed record GunyahMsgqueueSpec(string Name, string Sender, string Receiver, ushort Depth = 8, ushort MaxMsgSize = 240, uint? TxVirq = null, uint? RxVirq = null);

/// <summary>
/// A doorbell the platform wires: SEND caps for its senders (also RECEIVE with source-can-clear), RECEIVE for its
/// receiver, the VIRQ bound in the receiver's VIC — edge (a plain interrupt) or level (a flag bitmap).
/// </summary>
public sealed record GunyahDoorbellSpec(string Name, IReadOnlyList<string> Senders, string Receiver, bool Flags = false, bool SourceCanClear = false, uint? Virq = null);

/// <summary>The Gunyah part of a platform: which VM is the primary (the HLOS), the objects wired at boot, and VM images.</summary>
public sealed record GunyahPlatform
{
    /// <summary>The primary VM: it has the RM link from boot and may allocate VMs. Default: the first VM.</summary>
    public string? Primary { get; init; }

    /// <summary>VMs that also get a partition cap (OBJECT_CREATE) and caps to their own cspace and VIC.</summary>
    public IReadOnlyList<string> Privileged { get; init; } = [];

    public IReadOnlyList<GunyahMsgqueueSpec> Msgqueues { get; init; } = [];

    public IReadOnlyList<GunyahDoorbellSpec> Doorbells { get; init; } = [];

    /// <summary>Images VM_CONFIG_IMAGE names by index.</summary>
    public IReadOnlyList<GunyahImage> Images { get; init; } = [];

    /// <summary>Programs for image program names that are not in the catalogue (tests and embedders give their own).</summary>
    public IReadOnlyDictionary<string, Endpoints.EndpointProgram> ImagePrograms { get; init; } = new Dictionary<string, Endpoints.EndpointProgram>(StringComparer.Ordinal);
}

/// <summary>Reads a platform file's <c>gunyah:</c> section (docs/platform-files.md).</summary>
internal static class GunyahPlatformSection
{
    private static readonly string[] Keys = ["primary", "privileged", "msgqueues", "doorbells", "images"];
    private static readonly string[] QueueKeys = ["name", "sender", "receiver", "depth", "size", "tx-virq", "rx-virq"];
    private static readonly string[] DoorbellKeys = ["name", "senders", "receiver", "mode", "source-can-clear", "virq"];
    private static readonly string[] ImageKeys = ["name", "program", "vcpus", "console", "peer"];

    /// <summary>Names a scenario may use for caps besides the objects': the RM link, and a privileged VM's own objects.</summary>
    public static readonly string[] ReservedNames = ["rm-tx", "rm-rx", "cspace", "partition", "vic"];

    public static GunyahPlatform Parse(PlatformYaml yaml, YamlItem item, PlatformRoles roles, int pcpus, IReadOnlyList<PartitionConfig> partitions)
    {
        var map = yaml.Map(item, "the gunyah section", Keys);
        if (roles == PlatformRoles.KernelAndSpmc)
        {
            throw yaml.Fail(item, "gunyah: needs the hypervisor (roles hypervisor+spmc or hypervisor)");
        }

        var vms = partitions.Where(static p => p.Kind == PartitionKind.Vm).Select(static p => p.Name).ToHashSet(StringComparer.Ordinal);
        if (vms.Count == 0)
        {
            throw yaml.Fail(item, "gunyah: needs at least one VM (the primary)");
        }

        string Vm(YamlItem at, string key)
        {
            var name = yaml.Text(at, key);
            return vms.Contains(name) ? name : throw yaml.Fail(at, $"{key} '{name}' is not a VM of this platform");
        }

        var names = new HashSet<string>(ReservedNames, StringComparer.Ordinal);
        string Name(YamlMap node)
        {
            var at = Get(node, "name") ?? throw yaml.Fail(node, "name is required");
            var name = yaml.Text(at, "name");
            return names.Add(name) ? name : throw yaml.Fail(at, $"'{name}' is already used (object names are unique, and {string.Join(", ", ReservedNames)} are reserved)");
        }

        var virqs = new HashSet<(string Vm, uint Virq)>();
        uint? Virq(YamlMap node, string key, string vm)
        {
            if (Get(node, key) is not { } at)
            {
                return null;
            }

            var virq = (uint)yaml.Integer(at, key, 32, ResourceManager.FirstVirq - 1);
            return virqs.Add((vm, virq)) ? virq : throw yaml.Fail(at, $"VIRQ {virq} is already bound in {vm}'s VIC");
        }

        var queues = new List<GunyahMsgqueueSpec>();
        foreach (var q in Get(map, "msgqueues") is { } list ? yaml.List(list, "msgqueues") : [])
        {
            var node = yaml.Map(q, "a message queue", QueueKeys);
            var name = Name(node);
            var sender = Vm(Get(node, "sender") ?? throw yaml.Fail(node, "sender is required"), "sender");
            var receiver = Vm(Get(node, "receiver") ?? throw yaml.Fail(node, "receiver is required"), "receiver");
            if (sender == receiver)
            {
                throw yaml.Fail(node, $"message queue {name}: sender and receiver are both {sender} (a queue joins two VMs)");
            }

            var depth = Get(node, "depth") is { } d ? (ushort)yaml.Integer(d, "depth", 1, MsgqueueCreateInfo.MaxQueueDepth) : (ushort)8;
            var size = Get(node, "size") is { } s ? (ushort)yaml.Integer(s, "size", 1, MsgqueueCreateInfo.MaxMaxMsgSize) : (ushort)240;
            queues.Add(new GunyahMsgqueueSpec(name, sender, receiver, depth, size, Virq(node, "tx-virq", sender), Virq(node, "rx-virq", receiver)));
        }

        var doorbells = new List<GunyahDoorbellSpec>();
        foreach (var b in Get(map, "doorbells") is { } list ? yaml.List(list, "doorbells") : [])
        {
            var node = yaml.Map(b, "a doorbell", DoorbellKeys);
            var name = Name(node);
            var sendersItem = Get(node, "senders") ?? throw yaml.Fail(node, "senders is required");
            var senders = yaml.List(sendersItem, "senders").Select(s => Vm(s, "senders")).ToList();
            var receiver = Vm(Get(node, "receiver") ?? throw yaml.Fail(node, "receiver is required"), "receiver");
            if (senders.Count == 0 || senders.Contains(receiver, StringComparer.Ordinal) || senders.Distinct(StringComparer.Ordinal).Count() != senders.Count)
            {
                throw yaml.Fail(sendersItem, $"doorbell {name}: senders must be one or more distinct VMs other than the receiver");
            }

            var mode = Get(node, "mode") is { } m ? yaml.Text(m, "mode") : "interrupt";
            if (mode is not ("interrupt" or "flags"))
            {
                throw yaml.Fail(Get(node, "mode")!, $"mode '{mode}' is not interrupt (edge VIRQ) or flags (level VIRQ, flag bitmap)");
            }

            var clear = Get(node, "source-can-clear") is { } c && yaml.Boolean(c, "source-can-clear");
            doorbells.Add(new GunyahDoorbellSpec(name, senders, receiver, mode == "flags", clear, Virq(node, "virq", receiver)));
        }

        var images = new List<GunyahImage>();
        foreach (var i in Get(map, "images") is { } list ? yaml.List(list, "images") : [])
        {
            var node = yaml.Map(i, "an image", ImageKeys);
            var at = Get(node, "name") ?? throw yaml.Fail(node, "name is required");
            var name = yaml.Text(at, "name");
            var programAt = Get(node, "program") ?? throw yaml.Fail(node, "program is required");
            var program = yaml.Text(programAt, "program");
            if (!ProgramCatalog.TryGet(program, out _))
            {
                throw yaml.Fail(programAt, $"unknown program '{program}' (known: {string.Join(", ", ProgramCatalog.Names)})");
            }

            images.Add(new GunyahImage(
                name,
                program,
                Get(node, "vcpus") is { } v ? (int)yaml.Integer(v, "vcpus", 1, (ulong)pcpus) : 1,
                Get(node, "console") is not { } console || yaml.Boolean(console, "console"),
                Get(node, "peer") is not { } peer || yaml.Boolean(peer, "peer")));
        }

        return new GunyahPlatform
        {
            Primary = Get(map, "primary") is { } primary ? Vm(primary, "primary") : null,
            Privileged = Get(map, "privileged") is { } privileged ? yaml.List(privileged, "privileged").Select(p => Vm(p, "privileged")).ToList() : [],
            Msgqueues = queues,
            Doorbells = doorbells,
            Images = images,
        };
    }

    private static YamlItem? Get(YamlMap map, string key) =>
        map.Entries.FirstOrDefault(e => string.Equals(e.Key.Value, key, StringComparison.Ordinal)).Value;
}

/// <summary>
/// The platform's Gunyah wiring: the hypervisor's Gunyah service, every VM registered with it, the Resource Manager
/// with the primary's RPC link, the objects the platform file declares (their caps by VM and name, for scenarios), and
/// the host side of VM creation (a VM the RM creates is a new hypervisor partition running a catalogue program, its
/// vCPUs proxy-scheduled by its owner).
/// </summary>
public sealed partial class Platform : IGunyahVmHost
{
    private readonly Dictionary<(string Vm, string Name), CapId> _caps = [];

    /// <summary>The hypervisor's Gunyah service, when the platform has a gunyah section.</summary>
    public GunyahHypervisor? Gunyah { get; private set; }

    public ResourceManager? ResourceManager { get; private set; }

    /// <summary>The cap <paramref name="vm"/> holds for the object named <paramref name="name"/> (or rm-tx, rm-rx, cspace, partition, vic).</summary>
    public bool TryGetCap(string vm, string name, out CapId cap) => _caps.TryGetValue((vm, name), out cap);

    /// <summary>Remembers a cap under a name for a VM (a scenario's saved result).</summary>
    public void NameCap(string vm, string name, CapId cap) => _caps[(vm, name)] = cap;

    private void SetUpGunyah(GunyahPlatform spec)
    {
        var gunyah = new GunyahHypervisor(Scheduler, Description.Seed);
        Gunyah = gunyah;
        Hypervisor!.Gunyah = gunyah;
        var vms = new Dictionary<string, GunyahVm>(StringComparer.Ordinal);
        foreach (var partition in _partitions.Where(static p => p.Config.Kind == PartitionKind.Vm))
        {
            vms[partition.Name] = gunyah.AddVm(partition.Id.Value, partition.Name, partition.Memory, partition.Vcpus);
        }

        var rm = new ResourceManager(gunyah, this, spec.Images) { Pages = Pages };
        ResourceManager = rm;
        var primaryName = spec.Primary ?? vms.Keys.First();
        var link = rm.AddPrimary(vms[primaryName]);
        _caps[(primaryName, "rm-tx")] = link.TxCap;
        _caps[(primaryName, "rm-rx")] = link.RxCap;

        foreach (var q in spec.Msgqueues)
        {
            var queue = rm.CreateMsgqueue(q.Name, q.Depth, q.MaxMsgSize);
            _caps[(q.Sender, q.Name)] = ResourceManager.Grant(queue, vms[q.Sender], (uint)MsgqueueRights.Send);
            _caps[(q.Receiver, q.Name)] = ResourceManager.Grant(queue, vms[q.Receiver], (uint)MsgqueueRights.Receive);
            Bind(queue.SendSource, vms[q.Sender], q.TxVirq, VirqTrigger.Edge);
            Bind(queue.ReceiveSource, vms[q.Receiver], q.RxVirq, VirqTrigger.Edge);
        }

        foreach (var d in spec.Doorbells)
        {
            var doorbell = rm.CreateDoorbell(d.Name);
            var senderRights = (uint)(DoorbellRights.Send | (d.SourceCanClear ? DoorbellRights.Receive : 0));
            foreach (var sender in d.Senders)
            {
                _caps[(sender, d.Name)] = ResourceManager.Grant(doorbell, vms[sender], senderRights);
            }

            _caps[(d.Receiver, d.Name)] = ResourceManager.Grant(doorbell, vms[d.Receiver], (uint)DoorbellRights.Receive);
            Bind(doorbell.Source, vms[d.Receiver], d.Virq, d.Flags ? VirqTrigger.Level : VirqTrigger.Edge);
        }

        var partitionObject = new PartitionObject { State = GunyahObjectState.Active };
        foreach (var name in spec.Privileged)
        {
            var vm = vms[name];
            _caps[(name, "partition")] = ResourceManager.Grant(partitionObject, vm, (uint)(PartitionRights.ObjectCreate | PartitionRights.Activate));
            _caps[(name, "cspace")] = ResourceManager.Grant(vm.Cspace, vm, GunyahHypervisor.AllRights);
            _caps[(name, "vic")] = ResourceManager.Grant(vm.Vic, vm, GunyahHypervisor.AllRights);
        }
    }

    private static void Bind(VirqSource source, GunyahVm vm, uint? virq, VirqTrigger trigger)
    {
        if (virq is { } number)
        {
            source.Trigger = trigger;
            var error = vm.Vic.Bind(source, new VirqInfo(number, 0));
            if (error != GunyahError.Ok)
            {
                throw new ArgumentException($"{vm}: VIRQ {number} for {source.Name}: {error.Name()}", nameof(virq));
            }
        }
        else
        {
            ResourceManager.BindNew(source, vm, trigger);
        }
    }

    GunyahVm? IGunyahVmHost.CreateVm(ushort vmid, GunyahImage image, out string reason)
    {
        reason = string.Empty;
        if (!(Description.Gunyah!.ImagePrograms.TryGetValue(image.Program, out var program) || ProgramCatalog.TryGet(image.Program, out program))
            || Hypervisor?.Endpoint(new EndpointId(vmid)) is not null)
        {
            reason = $"image {image.Name}: program {image.Program} unknown or VMID 0x{vmid:X} in use";
            return null;
        }

        // Named after the image and VMID; a VMID used again after a reset gets a fresh name (destroyed VMs stay in
        // Partitions, so their trace events keep a name).
        var name = $"{image.Name}{vmid:x}";
        for (var n = 2; _partitions.Exists(p => p.Name == name); n++)
        {
            name = $"{image.Name}{vmid:x}_{n}";
        }

        var config = new PartitionConfig
        {
            Name = name,
            Id = new EndpointId(vmid),
            Kind = PartitionKind.Vm,
            VcpuCount = image.Vcpus,
            Program = program,
            ProgramName = image.Program,
        };
        Add(config);
        var partition = _byName[config.Name];
        var vm = Gunyah!.AddVm(vmid, config.Name, partition.Memory, partition.Vcpus);
        Gunyah.MakeProxyScheduled(vm, Hypervisor!);
        return vm;
    }

    ulong IGunyahVmHost.RamBase(GunyahVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return _byName.TryGetValue(vm.Name, out var partition) && partition.Config.Memory.Count > 0 ? partition.Config.Memory[0].Address : DefaultVmRam;
    }

    void IGunyahVmHost.DestroyVm(GunyahVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        Hypervisor?.DestroyVm(new EndpointId(vm.Vmid));
        _byName.Remove(vm.Name);
    }
}
