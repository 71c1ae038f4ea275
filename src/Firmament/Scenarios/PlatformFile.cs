using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Emulation;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios;

/// <summary>
/// A YAML platform file. Schema (every key optional unless marked; unknown keys are errors):
/// <code>
/// name: my-platform                  # default: the file name
/// roles: hypervisor+spmc             # hypervisor+spmc (default) | kernel+spmc | hypervisor
/// personality: default               # default | hafnium | optee | el3-spmc | xen | pkvm
/// pcpus: 2                           # 1..64 (default 2)
/// seed: 0                            # scheduler seed (firmament run --seed overrides it)
/// partitions:                        # required, at least one
///   - name: vm1                      # required unless manifest: gives it (then the manifest file's name)
///     kind: vm                       # vm | sp | kernel; required unless manifest: (then sp)
///     id: 0x0001                     # decimal or 0x hex; default: next free (VMs from 1, SPs from 0x8001, kernel 0)
///     uuids: [1e67b5b4-e14f-904a-13fb-1fb8cbdae1da]   # RFC 4122 text, or [w1, w2, w3, w4] register words
///     exception-level: el1           # el1 (vm, kernel) | s-el0 | s-el1 (sp; default s-el1)
///     vcpus: 1                       # vm/kernel 1..pcpus; sp 1 or pcpus (an MP SP has one per pCPU); s-el0: 1
///     memory:                        # default: 1 MiB the platform places (a kernel: at 0x80000000, in normal RAM)
///       - { name: ram, base: 0x40000000, pages: 256, access: rwx }   # access r | rw | rx | rwx
///     rxtx-pages: 1                  # 1..the personality's limit
///     ffa-version: "1.2"             # 1.0..1.2 (default 1.2)
///     properties: 0x107              # the partition-info properties word; the flags below then set or clear bits
///     direct-request-receive: true   # bit 0    direct-request-send: bit 1     indirect-messaging: bit 2
///     notifications: true            # bit 3    vm-created: bit 6              vm-destroyed: bit 7
///     aarch64: true                  # bit 8    direct-request2-receive: bit 9 direct-request2-send: bit 10
///     boot-order: 0                  # SPs boot lowest first (0..65535; unique when given)
///     program: echo                  # a built-in program (ProgramCatalog); none: the partition only waits
///     image:                         # or: AArch64 machine code run under emulation (docs/emulation.md)
///       file: ../guests/build/echo-sp.bin   # required: a flat image, relative to this file
///       load: 0x10000000             # IPA of its first byte, 4 KiB aligned (default: the first memory region)
///       entry: 0x10000000            # where every vCPU starts (default: load)
///       args: [0x8001, 100]          # x1..x7 at entry (x0 is the vCPU index)
///     manifest: sp/cactus.dts        # an SP manifest (.dts/.dtb), relative to this file
///     include-dirs: [include]        # extra cpp include directories for the manifest, relative to this file
/// </code>
/// A partition with <c>manifest:</c> is an SP whose UUIDs, exception level, vCPUs, memory, RX/TX buffers, FF-A
/// version, properties and boot order come from the manifest (<see cref="ManifestLoader"/>); the file may override
/// its name, id, program, vcpus, boot-order and property flags, and nothing else.
/// Checked before anything is returned: types and ranges; unknown keys; duplicate names, IDs and explicit boot
/// orders; ID ranges (SPs have bit 15, VMs do not, the kernel is 0); kinds the roles allow (VMs need the hypervisor,
/// SPs the SPMC, kernel+spmc has exactly one kernel); vCPU counts; program names; memory alignment, overlaps within a
/// partition and between SPs' explicit regions (an S-EL2 SPMC maps them at their physical addresses), RX/TX buffers
/// against regions, and whether each world's RAM can hold it all. Every error names the file and line.
/// </summary>
public static class PlatformFile
{
    public const int MaxPcpus = 64;
    public const int MaxPartitions = 256;
    public const int MaxRegions = 64;

    private static readonly string[] TopKeys = ["name", "roles", "personality", "pcpus", "seed", "partitions", "gunyah"];

    private static readonly string[] PartitionKeys =
    [
        "name", "kind", "id", "uuids", "exception-level", "vcpus", "memory", "rxtx-pages", "ffa-version", "properties",
        "direct-request-receive", "direct-request-send", "direct-request2-receive", "direct-request2-send", "indirect-messaging",
        "notifications", "vm-created", "vm-destroyed", "aarch64", "boot-order", "program", "manifest", "include-dirs", "image",
    ];

    /// <summary>What a file may still say about a partition described by a manifest.</summary>
    private static readonly string[] ManifestOverrides =
    [
        "name", "kind", "id", "vcpus", "boot-order", "program", "manifest", "include-dirs", "properties", "image",
        "direct-request-receive", "direct-request-send", "direct-request2-receive", "direct-request2-send", "indirect-messaging",
        "notifications", "vm-created", "vm-destroyed", "aarch64",
    ];

    private static readonly string[] RegionKeys = ["name", "base", "pages", "access"];

    private static readonly string[] ImageKeys = ["file", "load", "entry", "args"];

    private static readonly (string Key, PartitionProperties Bit)[] Flags =
    [
        ("direct-request-receive", PartitionProperties.ReceivesDirectRequests),
        ("direct-request-send", PartitionProperties.SendsDirectRequests),
        ("indirect-messaging", PartitionProperties.SupportsIndirectMessages),
        ("notifications", PartitionProperties.ReceivesNotifications),
        ("vm-created", PartitionProperties.InformedOfVmCreation),
        ("vm-destroyed", PartitionProperties.InformedOfVmDestruction),
        ("aarch64", PartitionProperties.AArch64),
        ("direct-request2-receive", PartitionProperties.ReceivesDirectRequests2),
        ("direct-request2-send", PartitionProperties.SendsDirectRequests2),
    ];

    /// <summary>
    /// A kernel's RAM when the file gives none: with no hypervisor the kernel's addresses are physical, so its RAM must
    /// lie in normal RAM (the platform's own default, 0x4000_0000, is outside it). 1 MiB at the start of normal RAM,
    /// which nothing else uses when there is no hypervisor.
    /// </summary>
    public static MemoryRegion KernelRam { get; } = new("ram", Platform.NormalRamBase, Platform.DefaultRamPages, Stage2Access.All);

    /// <summary>The partition-properties bits a file may set (bits 4 and 5, the ID type, are the SPMC's to fill in).</summary>
    public const PartitionProperties SettableProperties = ManifestLoader.MessagingBits | PartitionProperties.ReceivesNotifications
        | PartitionProperties.InformedOfVmCreation | PartitionProperties.InformedOfVmDestruction | PartitionProperties.AArch64;

    /// <summary>Loads and validates a platform file.</summary>
    public static PlatformDescription Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(PlatformLoader.ReadText(path), path);
    }

    /// <summary>Parses and validates platform file text; <paramref name="file"/> names it and anchors relative paths.</summary>
    public static PlatformDescription Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        var yaml = new PlatformYaml(file);
        var top = yaml.Map(yaml.Read(text), "the platform file", TopKeys);
        var builder = new Builder(yaml, Path.GetDirectoryName(file) ?? string.Empty);
        return builder.Build(top, Path.GetFileNameWithoutExtension(file));
    }

    /// <summary>
    /// Builds a platform from a mapping inside another YAML file (a scenario's inline <c>platform:</c>), with the
    /// same checks and with errors at that file's lines.
    /// </summary>
    internal static PlatformDescription Parse(PlatformYaml yaml, YamlItem node, string directory, string defaultName)
    {
        var top = yaml.Map(node, "the platform", TopKeys);
        return new Builder(yaml, directory).Build(top, defaultName);
    }

    /// <summary>A partition as read, before IDs are allocated and the whole platform is checked.</summary>
    private sealed class Draft(YamlMap node)
    {
        public YamlMap Node { get; } = node;

        public required string Name { get; init; }

        public required PartitionKind Kind { get; init; }

        public EndpointId? Id { get; set; }

        public required PartitionConfig Config { get; set; }

        public bool BootOrderGiven { get; set; }

        public SpManifest? Manifest { get; init; }

        /// <summary>Where to report a problem with <paramref name="key"/>: the line it is written on, else the partition's.</summary>
        public YamlItem At(string key) => (YamlItem?)Key(Node, key) ?? Node;

        /// <summary>The first of <paramref name="keys"/> the partition gives, for messages.</summary>
        public YamlItem AtFirst(params string[] keys) => (YamlItem?)keys.Select(k => Key(Node, k)).FirstOrDefault(static k => k is not null) ?? Node;
    }

    private sealed class Builder(PlatformYaml yaml, string directory)
    {
        private readonly List<string> _notes = [];

        public PlatformDescription Build(YamlMap top, string defaultName)
        {
            var name = Value(top, "name") is { } n ? yaml.Text(n, "name") : defaultName;
            var roles = Value(top, "roles") is { } r ? Roles(r) : PlatformRoles.HypervisorAndSpmc;
            var personality = Personality.Default;
            if (Value(top, "personality") is { } p && !Personality.TryGet(yaml.Text(p, "personality"), out personality))
            {
                throw yaml.Fail(p, $"unknown personality '{yaml.Text(p, "personality")}' (known: {string.Join(", ", Personality.All.Select(static x => x.Name))})");
            }

            var pcpus = Value(top, "pcpus") is { } c ? (int)yaml.Integer(c, "pcpus", 1, MaxPcpus) : 2;
            var seed = Value(top, "seed") is { } s ? yaml.Integer(s, "seed", 0, ulong.MaxValue) : 0;
            var list = Value(top, "partitions") ?? throw yaml.Fail(top, "partitions is missing: a platform needs at least one partition");
            var items = yaml.List(list, "partitions");
            if (items.Count == 0)
            {
                throw yaml.Fail(list, "partitions is empty: a platform needs at least one partition");
            }

            if (items.Count > MaxPartitions)
            {
                throw yaml.Fail(list, $"{items.Count} partitions is more than {MaxPartitions}");
            }

            var drafts = items.Select(item => Partition(item, pcpus, personality)).ToList();
            var context = new Validation(yaml, roles, pcpus, personality);
            context.Check(drafts, (YamlItem?)Key(top, "roles") ?? top, Key(top, "partitions")!);
            var configs = drafts.Select(static d => d.Config with { Id = d.Id!.Value }).ToList();
            return new PlatformDescription
            {
                Gunyah = Value(top, "gunyah") is { } g ? GunyahPlatformSection.Parse(yaml, g, roles, pcpus, configs) : null,
                Name = name,
                Roles = roles,
                Personality = personality,
                Pcpus = pcpus,
                Seed = seed,
                Partitions = [.. drafts.Select(static d => d.Config with { Id = d.Id!.Value })],
                Origin = yaml.File,
                Notes = _notes,
            };
        }

        private PlatformRoles Roles(YamlItem item)
        {
            var text = yaml.Text(item, "roles");
            var parts = text.Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(static x => x.ToLowerInvariant()).Order(StringComparer.Ordinal).ToArray();
            return string.Join('+', parts) switch
            {
                "hypervisor+spmc" => PlatformRoles.HypervisorAndSpmc,
                "kernel+spmc" => PlatformRoles.KernelAndSpmc,
                "hypervisor" => PlatformRoles.HypervisorOnly,
                _ => throw yaml.Fail(item, $"roles '{text}' is not one of hypervisor+spmc, kernel+spmc, hypervisor"),
            };
        }

        private Draft Partition(YamlItem item, int pcpus, Personality personality)
        {
            var node = yaml.Map(item, "a partition", PartitionKeys);
            if (Value(node, "manifest") is { } manifestItem)
            {
                return FromManifest(node, manifestItem);
            }

            if (Value(node, "include-dirs") is { } includes)
            {
                throw yaml.Fail(includes, "include-dirs only applies to a partition with a manifest");
            }

            var name = Value(node, "name") is { } n ? yaml.Text(n, "name") : throw yaml.Fail(node, "a partition needs a name");
            var kindItem = Value(node, "kind") ?? throw yaml.Fail(node, $"partition '{name}' needs a kind (vm, sp or kernel)");
            var kind = yaml.Text(kindItem, "kind") switch
            {
                "vm" => PartitionKind.Vm,
                "sp" => PartitionKind.Sp,
                "kernel" => PartitionKind.Kernel,
                var other => throw yaml.Fail(kindItem, $"kind '{other}' is not vm, sp or kernel"),
            };

            var level = kind == PartitionKind.Sp ? ExceptionLevel.SEl1 : ExceptionLevel.El1;
            if (Value(node, "exception-level") is { } levelItem)
            {
                level = yaml.Text(levelItem, "exception-level") switch
                {
                    "el1" => ExceptionLevel.El1,
                    "s-el0" => ExceptionLevel.SEl0,
                    "s-el1" => ExceptionLevel.SEl1,
                    var other => throw yaml.Fail(levelItem, $"exception-level '{other}' is not el1, s-el0 or s-el1"),
                };
                if ((kind == PartitionKind.Sp) != (level != ExceptionLevel.El1))
                {
                    throw yaml.Fail(levelItem, kind == PartitionKind.Sp
                        ? "an SP runs at s-el0 or s-el1, not el1"
                        : $"a {KindName(kind)} runs at el1, not {yaml.Text(levelItem, "exception-level")}");
                }
            }

            var version = FfaVersion.Latest;
            if (Value(node, "ffa-version") is { } versionItem)
            {
                var text = yaml.Text(versionItem, "ffa-version");
                if (!FfaVersion.TryParse(text, out version) || version.Major != 1 || version > FfaVersion.Latest)
                {
                    throw yaml.Fail(versionItem, $"ffa-version '{text}' is not one Firmament implements (1.0 to {FfaVersion.Latest})");
                }
            }

            var rxtx = Value(node, "rxtx-pages") is { } rxtxItem ? (uint)yaml.Integer(rxtxItem, "rxtx-pages", 1, MapperOf(kind, personality).MaxRxTxPages) : 1u;
            var config = new PartitionConfig
            {
                Name = name,
                Id = default,
                Kind = kind,
                Uuids = Value(node, "uuids") is { } uuids ? Uuids(uuids) : [],
                ExceptionLevel = level,
                VcpuCount = Value(node, "vcpus") is { } v ? (int)yaml.Integer(v, "vcpus", 1, (ulong)pcpus) : 1,
                Version = version,
                Memory = Value(node, "memory") is { } memory ? Regions(memory) : kind == PartitionKind.Kernel ? [KernelRam] : [],
                RxTxPages = rxtx,
                Origin = $"{yaml.File}:{node.Line}",
            };
            var draft = new Draft(node) { Name = name, Kind = kind, Config = config };
            ApplyCommon(draft, node, PartitionProperties.AArch64, pcpus);
            return draft;
        }

        private Draft FromManifest(YamlMap node, YamlItem manifestItem)
        {
            foreach (var (key, _) in node.Entries)
            {
                if (!ManifestOverrides.Contains(key.Value))
                {
                    throw yaml.Fail(key, $"'{key.Value}' comes from the manifest; a platform file may only set {string.Join(", ", ManifestOverrides.Where(static k => k is not "manifest" and not "include-dirs" and not "kind"))} for it");
                }
            }

            if (Value(node, "kind") is { } kindItem && yaml.Text(kindItem, "kind") != "sp")
            {
                throw yaml.Fail(kindItem, "a partition with a manifest is an SP (kind: sp)");
            }

            var includeDirs = Value(node, "include-dirs") is { } includes
                ? yaml.List(includes, "include-dirs").Select(i => Resolve(yaml.Text(i, "include-dirs"))).ToList()
                : [];
            var path = Resolve(yaml.Text(manifestItem, "manifest"));
            var extension = Path.GetExtension(path).ToLowerInvariant();
            if (extension is not ".dts" and not ".dtb")
            {
                throw yaml.Fail(manifestItem, $"manifest '{yaml.Text(manifestItem, "manifest")}' is not a .dts or .dtb file");
            }

            if (!File.Exists(path))
            {
                throw yaml.Fail(manifestItem, $"manifest '{path}' does not exist");
            }

            SpManifest manifest;
            try
            {
                manifest = ManifestLoader.Load(path, includeDirs);
            }
            catch (PlatformFileException e) when (!string.Equals(e.File, yaml.File, StringComparison.Ordinal))
            {
                throw new PlatformFileException(e.File, e.Line, $"{e.Reason} (the manifest of the partition at {yaml.File}:{node.Line})");
            }

            _notes.AddRange(manifest.Notes);
            var name = Value(node, "name") is { } n ? yaml.Text(n, "name") : Path.GetFileNameWithoutExtension(path);
            var config = manifest.ToPartitionConfig(name, default) with { Origin = $"{yaml.File}:{node.Line} ({path})" };
            var draft = new Draft(node)
            {
                Name = name,
                Kind = PartitionKind.Sp,
                Config = config,
                Id = manifest.Id,
                BootOrderGiven = manifest.BootOrder is not null,
                Manifest = manifest,
            };
            ApplyCommon(draft, node, manifest.Properties, int.MaxValue);
            return draft;
        }

        /// <summary>What a file may set for any partition: id, vcpus, boot order, program and property flags.</summary>
        private void ApplyCommon(Draft draft, YamlMap node, PartitionProperties properties, int maxVcpus)
        {
            var config = draft.Config;
            if (Value(node, "id") is { } id)
            {
                draft.Id = new EndpointId((ushort)yaml.Integer(id, "id", 0, 0xFFFF));
            }

            if (Value(node, "vcpus") is { } vcpus)
            {
                config = config with { VcpuCount = (int)yaml.Integer(vcpus, "vcpus", 1, (ulong)Math.Min(maxVcpus, 0xFFFF)) };
            }

            if (Value(node, "boot-order") is { } order)
            {
                config = config with { BootOrder = (int)yaml.Integer(order, "boot-order", 0, 0xFFFF) };
                draft.BootOrderGiven = true;
            }

            if (Value(node, "program") is { } programItem)
            {
                var programName = yaml.Text(programItem, "program");
                if (!ProgramCatalog.TryGet(programName, out var program))
                {
                    throw yaml.Fail(programItem, $"unknown program '{programName}' (known: {string.Join(", ", ProgramCatalog.Names)})");
                }

                config = config with { Program = program, ProgramName = programName };
            }

            if (Value(node, "image") is { } imageItem)
            {
                if (Value(node, "program") is { } both)
                {
                    throw yaml.Fail(both, $"partition '{draft.Name}' has both a program and an image: its code is one or the other");
                }

                var image = Image(imageItem, draft.Kind, config.Memory);
                config = config with { Image = image, ProgramName = Path.GetFileNameWithoutExtension(image.File) };
            }

            if (Value(node, "properties") is { } word)
            {
                properties = (PartitionProperties)yaml.Integer(word, "properties", 0, uint.MaxValue);
                if ((properties & ~SettableProperties) != 0)
                {
                    throw yaml.Fail(word, $"properties 0x{(uint)properties:x} sets bits outside 0x{(uint)SettableProperties:x} (bits 4-5, the ID type, are the SPMC's)");
                }
            }

            foreach (var (key, bit) in Flags)
            {
                if (Value(node, key) is { } flag)
                {
                    properties = yaml.Boolean(flag, key) ? properties | bit : properties & ~bit;
                }
            }

            if ((properties & (PartitionProperties.ReceivesDirectRequests2 | PartitionProperties.SendsDirectRequests2)) != 0 && config.Version < FfaVersion.V1_2)
            {
                throw yaml.Fail(draft.AtFirst("direct-request2-receive", "direct-request2-send", "properties", "ffa-version"), $"direct request 2 needs FF-A v1.2; partition '{draft.Name}' is v{config.Version}");
            }

            draft.Config = config with { Properties = properties };
        }

        private List<Uuid> Uuids(YamlItem item)
        {
            var uuids = new List<Uuid>();
            foreach (var entry in yaml.List(item, "uuids"))
            {
                Uuid uuid;
                if (entry is YamlList words)
                {
                    if (words.Items.Count != 4)
                    {
                        throw yaml.Fail(entry, $"a UUID as words is [w1, w2, w3, w4], not {words.Items.Count} numbers");
                    }

                    var w = words.Items.Select(x => (uint)yaml.Integer(x, "a UUID word", 0, uint.MaxValue)).ToArray();
                    uuid = Uuid.FromWords(w[0], w[1], w[2], w[3]);
                }
                else if (!Uuid.TryParse(yaml.Text(entry, "a UUID"), out uuid) || yaml.Text(entry, "a UUID").Trim().Length != 36)
                {
                    throw yaml.Fail(entry, $"'{yaml.Text(entry, "a UUID")}' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
                }

                if (uuid.IsNil)
                {
                    throw yaml.Fail(entry, "the Nil UUID cannot name a partition");
                }

                if (uuids.Contains(uuid))
                {
                    throw yaml.Fail(entry, $"UUID {uuid} is listed twice");
                }

                uuids.Add(uuid);
            }

            return uuids;
        }

        private List<MemoryRegion> Regions(YamlItem item)
        {
            var regions = new List<MemoryRegion>();
            var entries = yaml.List(item, "memory");
            if (entries.Count > MaxRegions)
            {
                throw yaml.Fail(item, $"{entries.Count} memory regions is more than {MaxRegions}");
            }

            foreach (var entry in entries)
            {
                var map = yaml.Map(entry, "a memory region", RegionKeys);
                var name = Value(map, "name") is { } n ? yaml.Text(n, "name") : $"region{regions.Count}";
                var baseItem = Value(map, "base") ?? throw yaml.Fail(map, $"memory region '{name}' needs a base address");
                var address = yaml.Integer(baseItem, "base", 0, ulong.MaxValue);
                if (address % PhysicalMemory.PageSize != 0)
                {
                    throw yaml.Fail(baseItem, $"base 0x{address:x} is not 4 KiB aligned");
                }

                var pagesItem = Value(map, "pages") ?? throw yaml.Fail(map, $"memory region '{name}' needs pages");
                var pages = yaml.Integer(pagesItem, "pages", 1, 1UL << 36);
                if (address + (pages * PhysicalMemory.PageSize) - 1 < address)
                {
                    throw yaml.Fail(pagesItem, $"0x{address:x} + {pages} pages runs past the end of the address space");
                }

                var access = Stage2Access.ReadWrite;
                if (Value(map, "access") is { } accessItem)
                {
                    access = yaml.Text(accessItem, "access") switch
                    {
                        "r" => Stage2Access.Read,
                        "rw" => Stage2Access.ReadWrite,
                        "rx" => Stage2Access.ReadExecute,
                        "rwx" => Stage2Access.All,
                        var other => throw yaml.Fail(accessItem, $"access '{other}' is not r, rw, rx or rwx"),
                    };
                }

                if (regions.Exists(r => string.Equals(r.Name, name, StringComparison.Ordinal)))
                {
                    throw yaml.Fail(entry, $"memory region '{name}' is given twice");
                }

                regions.Add(new MemoryRegion(name, address, pages, access));
            }

            return regions;
        }

        /// <summary>An emulated partition's image: the file exists, fits one of its memory regions, and the emulator loads.</summary>
        private GuestImage Image(YamlItem item, PartitionKind kind, IReadOnlyList<MemoryRegion> memory)
        {
            var map = yaml.Map(item, "an image", ImageKeys);
            var fileItem = Value(map, "file") ?? throw yaml.Fail(map, "an image needs a file (a flat AArch64 binary)");
            var file = Resolve(yaml.Text(fileItem, "file"));
            var regions = memory.Count > 0 ? memory : [DefaultRam(kind)];
            var load = Value(map, "load") is { } loadItem ? yaml.Integer(loadItem, "load", 0, ulong.MaxValue) : regions[0].Address;
            if (load % PhysicalMemory.PageSize != 0)
            {
                throw yaml.Fail(Value(map, "load")!, $"load 0x{load:x} is not 4 KiB aligned");
            }

            var entry = Value(map, "entry") is { } entryItem ? yaml.Integer(entryItem, "entry", 0, ulong.MaxValue) : load;
            if (entry % 4 != 0)
            {
                throw yaml.Fail(Value(map, "entry")!, $"entry 0x{entry:x} is not 4-byte aligned (an AArch64 instruction)");
            }

            var args = new List<ulong>();
            if (Value(map, "args") is { } argsItem)
            {
                var list = yaml.List(argsItem, "args");
                if (list.Count > GuestImage.MaxArguments)
                {
                    throw yaml.Fail(argsItem, $"{list.Count} args is more than {GuestImage.MaxArguments} (x1..x7)");
                }

                args.AddRange(list.Select(a => yaml.Integer(a, "an image argument", 0, ulong.MaxValue)));
            }

            if (Unicorn.UnavailableReason is { } reason)
            {
                throw yaml.Fail(item, $"this partition runs an AArch64 image, but the emulator is not available: {reason}");
            }

            if (!File.Exists(file))
            {
                throw yaml.Fail(fileItem, $"image '{file}' does not exist (the sample guests are built with: make -C guests)");
            }

            var size = (ulong)new FileInfo(file).Length;
            var fits = regions.Any(r => load >= r.Address && load + size <= r.Address + r.Size && entry >= load && entry < load + Math.Max(size, 4));
            if (!fits)
            {
                throw yaml.Fail(item, $"image '{Path.GetFileName(file)}' ({size} bytes at 0x{load:x}, entry 0x{entry:x}) does not lie inside one of the partition's memory regions");
            }

            return new GuestImage(file, load, entry) { Arguments = args };
        }

        private static MemoryRegion DefaultRam(PartitionKind kind) => kind switch
        {
            PartitionKind.Sp => new MemoryRegion("ram", Platform.DefaultSpRam, Platform.DefaultRamPages, Stage2Access.All),
            PartitionKind.Kernel => KernelRam,
            _ => new MemoryRegion("ram", Platform.DefaultVmRam, Platform.DefaultRamPages, Stage2Access.All),
        };

        private string Resolve(string relative) => Path.IsPathRooted(relative) ? relative : Path.Combine(directory, relative);
    }

    /// <summary>How the manager that maps a partition's buffers answers: the hypervisor for a VM, the SPMC for an SP or the kernel.</summary>
    private static Personality MapperOf(PartitionKind kind, Personality personality) =>
        personality.For(kind == PartitionKind.Vm ? PersonalityRoles.Hypervisor : PersonalityRoles.Spmc);

    /// <summary>The checks that need the whole platform: roles and kinds, IDs, vCPUs, boot orders, memory.</summary>
    private sealed class Validation(PlatformYaml yaml, PlatformRoles roles, int pcpus, Personality personality)
    {
        public void Check(List<Draft> drafts, YamlItem rolesItem, YamlItem partitionsItem)
        {
            CheckKinds(drafts, rolesItem);
            CheckNames(drafts);
            AllocateIds(drafts);
            foreach (var draft in drafts)
            {
                CheckVcpus(draft);
                CheckMemory(draft);
                var mapper = MapperOf(draft.Config.Kind, personality);
                if (draft.Config.RxTxPages > mapper.MaxRxTxPages)
                {
                    throw yaml.Fail(draft.At("manifest"), $"partition '{draft.Name}' has {draft.Config.RxTxPages}-page RX/TX buffers; personality '{personality.Name}' maps at most {mapper.MaxRxTxPages}");
                }
            }

            CheckBootOrders(drafts);
            CheckSecureOverlaps(drafts);
            CheckCapacity(drafts, partitionsItem);
        }

        private void CheckKinds(List<Draft> drafts, YamlItem rolesItem)
        {
            foreach (var draft in drafts)
            {
                var where = draft.At("kind");
                switch (draft.Kind)
                {
                    case PartitionKind.Vm when roles == PlatformRoles.KernelAndSpmc:
                        throw yaml.Fail(where, $"partition '{draft.Name}' is a VM, but roles kernel+spmc has no hypervisor to run VMs");
                    case PartitionKind.Sp when roles == PlatformRoles.HypervisorOnly:
                        throw yaml.Fail(where, $"partition '{draft.Name}' is an SP, but roles hypervisor has no SPMC");
                    case PartitionKind.Kernel when roles != PlatformRoles.KernelAndSpmc:
                        throw yaml.Fail(where, $"partition '{draft.Name}' is a kernel, which only roles kernel+spmc has (with a hypervisor, the normal world's endpoints are VMs)");
                }
            }

            var kernels = drafts.Where(static d => d.Kind == PartitionKind.Kernel).ToList();
            if (roles == PlatformRoles.KernelAndSpmc && kernels.Count != 1)
            {
                throw kernels.Count == 0
                    ? yaml.Fail(rolesItem, "roles kernel+spmc needs one partition of kind kernel (the OS, endpoint 0)")
                    : yaml.Fail(kernels[1].At("kind"), $"roles kernel+spmc has exactly one kernel; '{kernels[0].Name}' is already it");
            }

        }

        private void CheckNames(List<Draft> drafts)
        {
            var seen = new Dictionary<string, Draft>(StringComparer.Ordinal);
            foreach (var draft in drafts)
            {
                if (draft.Name.Length == 0 || draft.Name.Any(char.IsControl))
                {
                    throw yaml.Fail(draft.At("name"), "a partition name must be non-empty printable text");
                }

                if (!seen.TryAdd(draft.Name, draft))
                {
                    throw yaml.Fail(draft.At("name"), $"partition name '{draft.Name}' is also the name at line {seen[draft.Name].Node.Line}");
                }
            }
        }

        private void AllocateIds(List<Draft> drafts)
        {
            var used = new Dictionary<ushort, Draft>();
            foreach (var draft in drafts.Where(static d => d.Id is not null))
            {
                var id = draft.Id!.Value;
                var where = draft.At("id");
                switch (draft.Kind)
                {
                    case PartitionKind.Kernel when id.Value != 0:
                        throw yaml.Fail(where, $"the kernel is endpoint 0, not {id}");
                    case PartitionKind.Vm when !id.IsVm:
                        throw yaml.Fail(where, $"VM '{draft.Name}' has ID {id}; a VM's ID is 0x0001..0x7ffe (bit 15 clear)");
                    case PartitionKind.Sp when !id.IsSecure || id == EndpointId.Spmc || id == EndpointId.Spmd:
                        throw yaml.Fail(where, $"SP '{draft.Name}' has ID {id}; an SP's ID has bit 15 set (0x8001..0xfffe; 0x8000 is the SPMC)");
                }

                if (!used.TryAdd(id.Value, draft))
                {
                    var other = used[id.Value];
                    var source = draft.Manifest is not null && Value(draft.Node, "id") is null ? $" (from {draft.Manifest.File})" : string.Empty;
                    throw yaml.Fail(where, $"ID {id}{source} of '{draft.Name}' is also '{other.Name}''s (line {other.Node.Line}); give one an id:");
                }
            }

            foreach (var draft in drafts.Where(static d => d.Id is null))
            {
                ushort next = draft.Kind switch
                {
                    PartitionKind.Kernel => 0,
                    PartitionKind.Vm => 1,
                    _ => 0x8001,
                };
                var limit = draft.Kind == PartitionKind.Vm ? 0x7FFE : 0xFFFE;
                while (used.ContainsKey(next) && next < limit)
                {
                    next++;
                }

                if (used.ContainsKey(next))
                {
                    throw yaml.Fail(draft.Node, $"no free endpoint ID is left for '{draft.Name}'");
                }

                draft.Id = new EndpointId(next);
                used.Add(next, draft);
            }
        }

        private void CheckVcpus(Draft draft)
        {
            var count = draft.Config.VcpuCount;
            var where = draft.AtFirst("vcpus", "manifest");
            var source = Value(draft.Node, "vcpus") is null && draft.Manifest is not null ? " (execution-ctx-count in its manifest)" : string.Empty;
            if (draft.Kind != PartitionKind.Sp)
            {
                if (count < 1 || count > pcpus)
                {
                    throw yaml.Fail(where, $"{KindName(draft.Kind)} '{draft.Name}' has {count} vCPUs; between 1 and pcpus ({pcpus})");
                }

                return;
            }

            if (draft.Config.ExceptionLevel == ExceptionLevel.SEl0 && count != 1)
            {
                throw yaml.Fail(where, $"SP '{draft.Name}' runs at S-EL0, which has exactly one vCPU, not {count}{source}");
            }

            if (count != 1 && count != pcpus)
            {
                throw yaml.Fail(where, $"SP '{draft.Name}' has {count} vCPUs{source}; an SP is UP (1 vCPU) or MP with one vCPU per pCPU ({pcpus}) — set pcpus: {count}, or vcpus: for this partition");
            }
        }

        private void CheckMemory(Draft draft)
        {
            var config = draft.Config;
            var where = draft.AtFirst("memory", "manifest");
            var regions = config.Memory.OrderBy(static r => r.Address).ToList();
            for (var i = 1; i < regions.Count; i++)
            {
                var (a, b) = (regions[i - 1], regions[i]);
                if (b.Address < a.Address + a.Size)
                {
                    throw yaml.Fail(where, $"partition '{draft.Name}': memory regions '{a.Name}' (0x{a.Address:x}, {a.PageCount} pages) and '{b.Name}' (0x{b.Address:x}) overlap");
                }
            }

            var size = (ulong)config.RxTxPages * PhysicalMemory.PageSize;
            var buffers = new List<(string Name, ulong Address)>();
            if (config.RxAddress is { } rx)
            {
                buffers.Add(("RX buffer", rx));
            }

            if (config.TxAddress is { } tx)
            {
                buffers.Add(("TX buffer", tx));
            }

            foreach (var (name, address) in buffers)
            {
                var inside = regions.Exists(r => address >= r.Address && address + size <= r.Address + r.Size);
                var overlapping = regions.Find(r => address < r.Address + r.Size && r.Address < address + size);
                if (!inside && overlapping is not null)
                {
                    throw yaml.Fail(where, $"partition '{draft.Name}': the {name} (0x{address:x}, {config.RxTxPages} pages) straddles memory region '{overlapping.Name}'");
                }
            }

            if (draft.Kind == PartitionKind.Kernel)
            {
                foreach (var region in regions.Where(static r => r.Address < Platform.NormalRamBase || r.Address + r.Size > Platform.NormalRamBase + Platform.NormalRamSize))
                {
                    throw yaml.Fail(where, $"the kernel's memory region '{region.Name}' (0x{region.Address:x}, {region.PageCount} pages) is outside normal RAM (0x{Platform.NormalRamBase:x}, {Platform.NormalRamSize >> 20} MiB): with no hypervisor the kernel's addresses are physical");
                }
            }
        }

        private void CheckBootOrders(List<Draft> drafts)
        {
            var seen = new Dictionary<int, Draft>();
            foreach (var draft in drafts.Where(static d => d.Kind == PartitionKind.Sp && d.BootOrderGiven && d.Config.BootOrder != SpManifest.DefaultBootOrder))
            {
                if (!seen.TryAdd(draft.Config.BootOrder, draft))
                {
                    throw yaml.Fail(draft.AtFirst("boot-order", "manifest"), $"boot-order {draft.Config.BootOrder} of '{draft.Name}' is also '{seen[draft.Config.BootOrder].Name}''s; SPs boot in a definite order");
                }
            }
        }

        /// <summary>SPs' explicitly placed regions are physical (IPA = PA under an S-EL2 SPMC): two SPs cannot share one.</summary>
        private void CheckSecureOverlaps(List<Draft> drafts)
        {
            var placed = new List<(ulong Start, ulong End, Draft Draft, MemoryRegion Region)>();
            foreach (var draft in drafts.Where(static d => d.Kind == PartitionKind.Sp))
            {
                var nonSecure = draft.Manifest?.MemoryRegions.Where(static r => r.IsNonSecure).Select(static r => r.Address).ToHashSet() ?? [];
                foreach (var region in draft.Config.Memory.Where(r => !nonSecure.Contains(r.Address)))
                {
                    placed.Add((region.Address, region.Address + region.Size, draft, region));
                }
            }

            placed = [.. placed.OrderBy(static p => p.Start)]; // stable: on a tie, the partition listed first comes first
            for (var i = 1; i < placed.Count; i++)
            {
                var (previous, current) = (placed[i - 1], placed[i]);
                if (current.Start < previous.End && !ReferenceEquals(previous.Draft, current.Draft))
                {
                    throw yaml.Fail(current.Draft.At("memory"), $"SP '{current.Draft.Name}' region '{current.Region.Name}' (0x{current.Start:x}) overlaps SP '{previous.Draft.Name}' region '{previous.Region.Name}' (0x{previous.Start:x}..0x{previous.End:x}); an SP's regions are physical memory");
                }
            }
        }

        /// <summary>Whether each world's RAM can hold what the platform will take from it.</summary>
        private void CheckCapacity(List<Draft> drafts, YamlItem partitionsItem)
        {
            ulong secure = 0;
            ulong normal = roles == PlatformRoles.KernelAndSpmc ? 0UL : 2UL;
            foreach (var draft in drafts.Where(static d => d.Kind != PartitionKind.Kernel))
            {
                var config = draft.Config;
                var pages = config.Memory.Count > 0 ? config.Memory.Aggregate(0UL, static (sum, r) => sum + r.PageCount) : Platform.DefaultRamPages;
                pages += 2UL * config.RxTxPages;
                if (draft.Kind == PartitionKind.Sp)
                {
                    secure += pages;
                }
                else
                {
                    normal += pages;
                }
            }

            if (secure * PhysicalMemory.PageSize > Platform.SecureRamSize)
            {
                throw yaml.Fail(partitionsItem, $"the SPs need {secure} pages of secure RAM; there are {Platform.SecureRamSize / PhysicalMemory.PageSize}");
            }

            if (normal * PhysicalMemory.PageSize > Platform.NormalRamSize)
            {
                throw yaml.Fail(partitionsItem, $"the VMs need {normal} pages of normal RAM; there are {Platform.NormalRamSize / PhysicalMemory.PageSize}");
            }
        }
    }

    private static YamlText? Key(YamlMap map, string key)
    {
        foreach (var (k, _) in map.Entries)
        {
            if (string.Equals(k.Value, key, StringComparison.Ordinal))
            {
                return k;
            }
        }

        return null;
    }

    private static YamlItem? Value(YamlMap map, string key)
    {
        foreach (var (k, v) in map.Entries)
        {
            if (string.Equals(k.Value, key, StringComparison.Ordinal))
            {
                return v;
            }
        }

        return null;
    }

    private static string KindName(PartitionKind kind) => kind switch
    {
        PartitionKind.Vm => "VM",
        PartitionKind.Sp => "SP",
        _ => "kernel",
    };
}
