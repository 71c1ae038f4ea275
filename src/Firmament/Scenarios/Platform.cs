using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Endpoints;
using Firmament.Endpoints.Emulation;
using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios;

/// <summary>
/// A running platform assembled from a <see cref="PlatformDescription"/>: physical memory, the scheduler and its
/// pCPUs, the partition managers its roles call for, and every partition with its memory and vCPUs.
/// Memory map: secure RAM at 0x0600_0000 (160 MiB), normal-world RAM at 0x8000_0000 (2 GiB: room for a VM with 1 GiB to share); a region a manifest
/// places inside the right RAM is mapped there (IPA = PA, as S-EL2 SPMCs map SPs); anything else gets pages from the
/// world's pool at the IPA asked for.
/// </summary>
public sealed partial class Platform
{
    public const ulong SecureRamBase = 0x0600_0000;
    public const ulong SecureRamSize = 0x0A00_0000;
    public const ulong NormalRamBase = 0x8000_0000;
    public const ulong NormalRamSize = 0x8000_0000;

    /// <summary>Default IPA of a VM's (or the kernel's) RAM when its description gives none.</summary>
    public const ulong DefaultVmRam = 0x4000_0000;

    /// <summary>Default RAM of the OS kernel with no hypervisor: physical, identity-mapped, inside normal-world RAM.</summary>
    public const ulong DefaultKernelRam = 0x8800_0000;

    /// <summary>Default IPA of an SP's RAM when its description gives none.</summary>
    public const ulong DefaultSpRam = 0x1000_0000;

    /// <summary>Default RAM size, in pages (1 MiB).</summary>
    public const ulong DefaultRamPages = 256;

    private readonly Dictionary<string, Partition> _byName = new(StringComparer.Ordinal);
    private readonly List<Partition> _partitions = [];
    private readonly Dictionary<EndpointId, RxTxBuffers> _buffers = [];
    private readonly List<ConsoleLine> _console = [];
    private readonly Allocator _secure = new(SecureRamBase, SecureRamSize);
    private readonly Allocator _normal = new(NormalRamBase, NormalRamSize);
    private int _nextVmPcpu;

    private Platform(PlatformDescription description, TraceRecorder? trace)
    {
        Description = description;
        Memory.AddRange(SecureRamBase, SecureRamSize, "secure RAM");
        Memory.AddRange(NormalRamBase, NormalRamSize, "normal RAM");
        Scheduler = new Scheduler(description.Pcpus, description.Seed, description.Strategy, costs: null, trace);
        var normalWorld = new Stage2Map();
        normalWorld.AddIdentityRange(NormalRamBase, NormalRamSize, Stage2Access.ReadWrite);
        NormalWorldMemory = new AddressSpace(Memory, normalWorld);

        Pages = new PageOwnership(Memory);
        if (description.Roles != PlatformRoles.HypervisorOnly)
        {
            Spmc = new Spmc(Scheduler, Memory, description.Personality, NormalWorldMemory) { Pages = Pages };
        }

        if (Spmc is not null)
        {
            Spmc.ConsoleSink = Log;
        }

        if (description.Roles == PlatformRoles.KernelAndSpmc)
        {
            Kernel = new KernelPort(Spmc!, Scheduler);
            Spmc!.NormalWorld = Kernel;
        }
        else
        {
            var tx = _normal.Take(1);
            var rx = _normal.Take(1);
            Hypervisor = new Hypervisor(Scheduler, Memory, description.Personality, Spmc, NormalWorldMemory, tx, rx) { Pages = Pages, ConsoleSink = Log };
            if (Spmc is not null)
            {
                Spmc.NormalWorld = Hypervisor;
            }
        }
    }

    public PlatformDescription Description { get; }

    public PhysicalMemory Memory { get; } = new();

    public Scheduler Scheduler { get; }

    /// <summary>Who owns each page and who may reach it: every partition's RAM, and what memory sharing does with it.</summary>
    public PageOwnership Pages { get; }

    public TraceRecorder Trace => Scheduler.Trace;

    /// <summary>Normal-world physical memory seen identity-mapped (how the SPMC and the hypervisor reach it).</summary>
    public AddressSpace NormalWorldMemory { get; }

    public Spmc? Spmc { get; }

    public Hypervisor? Hypervisor { get; }

    public KernelPort? Kernel { get; }

    /// <summary>Every partition, in the order described.</summary>
    public IReadOnlyList<Partition> Partitions => _partitions;

    public Partition this[string name] => _byName[name];

    public bool TryGetPartition(string name, out Partition partition) => _byName.TryGetValue(name, out partition!);

    /// <summary>What endpoints logged, in order.</summary>
    public IReadOnlyList<ConsoleLine> Console => _console;

    /// <summary>Where a partition's RX/TX buffers are.</summary>
    public RxTxBuffers BuffersOf(EndpointId id) => _buffers[id];

    /// <summary>Assembles a platform. The description must be valid (loaders validate); a bad one throws.</summary>
    public static Platform Build(PlatformDescription description, TraceRecorder? trace = null)
    {
        ArgumentNullException.ThrowIfNull(description);
        var platform = new Platform(description, trace);
        foreach (var config in description.Partitions)
        {
            platform.Add(config);
        }

        if (description.Gunyah is { } gunyah && platform.Hypervisor is not null)
        {
            platform.SetUpGunyah(gunyah);
        }

        return platform;
    }

    /// <summary>Boots the secure world (every SP to its first MSG_WAIT), then the normal world.</summary>
    public void Boot(long maxSteps = 1_000_000)
    {
        if (Spmc is not null)
        {
            Spmc.Boot();
            Scheduler.Run(maxSteps);
        }

        if (Hypervisor is not null)
        {
            Hypervisor.Boot();
            return;
        }

        foreach (var kernel in _partitions.Where(static p => p.Config.Kind == PartitionKind.Kernel))
        {
            foreach (var vcpu in kernel.Vcpus)
            {
                Scheduler.Ready(vcpu, default, Scheduler.HomeOf(vcpu));
            }
        }
    }

    /// <summary>Runs until nothing is left to run (or the step budget ends); returns the steps made.</summary>
    public long Run(long maxSteps = 10_000_000) => Scheduler.Run(maxSteps);

    private void Add(PartitionConfig config)
    {
        var secure = config.Kind == PartitionKind.Sp;
        var pool = secure ? _secure : _normal;
        var stage2 = new Stage2Map();
        var space = new AddressSpace(Memory, stage2);
        var defaultRam = config.Kind switch
        {
            PartitionKind.Sp => DefaultSpRam,
            PartitionKind.Kernel => DefaultKernelRam,
            _ => DefaultVmRam,
        };
        var regions = config.Memory.Count > 0 ? config.Memory : [new MemoryRegion("ram", defaultRam, DefaultRamPages, Stage2Access.All)];
        ulong top = 0;
        foreach (var region in regions)
        {
            var pa = region.PhysicalAddress ?? pool.Place(region.Address, region.PageCount);
            if (config.Kind == PartitionKind.Kernel && pa != region.Address)
            {
                throw new ArgumentException($"{config.Name}: the kernel's region {region.Name} must be free normal-world RAM (it is identity-mapped)", nameof(config));
            }

            if (!stage2.TryMap(region.Address, pa, region.PageCount, region.Access))
            {
                throw new ArgumentException($"{config.Name}: memory region {region.Name} overlaps another", nameof(config));
            }

            Pages.Claim(config.Id, region.Address, pa, region.PageCount, region.Access);
            top = Math.Max(top, region.Address + region.Size);
        }

        Pages.Attach(config.Id, stage2);

        var buffers = MapBuffers(config, stage2, pool, top);
        _buffers[config.Id] = buffers;
        if (config.Image is { } image)
        {
            LoadImage(config, image, space);
        }

        Partition partition = config.Kind switch
        {
            PartitionKind.Sp => Spmc!.AddPartition(config, space),
            PartitionKind.Vm => Hypervisor!.AddPartition(config, space),
            _ => new Partition(config, space),
        };

        if (buffers.MappedByManager)
        {
            Spmc!.MapBuffersAtBoot(config.Id, buffers.Tx, buffers.Rx, buffers.Pages);
        }

        for (var i = 0; i < config.VcpuCount; i++)
        {
            AddVcpu(partition, (ushort)i, buffers);
        }

        _partitions.Add(partition);
        _byName.Add(config.Name, partition);
    }

    private static RxTxBuffers MapBuffers(PartitionConfig config, Stage2Map stage2, Allocator pool, ulong top)
    {
        var pages = config.RxTxPages;
        var size = (ulong)pages * PhysicalMemory.PageSize;
        var rx = config.RxAddress ?? AlignUp(top, PhysicalMemory.PageSize);
        var tx = config.TxAddress ?? (config.RxAddress is null ? rx + size : AlignUp(top, PhysicalMemory.PageSize));
        foreach (var ipa in new[] { rx, tx })
        {
            if (stage2.TryGetEntry(ipa, out _))
            {
                continue; // the manifest's buffer lies in one of its memory regions
            }

            var pa = pool.Place(ipa, pages);
            stage2.TryMap(ipa, pa, pages, Stage2Access.ReadWrite);
        }

        return new RxTxBuffers(rx, tx, pages, MappedByManager: config.Kind == PartitionKind.Sp && config.RxAddress is not null && config.TxAddress is not null);
    }

    private void AddVcpu(Partition partition, ushort index, RxTxBuffers buffers)
    {
        var config = partition.Config;
        var pcpus = Scheduler.Pcpus.Count;
        var home = config.Kind switch
        {
            PartitionKind.Sp => config.VcpuCount > 1 ? index % pcpus : 0,
            PartitionKind.Kernel => index % pcpus,
            _ => _nextVmPcpu++ % pcpus,
        };

        IVcpuBackend backend = config switch
        {
            { Scripted: true } => new ScriptedVcpu(Scheduler),
            { Image: { } image } => new EmulatedVcpu(Scheduler, partition.Memory, image),
            { Program: { } program } => new ManagedVcpu(Scheduler, program),
            _ => new NoCode(),
        };
        ICallHandler handler = config.Kind switch
        {
            PartitionKind.Sp => Spmc!,
            PartitionKind.Vm => Hypervisor!,
            _ => Kernel!,
        };
        var vcpu = new Vcpu(new VcpuId(config.Id, index), handler, backend, home);
        switch (config.Kind)
        {
            case PartitionKind.Sp:
                Spmc!.AttachVcpu(partition, vcpu);
                break;
            case PartitionKind.Vm:
                Hypervisor!.AttachVcpu(partition, vcpu);
                break;
            default:
                Kernel!.Attach(vcpu);
                partition.Vcpus.Add(vcpu);
                break;
        }

        if (backend is ManagedVcpu managed)
        {
            var entry = RegisterFrame.Of(index);
            managed.Bind(vcpu, v => new EndpointContext(managed, partition.Memory, v.Id, config.Name, entry, buffers) { LogSink = Log });
        }
    }

    private void Log(EndpointContext context, string text) => Log(context.Vcpu, context.Name, text);

    /// <summary>A console line a partition manager collected from FFA_CONSOLE_LOG.</summary>
    private void Log(Vcpu vcpu, string text) =>
        Log(vcpu.Id, _partitions.Find(p => p.Id == vcpu.Id.Endpoint)?.Name ?? vcpu.Id.Endpoint.ToString(), text);

    private void Log(VcpuId vcpu, string name, string text)
    {
        var pcpu = Scheduler.Running?.Pcpu;
        var time = pcpu?.Time ?? Scheduler.Now;
        _console.Add(new ConsoleLine(time, vcpu, name, text));
        Trace.Record(time, pcpu?.Index ?? -1, vcpu, TraceKind.Log, text: text);
    }

    /// <summary>Copies an emulated partition's image into its memory; a platform that cannot run it is a configuration error.</summary>
    private static void LoadImage(PartitionConfig config, GuestImage image, AddressSpace space)
    {
        if (Unicorn.UnavailableReason is { } reason)
        {
            throw new ArgumentException($"{config.Name}: runs an AArch64 image, but the emulator is not available: {reason}", nameof(config));
        }

        if (image.TryLoad(space) is { } error)
        {
            throw new ArgumentException($"{config.Name}: {error}", nameof(config));
        }
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);

    /// <summary>A partition with no code: if ever run it stops at once (its vCPU powers off).</summary>
    private sealed class NoCode : IVcpuBackend
    {
        public void Resume(Vcpu vcpu) => vcpu.Handler.OnStopped(vcpu, null);
    }

    /// <summary>Hands out pages of one world's RAM: at the address asked for when it is free, else from the top of what is used.</summary>
    private sealed class Allocator(ulong basePa, ulong size)
    {
        private readonly List<(ulong Start, ulong End)> _used = [];
        private readonly ulong _base = basePa;
        private readonly ulong _end = basePa + size;
        private ulong _next = basePa;

        public ulong Take(ulong pages) => Place(0, pages);

        public ulong Place(ulong wanted, ulong pages)
        {
            var length = pages * PhysicalMemory.PageSize;
            if (wanted >= _base && wanted + length <= _end && !Overlaps(wanted, length))
            {
                _used.Add((wanted, wanted + length));
                return wanted;
            }

            while (Overlaps(_next, length))
            {
                _next += PhysicalMemory.PageSize;
            }

            if (_next + length > _end)
            {
                throw new ArgumentException("out of simulated physical memory", nameof(pages));
            }

            var pa = _next;
            _used.Add((pa, pa + length));
            _next += length;
            return pa;
        }

        private bool Overlaps(ulong start, ulong length)
        {
            foreach (var (s, e) in _used)
            {
                if (start < e && s < start + length)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>One line an endpoint logged: when (virtual ns), which vCPU, which partition, what.</summary>
public readonly record struct ConsoleLine(ulong Time, VcpuId Vcpu, string Partition, string Text);
