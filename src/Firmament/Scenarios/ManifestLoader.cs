using System.Globalization;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios;

/// <summary>One protocol UUID of an SP with the messaging methods it offers there (a v1.1 manifest's service).</summary>
public sealed record ManifestService(Uuid Uuid, PartitionProperties Messaging);

/// <summary>A secure interrupt a device region declares: its INTID and the manifest's attribute word.</summary>
public readonly record struct ManifestInterrupt(uint Id, uint Attributes);

/// <summary>
/// A memory or device region as the manifest writes it. Attributes: bit 0 read, bit 1 write, bit 2 execute, bit 3
/// non-secure.
/// </summary>
/// <param name="Node">The region's node path.</param>
/// <param name="Name">Its <c>description</c>, or the node name when it has none.</param>
/// <param name="Address">Its base address (for <c>load-address-relative-offset</c>, load address + offset).</param>
/// <param name="PageCount">Size in 4 KiB pages.</param>
/// <param name="Attributes">The attribute word.</param>
/// <param name="IsRelative">Written as an offset from the load address.</param>
/// <param name="Interrupts">A device region's interrupts (none for memory regions).</param>
public sealed record ManifestRegion(string Node, string Name, ulong Address, ulong PageCount, uint Attributes, bool IsRelative, IReadOnlyList<ManifestInterrupt> Interrupts)
{
    public const uint Read = 1u << 0;
    public const uint Write = 1u << 1;
    public const uint Execute = 1u << 2;
    public const uint NonSecure = 1u << 3;

    public bool IsNonSecure => (Attributes & NonSecure) != 0;

    public ulong Size => PageCount * PhysicalMemory.PageSize;

    public Stage2Access Access => (Stage2Access)(Attributes & (Read | Write | Execute));
}

/// <summary>Where the manifest's <c>rx_tx-info</c> puts the RX and TX buffers (both memory regions, equal in size).</summary>
public sealed record ManifestRxTx(ManifestRegion Rx, ManifestRegion Tx)
{
    public ulong PageCount => Rx.PageCount;
}

/// <summary>
/// An SP partition manifest (<c>arm,ffa-manifest-1.0</c> or <c>-1.1</c>) as read: the fields Firmament uses, typed, and
/// the rest it records (load address, device regions, image UUID). <see cref="ToPartitionConfig"/> makes the
/// partition a platform runs.
/// </summary>
public sealed record SpManifest
{
    /// <summary>Hafnium's boot order for a partition that gives none: after every partition that does.</summary>
    public const int DefaultBootOrder = 0xFFFF;

    /// <summary>Pages of the SP's image region when the manifest gives no <c>image-size</c> (1 MiB, FVP's mem_size).</summary>
    public const ulong DefaultImagePages = 256;

    public required string File { get; init; }

    /// <summary>The binding: <c>arm,ffa-manifest-1.0</c> or <c>arm,ffa-manifest-1.1</c>.</summary>
    public required string Compatible { get; init; }

    /// <summary><c>description</c> (TF-A) or <c>debug_name</c> (Hafnium), if any.</summary>
    public string? Description { get; init; }

    /// <summary>The FF-A version the manifest asks for (<c>ffa-version</c>), as written.</summary>
    public required FfaVersion Version { get; init; }

    /// <summary>One entry per UUID, in order; a v1.0 manifest's <c>messaging-method</c> applies to all or one each.</summary>
    public required IReadOnlyList<ManifestService> Services { get; init; }

    public IReadOnlyList<Uuid> Uuids => [.. Services.Select(static s => s.Uuid)];

    /// <summary>The <c>id</c> property as written, if present.</summary>
    public ushort? DeclaredId { get; init; }

    /// <summary>
    /// The endpoint ID <see cref="DeclaredId"/> names: as written when bit 15 is set (TF-A's EL3 SPMC manifests say
    /// 0x8001); otherwise the SP's index in the secure world, given bit 15 (TF-A-tests' cactus says 1 and runs as
    /// 0x8001 = SP_ID(1), which is also how Hafnium numbers its partitions). Null when the manifest has no id: the
    /// platform allocates one.
    /// </summary>
    public EndpointId? Id => DeclaredId is { } id ? new EndpointId((ushort)(id | 0x8000)) : null;

    /// <summary><c>execution-ctx-count</c>: 1 for a UP SP, else one per pCPU.</summary>
    public required int ExecutionContexts { get; init; }

    public required ExceptionLevel ExceptionLevel { get; init; }

    /// <summary><c>execution-state</c> 0.</summary>
    public bool AArch64 { get; init; } = true;

    public ulong? LoadAddress { get; init; }

    public ulong? EntrypointOffset { get; init; }

    public ulong? ImageSize { get; init; }

    /// <summary><c>boot-order</c>, if given.</summary>
    public int? BootOrder { get; init; }

    /// <summary>
    /// Partition properties: the services' messaging methods OR-ed (bits 0, 1, 2, 9, 10), notifications (bit 3),
    /// VM created/destroyed (bits 6, 7) and AArch64 (bit 8).
    /// </summary>
    public required PartitionProperties Properties { get; init; }

    public IReadOnlyList<ManifestRegion> MemoryRegions { get; init; } = [];

    /// <summary>Device regions: recorded, not mapped (Firmament has no devices).</summary>
    public IReadOnlyList<ManifestRegion> DeviceRegions { get; init; } = [];

    public ManifestRxTx? RxTx { get; init; }

    /// <summary>v1.3's <c>image-uuid</c>, read like the protocol UUIDs.</summary>
    public Uuid? ImageUuid { get; init; }

    /// <summary>What dtc and cpp warned (dtc's interrupts_property warning is normal for manifests).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>What the loader adjusted or assumed: an FF-A version newer than Firmament's, a stubbed header.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// The partition this manifest describes, named <paramref name="name"/> with endpoint ID <paramref name="id"/>.
    /// Memory: the manifest's memory regions at their addresses (IPA = the address the manifest writes, as an S-EL2
    /// SPMC maps them), plus an <c>image</c> region (RWX) at the load address — <c>image-size</c> long, or
    /// <see cref="DefaultImagePages"/> — unless a memory region already covers it. An FF-A version newer than
    /// Firmament's is served at Firmament's (a newer partition negotiates down with FFA_VERSION).
    /// </summary>
    public PartitionConfig ToPartitionConfig(string name, EndpointId id)
    {
        ArgumentNullException.ThrowIfNull(name);
        var memory = new List<MemoryRegion>();
        if (ImageRegion() is { } image)
        {
            memory.Add(image);
        }

        memory.AddRange(MemoryRegions.Select(static r => new MemoryRegion(r.Name, r.Address, r.PageCount, r.Access)));
        return new PartitionConfig
        {
            Name = name,
            Id = id,
            Kind = PartitionKind.Sp,
            Uuids = Uuids,
            ExceptionLevel = ExceptionLevel,
            VcpuCount = ExecutionContexts,
            Properties = Properties,
            Version = Version > FfaVersion.Latest ? FfaVersion.Latest : Version,
            Memory = memory,
            RxTxPages = RxTx is { } rxtx ? (uint)rxtx.PageCount : 1,
            RxAddress = RxTx?.Rx.Address,
            TxAddress = RxTx?.Tx.Address,
            BootOrder = BootOrder ?? DefaultBootOrder,
            Origin = File,
        };
    }

    private MemoryRegion? ImageRegion()
    {
        if (LoadAddress is not { } load)
        {
            return null;
        }

        var pages = ImageSize is { } size ? Math.Max(1, (size + PhysicalMemory.PageSize - 1) / PhysicalMemory.PageSize) : DefaultImagePages;
        var start = load & ~((ulong)PhysicalMemory.PageSize - 1);
        if (pages > ulong.MaxValue / PhysicalMemory.PageSize || start + (pages * PhysicalMemory.PageSize) < start)
        {
            return null;
        }

        var end = start + (pages * PhysicalMemory.PageSize);
        return MemoryRegions.Any(r => r.Address < end && start < r.Address + r.Size)
            ? null
            : new MemoryRegion("image", start, pages, Stage2Access.All);
    }
}

/// <summary>
/// Reads SP partition manifests — the TF-A/Hafnium device-tree binding (<c>arm,ffa-manifest-1.0</c>, and
/// <c>arm,ffa-manifest-1.1</c> with its <c>services</c> node) — from <c>.dts</c> (compiled with dtc, through cpp when
/// needed: <see cref="DtsCompiler"/>) or <c>.dtb</c>. Every problem is a <see cref="PlatformFileException"/> naming the
/// file and line the property was written on (from dtc's annotations) or, for a blob, the node path.
/// <para>UUIDs. A manifest's <c>uuid</c> cells are the four 32-bit words w1..w4 exactly as FF-A carries the UUID in
/// registers (FFA_PARTITION_INFO_GET w1..w4, and w1 holds bytes 0..3 little-endian): Hafnium copies the cells into the
/// words it puts in registers, and the live-activation manifest's comment confirms it (cells
/// <c>&lt;0x962a7bf0 …&gt;</c> are canonical <c>f07b2a96-…</c>). So a UUID is <see cref="Uuid.FromWords"/> of the cells,
/// and cactus's <c>&lt;0x1e67b5b4 0xe14f904a 0x13fb1fb8 0xcbdae1da&gt;</c> is, in RFC 4122 text,
/// b4b5671e-4a90-4fe1-b81f-fb13dae1dacb. A cell with few digits (Hafnium sp3's <c>0xcbab</c>) is still a whole
/// 32-bit word; a cell count that is not a multiple of four is an error. A v1.1 service's string UUID is turned into
/// words as Hafnium does — the first eight hex digits are w1, the next eight w2, and so on (big-endian reading of the
/// text) — so the v1.1 and v1.0 forms of the same manifest give the same registers; note that this makes a v1.1
/// string differ from the same text in a platform file's <c>uuids:</c>, which is RFC 4122 byte order.</para>
/// <para>SPMC core manifests (<c>arm,ffa-core-manifest-1.0</c>) are rejected with a message naming what they are:
/// Firmament's SPMC is configured by the platform file (roles, personality), not by a core manifest.</para>
/// </summary>
public static class ManifestLoader
{
    public const string Binding10 = "arm,ffa-manifest-1.0";
    public const string Binding11 = "arm,ffa-manifest-1.1";
    public const string CoreBinding = "arm,ffa-core-manifest-1.0";

    /// <summary>The messaging-method bits a manifest may set: direct req receive/send, indirect, req2 receive/send.</summary>
    public const PartitionProperties MessagingBits = PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests
        | PartitionProperties.SupportsIndirectMessages | PartitionProperties.ReceivesDirectRequests2 | PartitionProperties.SendsDirectRequests2;

    /// <summary>Loads a <c>.dts</c> or <c>.dtb</c>; <paramref name="includeDirs"/> are extra cpp include directories.</summary>
    public static SpManifest Load(string path, IReadOnlyList<string>? includeDirs = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        switch (extension)
        {
            case ".dtb":
                return Read(Fdt.Load(path));
            case ".dts":
            {
                var compiled = DtsCompiler.Compile(path, includeDirs);
                return Read(Fdt.Parse(compiled.Blob, path), compiled.Map, compiled.Warnings, compiled.Notes);
            }

            default:
                throw new PlatformFileException(path, 0, $"'{extension}' is not a manifest file type (a partition manifest is .dts or .dtb)");
        }
    }

    /// <summary>Reads a manifest from a parsed tree (its <see cref="Fdt.Source"/> names it in messages).</summary>
    public static SpManifest Read(Fdt tree, DtsSourceMap? map = null, IReadOnlyList<string>? toolWarnings = null, IReadOnlyList<string>? toolNotes = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        return new Reader(tree, map ?? DtsSourceMap.Empty, toolWarnings ?? [], toolNotes ?? []).Read();
    }

    /// <summary>
    /// A v1.1 service UUID string as Hafnium turns it into register words: hex digits 0-7 are w1, 8-15 w2 (the 2nd and
    /// 3rd groups), 16-23 w3, 24-31 w4. Canonical form only (8-4-4-4-12).
    /// </summary>
    public static bool TryParseServiceUuid(string text, out Uuid uuid)
    {
        ArgumentNullException.ThrowIfNull(text);
        uuid = Uuid.Nil;
        if (text.Length != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
        {
            return false;
        }

        var hex = text.Replace("-", string.Empty, StringComparison.Ordinal);
        Span<uint> words = stackalloc uint[4];
        for (var i = 0; i < 4; i++)
        {
            if (!uint.TryParse(hex.AsSpan(8 * i, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out words[i]))
            {
                return false;
            }
        }

        uuid = Uuid.FromWords(words[0], words[1], words[2], words[3]);
        return true;
    }

    private sealed class Reader(Fdt tree, DtsSourceMap map, IReadOnlyList<string> toolWarnings, IReadOnlyList<string> toolNotes)
    {
        private readonly List<string> _notes = [.. toolNotes];

        public SpManifest Read()
        {
            var root = tree.Root;
            var compatible = Compatible(root);
            var version = ReadVersion(root);
            var services = compatible == Binding10 ? ServicesV10(root) : ServicesV11(root);
            var properties = PartitionProperties.None;
            foreach (var service in services)
            {
                properties |= service.Messaging;
            }

            if ((properties & (PartitionProperties.ReceivesDirectRequests2 | PartitionProperties.SendsDirectRequests2)) != 0 && version < FfaVersion.V1_2)
            {
                throw Fail(root, "messaging-method", $"direct request 2 (bits 9, 10) needs FF-A v1.2 or later; ffa-version is {version}");
            }

            var contexts = U32(root, "execution-ctx-count") ?? throw Fail(root, null, "execution-ctx-count is missing (the number of vCPUs: 1, or one per pCPU)");
            if (contexts is 0 or > 0xFFFF)
            {
                throw Fail(root, "execution-ctx-count", $"execution-ctx-count {contexts} is out of range (1..65535)");
            }

            var level = ReadExceptionLevel(root);
            if (level == ExceptionLevel.SEl0 && contexts != 1)
            {
                throw Fail(root, "execution-ctx-count", $"an S-EL0 partition has exactly one execution context, not {contexts}");
            }

            var aarch64 = ReadExecutionState(root);
            if (aarch64)
            {
                properties |= PartitionProperties.AArch64;
            }

            if (Flag(root, "notification-support"))
            {
                properties |= PartitionProperties.ReceivesNotifications;
            }

            properties |= VmAvailability(root);

            var id = U32(root, "id");
            if (id is > 0xFFFF or 0 or 0x7FFF or 0x8000 or 0xFFFF)
            {
                throw Fail(root, "id", id is 0 or 0x8000
                    ? $"id 0x{id:x} would be the SPMC's own ID (0x8000); an SP's ID is 0x8001 or above (or its index 1, 2, …)"
                    : $"id 0x{id:x} is not an SP endpoint ID (16 bits, not 0xffff)");
            }

            var granule = U32(root, "xlat-granule");
            if (granule is > 0)
            {
                throw Fail(root, "xlat-granule", $"xlat-granule {granule} is not supported (0, 4 KiB pages, is)");
            }

            var load = Number(root, "load-address");
            var bootOrder = U32(root, "boot-order");
            if (bootOrder is > 0xFFFF)
            {
                throw Fail(root, "boot-order", $"boot-order {bootOrder} is out of range (0..65535)");
            }

            var memory = Regions(root, "memory-regions", "arm,ffa-manifest-memory-regions", load, device: false);
            var devices = Regions(root, "device-regions", "arm,ffa-manifest-device-regions", load, device: true);
            var rxtx = RxTx(root, memory);
            Uuid? imageUuid = null;
            if (root.Property("image-uuid") is { } imageProperty)
            {
                if (!imageProperty.TryGetCells(out var cells) || cells.Length != 4)
                {
                    throw Fail(root, "image-uuid", $"image-uuid must be four cells, not {imageProperty.Describe()}");
                }

                imageUuid = Uuid.FromWords(cells[0], cells[1], cells[2], cells[3]);
            }

            if (version > FfaVersion.Latest)
            {
                _notes.Add($"{tree.Source}: asks for FF-A {version}; Firmament implements {FfaVersion.Latest} and serves it at {FfaVersion.Latest}");
            }

            return new SpManifest
            {
                File = tree.Source,
                Compatible = compatible,
                Description = String(root, "description") ?? String(root, "debug_name"),
                Version = version,
                Services = services,
                DeclaredId = id is { } value ? (ushort)value : null,
                ExecutionContexts = (int)contexts,
                ExceptionLevel = level,
                AArch64 = aarch64,
                LoadAddress = load,
                EntrypointOffset = Number(root, "entrypoint-offset"),
                ImageSize = Number(root, "image-size"),
                BootOrder = bootOrder is { } order ? (int)order : null,
                Properties = properties,
                MemoryRegions = memory,
                DeviceRegions = devices,
                RxTx = rxtx,
                ImageUuid = imageUuid,
                Warnings = toolWarnings,
                Notes = _notes,
            };
        }

        private string Compatible(FdtNode root)
        {
            if (root.Property("compatible") is not { } property)
            {
                throw Fail(root, null, $"no compatible property: an SP manifest says compatible = \"{Binding10}\" (or -1.1)");
            }

            if (!property.TryGetStrings(out var list))
            {
                throw Fail(root, "compatible", $"compatible must be a string list, not {property.Describe()}");
            }

            if (list.Contains(CoreBinding, StringComparer.Ordinal))
            {
                throw Fail(root, "compatible", DescribeCoreManifest(root));
            }

            if (list.Contains(Binding10, StringComparer.Ordinal))
            {
                return Binding10;
            }

            if (list.Contains(Binding11, StringComparer.Ordinal))
            {
                return Binding11;
            }

            var ffa = list.FirstOrDefault(static c => c.StartsWith("arm,ffa-manifest-", StringComparison.Ordinal));
            throw Fail(root, "compatible", ffa is not null
                ? $"binding '{ffa}' is not supported ({Binding10} and {Binding11} are)"
                : $"'{string.Join(", ", list)}' is not an FF-A partition manifest ({Binding10} or {Binding11})");
        }

        private static string DescribeCoreManifest(FdtNode root)
        {
            var details = new List<string>();
            if (root.Child("attribute") is { } attribute)
            {
                if (attribute.Property("spmc_id") is { } spmcId && spmcId.TryGetU32(out var spmc))
                {
                    details.Add($"SPMC ID 0x{spmc:x}");
                }

                if (attribute.Property("maj_ver") is { } major && major.TryGetU32(out var maj)
                    && attribute.Property("min_ver") is { } minor && minor.TryGetU32(out var min))
                {
                    details.Add($"FF-A {maj}.{min}");
                }
            }

            if (root.Child("hypervisor") is { } hypervisor)
            {
                var names = hypervisor.Children
                    .Select(static vm => vm.Property("debug_name") is { } name && name.TryGetString(out var text) ? text : vm.Name)
                    .ToList();
                if (names.Count > 0)
                {
                    details.Add("partitions " + string.Join(", ", names));
                }
            }

            var what = details.Count > 0 ? $" ({string.Join("; ", details)})" : string.Empty;
            return $"this is an SPMC core manifest ({CoreBinding}){what}, not a partition manifest: Firmament's SPMC is set up by the "
                + "platform file (roles, personality); list each partition's own manifest under partitions: instead";
        }

        private FfaVersion ReadVersion(FdtNode root)
        {
            var word = U32(root, "ffa-version") ?? throw Fail(root, null, "ffa-version is missing (e.g. <0x00010002> for v1.2)");
            if (!FfaVersion.TryDecode(word, out var version) || version.Major != 1)
            {
                throw Fail(root, "ffa-version", $"ffa-version 0x{word:x8} is not an FF-A v1.x version (major in bits 30:16, minor in 15:0)");
            }

            return version;
        }

        private List<ManifestService> ServicesV10(FdtNode root)
        {
            if (root.Property("uuid") is not { } uuidProperty)
            {
                throw Fail(root, null, "uuid is missing (one or more <w1 w2 w3 w4> entries)");
            }

            if (!uuidProperty.TryGetCells(out var cells) || cells.Length == 0)
            {
                throw Fail(root, "uuid", $"uuid must be 32-bit cells, not {uuidProperty.Describe()}");
            }

            if (cells.Length % 4 != 0)
            {
                throw Fail(root, "uuid", $"uuid has {cells.Length} cells; each UUID is four cells <w1 w2 w3 w4> (a short entry cannot be told apart from the next one)");
            }

            if (root.Property("messaging-method") is not { } methodProperty)
            {
                throw Fail(root, null, "messaging-method is missing (bit 0 receives direct requests, 1 sends them, 2 indirect, 9/10 direct request 2)");
            }

            if (!methodProperty.TryGetCells(out var methods) || methods.Length == 0)
            {
                throw Fail(root, "messaging-method", $"messaging-method must be 32-bit cells, not {methodProperty.Describe()}");
            }

            var count = cells.Length / 4;
            if (methods.Length != 1 && methods.Length != count)
            {
                throw Fail(root, "messaging-method", $"messaging-method has {methods.Length} entries for {count} UUIDs (one for all, or one per UUID)");
            }

            var services = new List<ManifestService>();
            for (var i = 0; i < count; i++)
            {
                var uuid = Uuid.FromWords(cells[4 * i], cells[(4 * i) + 1], cells[(4 * i) + 2], cells[(4 * i) + 3]);
                var messaging = Messaging(root, "messaging-method", methods[methods.Length == 1 ? 0 : i]);
                AddService(services, root, "uuid", uuid, messaging);
            }

            return services;
        }

        private List<ManifestService> ServicesV11(FdtNode root)
        {
            if (root.Has("uuid") || root.Has("messaging-method"))
            {
                _notes.Add($"{tree.Source}: {Binding11} takes UUIDs and messaging methods from the services node; the root's uuid/messaging-method are ignored");
            }

            if (root.Child("services") is not { } node)
            {
                throw Fail(root, null, $"{Binding11} needs a services node (compatible = \"arm,ffa-manifest-services\") with one child per service");
            }

            CheckCompatible(node, "arm,ffa-manifest-services");
            if (node.Children.Count == 0)
            {
                throw Fail(node, null, "the services node has no services");
            }

            var services = new List<ManifestService>();
            foreach (var service in node.Children)
            {
                if (service.Property("uuid") is not { } uuidProperty)
                {
                    throw Fail(service, null, "a service needs a uuid (a string, \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\")");
                }

                if (!uuidProperty.TryGetString(out var text) || !TryParseServiceUuid(text, out var uuid))
                {
                    throw Fail(service, "uuid", $"uuid must be a canonical UUID string, not {uuidProperty.Describe()}");
                }

                if (service.Property("messaging-method") is not { } methodProperty)
                {
                    throw Fail(service, null, "a service needs a messaging-method");
                }

                if (!methodProperty.TryGetU32(out var method))
                {
                    throw Fail(service, "messaging-method", $"messaging-method must be one cell, not {methodProperty.Describe()}");
                }

                AddService(services, service, "uuid", uuid, Messaging(service, "messaging-method", method));
            }

            return services;
        }

        private void AddService(List<ManifestService> services, FdtNode node, string property, Uuid uuid, PartitionProperties messaging)
        {
            if (uuid.IsNil)
            {
                throw Fail(node, property, "the Nil UUID (all zero) cannot name a partition's service");
            }

            if (services.Exists(s => s.Uuid == uuid))
            {
                throw Fail(node, property, $"UUID {uuid} is listed twice");
            }

            services.Add(new ManifestService(uuid, messaging));
        }

        private PartitionProperties Messaging(FdtNode node, string property, uint value)
        {
            var bits = (PartitionProperties)value;
            if (value == 0 || value > 0xFFFF || (bits & ~MessagingBits) != 0)
            {
                throw Fail(node, property, $"messaging-method 0x{value:x} is not valid: it must be non-zero with only bits 0, 1, 2, 9, 10 (0x{(uint)MessagingBits:x}) set");
            }

            return bits;
        }

        private ExceptionLevel ReadExceptionLevel(FdtNode root)
        {
            var value = U32(root, "exception-level") ?? throw Fail(root, null, "exception-level is missing (1 = S-EL0, 2 = S-EL1)");
            return value switch
            {
                1 => ExceptionLevel.SEl0,
                2 => ExceptionLevel.SEl1,
                0 => throw Fail(root, "exception-level", "exception-level 0 is EL1, a normal-world (VM) level; an SP runs at 1 (S-EL0) or 2 (S-EL1)"),
                _ => throw Fail(root, "exception-level", $"exception-level {value} is not supported (1 = S-EL0, 2 = S-EL1)"),
            };
        }

        private bool ReadExecutionState(FdtNode root)
        {
            var value = U32(root, "execution-state") ?? throw Fail(root, null, "execution-state is missing (0 = AArch64)");
            return value switch
            {
                0 => true,
                1 => false,
                _ => throw Fail(root, "execution-state", $"execution-state {value} is not valid (0 = AArch64, 1 = AArch32)"),
            };
        }

        private PartitionProperties VmAvailability(FdtNode root)
        {
            var value = U32(root, "vm-availability-messages");
            if (value is null or 0)
            {
                return PartitionProperties.None;
            }

            if ((value & ~3u) != 0)
            {
                throw Fail(root, "vm-availability-messages", $"vm-availability-messages 0x{value:x} has bits other than 0 (VM created) and 1 (VM destroyed)");
            }

            return ((value & 1) != 0 ? PartitionProperties.InformedOfVmCreation : PartitionProperties.None)
                | ((value & 2) != 0 ? PartitionProperties.InformedOfVmDestruction : PartitionProperties.None);
        }

        private List<ManifestRegion> Regions(FdtNode root, string name, string compatible, ulong? load, bool device)
        {
            var regions = new List<ManifestRegion>();
            if (root.Child(name) is not { } node)
            {
                return regions;
            }

            CheckCompatible(node, compatible);
            foreach (var region in node.Children)
            {
                regions.Add(Region(region, load, device));
            }

            return regions;
        }

        private ManifestRegion Region(FdtNode node, ulong? load, bool device)
        {
            var absolute = Number(node, "base-address");
            var offset = device ? null : Number(node, "load-address-relative-offset");
            ulong address;
            if (absolute is { } a)
            {
                if (offset is not null)
                {
                    throw Fail(node, "load-address-relative-offset", "a region has base-address or load-address-relative-offset, not both");
                }

                address = a;
            }
            else if (offset is { } o)
            {
                if (load is not { } l)
                {
                    throw Fail(node, "load-address-relative-offset", "load-address-relative-offset needs the manifest's load-address");
                }

                if (o > ulong.MaxValue - l)
                {
                    throw Fail(node, "load-address-relative-offset", $"load-address 0x{l:x} + offset 0x{o:x} overflows");
                }

                address = l + o;
            }
            else
            {
                throw Fail(node, null, device ? "a device region needs base-address" : "a memory region needs base-address or load-address-relative-offset");
            }

            if (address % PhysicalMemory.PageSize != 0)
            {
                throw Fail(node, offset is null ? "base-address" : "load-address-relative-offset", $"address 0x{address:x} is not 4 KiB aligned");
            }

            var pages = U32(node, "pages-count") ?? throw Fail(node, null, "pages-count is missing");
            if (pages == 0)
            {
                throw Fail(node, "pages-count", "pages-count is 0; a region has at least one page");
            }

            if (address + ((ulong)pages * PhysicalMemory.PageSize) - 1 < address)
            {
                throw Fail(node, "pages-count", $"0x{address:x} + {pages} pages runs past the end of the address space");
            }

            var attributes = U32(node, "attributes") ?? throw Fail(node, null, "attributes is missing (bit 0 R, 1 W, 2 X, 3 NS)");
            var permissions = attributes & (ManifestRegion.Read | ManifestRegion.Write | ManifestRegion.Execute);
            if ((attributes & ~0xFu) != 0)
            {
                throw Fail(node, "attributes", $"attributes 0x{attributes:x} has bits other than 0 R, 1 W, 2 X, 3 NS");
            }

            var allowed = device
                ? permissions is ManifestRegion.Read or (ManifestRegion.Read | ManifestRegion.Write)
                : permissions is ManifestRegion.Read or (ManifestRegion.Read | ManifestRegion.Write) or (ManifestRegion.Read | ManifestRegion.Execute);
            if (!allowed)
            {
                throw Fail(node, "attributes", device
                    ? $"attributes 0x{attributes:x}: a device region is read-only (0x1) or read-write (0x3)"
                    : $"attributes 0x{attributes:x}: a memory region is read-only (0x1), read-write (0x3) or read-execute (0x5), optionally with NS (0x8)");
            }

            var interrupts = new List<ManifestInterrupt>();
            if (device && node.Property("interrupts") is { } property)
            {
                if (!property.TryGetCells(out var cells) || cells.Length % 2 != 0)
                {
                    throw Fail(node, "interrupts", $"interrupts must be <id attributes> pairs, not {property.Describe()}");
                }

                for (var i = 0; i < cells.Length; i += 2)
                {
                    interrupts.Add(new ManifestInterrupt(cells[i], cells[i + 1]));
                }
            }

            var name = String(node, "description") ?? node.Name;
            return new ManifestRegion(node.Path, name, address, pages, attributes, offset is not null, interrupts);
        }

        private ManifestRxTx? RxTx(FdtNode root, List<ManifestRegion> memory)
        {
            if (root.Child("rx_tx-info") is not { } node)
            {
                return null;
            }

            CheckCompatible(node, "arm,ffa-manifest-rx_tx-buffer");
            var rx = Buffer(node, "rx-buffer", memory);
            var tx = Buffer(node, "tx-buffer", memory);
            if (ReferenceEquals(rx, tx))
            {
                throw Fail(node, "tx-buffer", $"rx-buffer and tx-buffer are the same region ({rx.Node})");
            }

            if (rx.PageCount != tx.PageCount)
            {
                throw Fail(node, "tx-buffer", $"the RX buffer ({rx.PageCount} pages) and the TX buffer ({tx.PageCount} pages) differ in size");
            }

            return new ManifestRxTx(rx, tx);
        }

        private ManifestRegion Buffer(FdtNode node, string property, List<ManifestRegion> memory)
        {
            if (node.Property(property) is not { } reference)
            {
                throw Fail(node, null, $"{property} is missing (a phandle to a memory-regions node: <&label>)");
            }

            if (!reference.TryGetPhandleTarget(tree, out var target))
            {
                throw Fail(node, property, $"{property} must be a phandle to a memory-regions node, not {reference.Describe()}");
            }

            return memory.Find(r => string.Equals(r.Node, target.Path, StringComparison.Ordinal))
                ?? throw Fail(node, property, $"{property} points at {target.Path}, which is not a memory region");
        }

        private void CheckCompatible(FdtNode node, string compatible)
        {
            if (node.Property("compatible") is { } property && !node.IsCompatible(compatible))
            {
                throw Fail(node, "compatible", $"{node.Name} must be compatible = \"{compatible}\", not {property.Describe()}");
            }
        }

        private uint? U32(FdtNode node, string name)
        {
            if (node.Property(name) is not { } property)
            {
                return null;
            }

            if (!property.TryGetU32(out var value))
            {
                throw Fail(node, name, $"{name} must be one 32-bit cell, not {property.Describe()}");
            }

            return value;
        }

        private ulong? Number(FdtNode node, string name)
        {
            if (node.Property(name) is not { } property)
            {
                return null;
            }

            if (!property.TryGetNumber(out var value))
            {
                throw Fail(node, name, $"{name} must be one cell or two (high, low), not {property.Describe()}");
            }

            return value;
        }

        private string? String(FdtNode node, string name)
        {
            if (node.Property(name) is not { } property)
            {
                return null;
            }

            if (!property.TryGetString(out var value))
            {
                throw Fail(node, name, $"{name} must be a string, not {property.Describe()}");
            }

            return value;
        }

        private bool Flag(FdtNode node, string name)
        {
            if (node.Property(name) is not { } property)
            {
                return false;
            }

            if (!property.IsEmpty)
            {
                throw Fail(node, name, $"{name} is a flag and takes no value (it has {property.Describe()})");
            }

            return true;
        }

        /// <summary>An error at a node (and property): the file and line dtc saw it on, else the blob with the node path.</summary>
        private PlatformFileException Fail(FdtNode node, string? property, string reason)
        {
            var where = property is null ? node.Path : node.Parent is null ? "/" + property : node.Path + "/" + property;
            return map.TryLocate(node.Path, property, out var file, out var line)
                ? new PlatformFileException(file, line, $"{where}: {reason}")
                : new PlatformFileException(tree.Source, 0, $"{where}: {reason}");
        }
    }
}
