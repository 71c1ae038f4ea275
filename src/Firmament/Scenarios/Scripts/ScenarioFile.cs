using System.Globalization;
using System.Text;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios.Scripts;

/// <summary>
/// Reads a scenario file (YAML). Every problem is a <see cref="PlatformFileException"/> naming the file and line;
/// nothing runs half-read. The format is described in docs/scenarios.md.
/// </summary>
public static partial class ScenarioFile
{
    private static readonly string[] TopKeys = ["name", "description", "tags", "platform", "personality", "personalities", "seed", "scripted", "scripted-boot", "steps", "explore"];
    private static readonly string[] StepKinds = ["call", "regs", "await", "check", "write", "interrupt", "power", "hypercall"];

    public static Scenario Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(PlatformLoader.ReadText(path), path);
    }

    public static Scenario Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        var yaml = new PlatformYaml(file);
        var top = yaml.Map(yaml.Read(text), "the scenario", TopKeys);
        var directory = Path.GetDirectoryName(file) ?? string.Empty;
        var name = Value(top, "name") is { } n ? yaml.Text(n, "name") : Path.GetFileNameWithoutExtension(file);
        if (Value(top, "platform") is not { } platformItem)
        {
            throw yaml.Fail(top, "a scenario needs a platform: a platform file's path, or the platform itself");
        }

        var platform = platformItem is YamlText path
            ? PlatformFile.Load(Path.Combine(directory, yaml.Text(path, "platform")))
            : PlatformFile.Parse(yaml, platformItem, directory, name);
        if (Value(top, "seed") is { } seed)
        {
            platform = platform with { Seed = yaml.Integer(seed, "seed", 0, ulong.MaxValue) };
        }

        var scripted = Value(top, "scripted") is { } list
            ? yaml.List(list, "scripted").Select(i => (Item: i, Name: yaml.Text(i, "scripted"))).ToList()
            : [];
        foreach (var (item, partition) in scripted)
        {
            if (!platform.Partitions.Any(p => p.Name == partition))
            {
                throw yaml.Fail(item, $"scripted: no partition is called '{partition}' (partitions: {string.Join(", ", platform.Partitions.Select(static p => p.Name))})");
            }
        }

        var scriptedNames = scripted.Select(static s => s.Name).ToHashSet(StringComparer.Ordinal);
        var scriptedBoot = Value(top, "scripted-boot") is { } bootList
            ? yaml.List(bootList, "scripted-boot").Select(i => (Item: i, Name: yaml.Text(i, "scripted-boot"))).ToList()
            : [];
        foreach (var (item, partition) in scriptedBoot)
        {
            if (!scriptedNames.Contains(partition) || platform.Partitions.First(p => p.Name == partition).Kind != PartitionKind.Sp)
            {
                throw yaml.Fail(item, $"scripted-boot: '{partition}' must be a scripted SP (list it under scripted: too)");
            }
        }

        platform = platform with
        {
            Partitions = [.. platform.Partitions.Select(p => scriptedNames.Contains(p.Name) ? p with { Scripted = true, Program = null, ProgramName = "script" } : p)],
        };

        var personalities = Personalities(yaml, top, platform.Personality);
        var context = new StepContext(yaml, platform, personalities);
        var explore = Value(top, "explore") is { } exploreItem ? Explore(yaml, exploreItem, platform) : null;
        var steps = Value(top, "steps") is { } stepsItem
            ? yaml.List(stepsItem, "steps").Select(context.Step).ToList()
            : explore is not null ? [] : throw yaml.Fail(top, "a scenario needs steps (or an explore: section, to be run by firmament explore)");
        var tags = Value(top, "tags") is { } tagItem ? yaml.List(tagItem, "tags").Select(t => yaml.Text(t, "tags")).ToList() : [];
        return new Scenario
        {
            Name = name,
            File = file,
            Platform = platform,
            Personalities = personalities,
            Steps = steps,
            Tags = tags,
            ScriptedBoot = [.. scriptedBoot.Select(static s => s.Name)],
            Explore = explore,
        };
    }

    /// <summary>The <c>explore:</c> section: power (VMs), start-offline (VMs), abort (any partition), delay-interrupts, rate, max-steps.</summary>
    private static Exploration.ExploreFaults Explore(PlatformYaml yaml, YamlItem item, PlatformDescription platform)
    {
        var map = yaml.Map(item, "explore", ["power", "start-offline", "abort", "delay-interrupts", "rate", "max-steps"]);
        List<string> Names(string key, bool vmsOnly)
        {
            if (Value(map, key) is not { } list)
            {
                return [];
            }

            var names = new List<string>();
            foreach (var entry in yaml.List(list, key))
            {
                var name = yaml.Text(entry, key);
                var partition = platform.Partitions.FirstOrDefault(p => p.Name == name)
                    ?? throw yaml.Fail(entry, $"{key}: no partition is called '{name}' (partitions: {string.Join(", ", platform.Partitions.Select(static p => p.Name))})");
                if (vmsOnly && (partition.Kind != PartitionKind.Vm || platform.Roles == PlatformRoles.KernelAndSpmc))
                {
                    throw yaml.Fail(entry, $"{key}: '{name}' is not a VM under a hypervisor (only VMs' vCPUs go offline and online)");
                }

                names.Add(name);
            }

            return names;
        }

        return new Exploration.ExploreFaults
        {
            Power = Names("power", vmsOnly: true),
            StartOffline = Names("start-offline", vmsOnly: true),
            Abort = Names("abort", vmsOnly: false),
            DelayInterrupts = Value(map, "delay-interrupts") is { } delay && yaml.Boolean(delay, "delay-interrupts"),
            Rate = Value(map, "rate") is { } rate ? (int)yaml.Integer(rate, "rate", 1, 1_000_000) : 8,
            MaxSteps = Value(map, "max-steps") is { } max ? (long)yaml.Integer(max, "max-steps", 1, 100_000_000) : 200_000,
        };
    }

    private static List<Personality> Personalities(PlatformYaml yaml, YamlMap top, Personality platformDefault)
    {
        var items = new List<YamlItem>();
        if (Value(top, "personality") is { } one)
        {
            items.Add(one);
        }

        if (Value(top, "personalities") is { } many)
        {
            items.AddRange(yaml.List(many, "personalities"));
        }

        if (items.Count == 0)
        {
            return [platformDefault];
        }

        return items.Select(item =>
        {
            var text = yaml.Text(item, "personality");
            return Personality.TryGet(text, out var p)
                ? p
                : throw yaml.Fail(item, $"unknown personality '{text}' (known: {string.Join(", ", Personality.All.Select(static x => x.Name))})");
        }).ToList();
    }

    internal static YamlItem? Value(YamlMap map, string key) =>
        map.Entries.FirstOrDefault(e => string.Equals(e.Key.Value, key, StringComparison.Ordinal)).Value;

    /// <summary>Reads steps against the platform (endpoint names) and the personalities (per-personality expectations).</summary>
    private sealed partial class StepContext(PlatformYaml yaml, PlatformDescription platform, IReadOnlyList<Personality> personalities)
    {
        public ScenarioStep Step(YamlItem item)
        {
            if (item is not YamlMap map)
            {
                throw yaml.Fail(item, $"a step must be a mapping, not {item.Kind}");
            }

            var kinds = map.Entries.Where(e => StepKinds.Contains(e.Key.Value, StringComparer.Ordinal)).ToList();
            if (kinds.Count != 1)
            {
                throw yaml.Fail(map, $"a step has exactly one of: {string.Join(", ", StepKinds)}");
            }

            var (key, value) = kinds[0];
            return key.Value switch
            {
                "call" or "regs" => Call(map, key.Value, value),
                "await" => Await(map, value),
                "check" => Check(map, value),
                "write" => Write(map, value),
                "power" => Power(map, value),
                "hypercall" => Hypercall(map, value),
                _ => Interrupt(map, value),
            };
        }

        private HypercallStep Hypercall(YamlMap map, YamlItem value)
        {
            var (by, vcpu) = Who(map, "by");
            return GunyahSteps.Read(yaml, map, value, by, vcpu, platform);
        }

        private CallStep Call(YamlMap map, string kind, YamlItem value)
        {
            // For an ABI with a vcpu field (RUN, INTERRUPT, NOTIFICATION_GET and SET) vcpu: is that field, and the caller's
            // own vCPU is written by: name.N.
            var vcpuIsField = kind == "call"
                && value is YamlText callText
                && FfaFunctions.TryParseName(callText.Value, out var named, out _)
                && CallBuilder.FieldNames(named.Function).Contains("vcpu", StringComparer.Ordinal);
            var (by, vcpu) = Who(map, "by", vcpuKey: !vcpuIsField);
            RegisterFrame frame;
            var fields = new List<(string, ulong)>();
            var raw = new List<(int Register, ulong Value, bool Is32)>();
            var known = new List<string> { kind, "by", "expect" };
            if (!vcpuIsField)
            {
                known.Add("vcpu");
            }

            if (kind == "regs")
            {
                var registers = yaml.List(value, "regs");
                if (registers.Count > RegisterFrame.Count)
                {
                    throw yaml.Fail(value, $"regs: {registers.Count} registers given, a frame holds x0..x17");
                }

                frame = default;
                for (var i = 0; i < registers.Count; i++)
                {
                    frame[i] = yaml.Integer(registers[i], $"x{i}", 0, ulong.MaxValue);
                }

                yaml.Map(map, "a regs step", known);
                return new CallStep(map.Line, by, vcpu, frame, Expect(map));
            }

            var callName = yaml.Text(value, "call");
            if (!FfaFunctions.TryParseName(callName, out var info, out var wide))
            {
                throw yaml.Fail(value, $"'{callName}' is not an FF-A function name (e.g. FFA_MSG_SEND_DIRECT_REQ_64)");
            }

            var is64 = wide ?? (info.Conventions == CallConventions.Smc64);
            var caller = platform.Partitions.First(p => p.Name == by);
            foreach (var (fieldKey, fieldValue) in map.Entries.Where(e => !known.Contains(e.Key.Value, StringComparer.Ordinal)))
            {
                var name = fieldKey.Value.Replace('-', '_');
                if (Register(name) is { } register)
                {
                    raw.Add((register.Index, Number(fieldValue, name), register.Is32));
                }
                else if (name is not ("payload" or "uuid"))
                {
                    fields.Add((name, FieldValue(fieldValue, name)));
                }
            }

            // A direct message's sender, and RXTX_MAP's buffers, default to the caller's own.
            var function = info.Function;
            if (function is FfaFunction.MsgSendDirectReq or FfaFunction.MsgSendDirectResp or FfaFunction.MsgSendDirectReq2 or FfaFunction.MsgSendDirectResp2
                && !fields.Exists(static f => f.Item1 == "sender"))
            {
                fields.Add(("sender", caller.Id.Value));
            }

            DefaultDescriptorLengths(by, function, fields);
            if (!CallBuilder.TryBuild(function, is64, fields, out frame, out var reason))
            {
                throw yaml.Fail(map, reason);
            }

            // An RXTX_MAP that names no buffer, by field or raw register, maps the ones the platform placed for the caller.
            var ownBuffers = function == FfaFunction.RxTxMap
                && !fields.Exists(static f => f.Item1 is "tx_address" or "rx_address" or "page_count")
                && !raw.Exists(static r => r.Register is 1 or 2 or 3);

            if (SubValue(map, "uuid") is { } uuidItem)
            {
                var uuid = UuidOf(uuidItem);
                switch (function)
                {
                    case FfaFunction.PartitionInfoGet:
                        var (w1, w2, w3, w4) = uuid.ToWords();
                        (frame[1], frame[2], frame[3], frame[4]) = (w1, w2, w3, w4);
                        break;
                    case FfaFunction.PartitionInfoGetRegs:
                        (frame[1], frame[2]) = (uuid.Low, uuid.High);
                        break;
                    case FfaFunction.MsgSendDirectReq2:
                        (frame[2], frame[3]) = (uuid.Low, uuid.High);
                        break;
                    default:
                        throw yaml.Fail(uuidItem, $"{info.Name} has no uuid field");
                }
            }

            if (SubValue(map, "payload") is { } payloadItem)
            {
                var words = yaml.List(payloadItem, "payload");
                var first = CallBuilder.PayloadRegister(function);
                if (first + words.Count > RegisterFrame.Count)
                {
                    throw yaml.Fail(payloadItem, $"payload: {words.Count} words do not fit from x{first}");
                }

                for (var i = 0; i < words.Count; i++)
                {
                    frame[first + i] = Number(words[i], $"payload[{i}]");
                }
            }

            foreach (var (register, registerValue, _) in raw)
            {
                frame[register] = registerValue;
            }

            return new CallStep(map.Line, by, vcpu, frame, Expect(map), ownBuffers);
        }

        private AwaitStep Await(YamlMap map, YamlItem value)
        {
            yaml.Map(map, "an await step", ["await", "vcpu", "expect"]);
            var (by, vcpu) = Who(map, "await");
            return new AwaitStep(map.Line, by, vcpu, Expect(map));
        }

        private CheckStep Check(YamlMap map, YamlItem value)
        {
            yaml.Map(map, "a check step", ["check"]);
            var checks = yaml.Map(value, "check", ["rx-owner", "rx-owner-at-spmc", "vcpu-state", "memory", "mapped", "mapped-at-spmc", "aborted", "interrupt-pending", "framework-pending", "version", "version-locked", "page", "owner", "transactions"]);
            var result = new List<StateCheck>();
            foreach (var (key, item) in checks.Entries)
            {
                switch (key.Value)
                {
                    case "rx-owner" or "rx-owner-at-spmc":
                        foreach (var (partition, owner) in PerPartition(item, key.Value))
                        {
                            var text = yaml.Text(owner, key.Value);
                            var parsed = text switch
                            {
                                "manager" or "free" => RxOwner.Manager,
                                "endpoint" => RxOwner.Endpoint,
                                "hypervisor" => RxOwner.Hypervisor,
                                _ => throw yaml.Fail(owner, $"{key.Value}: '{text}' is not an owner (manager, endpoint, hypervisor)"),
                            };
                            result.Add(new RxOwnerCheck(owner.Line, partition, parsed, key.Value.EndsWith("spmc", StringComparison.Ordinal)));
                        }

                        break;
                    case "vcpu-state":
                        foreach (var (partition, state) in PerPartition(item, key.Value))
                        {
                            var (name, vcpu) = SplitVcpu(partition, state);
                            var text = yaml.Text(state, "vcpu-state");
                            result.Add(new VcpuStateCheck(state.Line, name, vcpu, Enum.TryParse<VcpuState>(text, true, out var s)
                                ? s
                                : throw yaml.Fail(state, $"'{text}' is not a vCPU state ({string.Join(", ", Enum.GetNames<VcpuState>()).ToLowerInvariant()})")));
                        }

                        break;
                    case "mapped" or "mapped-at-spmc":
                        foreach (var (partition, flag) in PerPartition(item, key.Value))
                        {
                            result.Add(new MappedCheck(flag.Line, partition, yaml.Boolean(flag, key.Value), key.Value.EndsWith("spmc", StringComparison.Ordinal)));
                        }

                        break;
                    case "version":
                        foreach (var (partition, version) in PerPartition(item, key.Value))
                        {
                            result.Add(new VersionCheck(version.Line, partition, VersionOf(version)));
                        }

                        break;
                    case "version-locked":
                        foreach (var (partition, flag) in PerPartition(item, key.Value))
                        {
                            result.Add(new VersionLockedCheck(flag.Line, partition, yaml.Boolean(flag, key.Value)));
                        }

                        break;
                    case "aborted":
                        foreach (var (partition, flag) in PerPartition(item, key.Value))
                        {
                            result.Add(new AbortedCheck(flag.Line, partition, yaml.Boolean(flag, key.Value)));
                        }

                        break;
                    case "memory":
                        var memory = yaml.Map(item, "memory", ["partition", "buffer", "offset", "bytes", "text", "of"]);
                        result.Add(new MemoryCheck(item.Line, PartitionName(Required(memory, "partition")), BufferName(memory), Offset(memory), Bytes(memory), Of(memory)));
                        break;
                    case "page":
                        var page = yaml.Map(item, "page", ["partition", "address", "access", "of"]);
                        var accessText = yaml.Text(Required(page, "access"), "access");
                        var access = accessText switch
                        {
                            "none" => Stage2Access.None,
                            "r" => Stage2Access.Read,
                            "rw" => Stage2Access.ReadWrite,
                            "rx" => Stage2Access.ReadExecute,
                            "rwx" => Stage2Access.All,
                            _ => throw yaml.Fail(page, $"page access '{accessText}' is not none, r, rw, rx or rwx"),
                        };
                        result.Add(new PageCheck(item.Line, PartitionName(Required(page, "partition")), yaml.Integer(Required(page, "address"), "address", 0, ulong.MaxValue), access, Of(page)));
                        break;
                    case "owner":
                        result.Add(OwnerCheckOf(item));
                        break;
                    case "transactions":
                        result.Add(TransactionsCheckOf(item));
                        break;
                    case "interrupt-pending":
                        var interrupt = yaml.Map(item, "interrupt-pending", ["partition", "vcpu", "id", "pending"]);
                        result.Add(new InterruptCheck(
                            item.Line,
                            PartitionName(Required(interrupt, "partition")),
                            SubValue(interrupt, "vcpu") is { } v ? (ushort)yaml.Integer(v, "vcpu", 0, ushort.MaxValue) : (ushort)0,
                            (int)yaml.Integer(Required(interrupt, "id"), "id", 0, InterruptIds.LastSpi),
                            SubValue(interrupt, "pending") is not { } p || yaml.Boolean(p, "pending")));
                        break;
                    default:
                        foreach (var (partition, bits) in PerPartition(item, key.Value))
                        {
                            var framework = yaml.Map(bits, "framework-pending", ["spm", "hypervisor"]);
                            result.Add(new FrameworkPendingCheck(
                                bits.Line,
                                partition,
                                SubValue(framework, "spm") is { } spm ? (uint)yaml.Integer(spm, "spm", 0, uint.MaxValue) : 0,
                                SubValue(framework, "hypervisor") is { } hyp ? (uint)yaml.Integer(hyp, "hypervisor", 0, uint.MaxValue) : 0));
                        }

                        break;
                }
            }

            return new CheckStep(map.Line, result);
        }

        private WriteStep Write(YamlMap map, YamlItem value)
        {
            yaml.Map(map, "a write step", ["write"]);
            var write = yaml.Map(value, "write", ["partition", "buffer", "offset", "bytes", "text", "message", "descriptor", "relinquish", "of"]);
            var partition = PartitionName(Required(write, "partition"));
            if (MemoryWrite(map, write, partition) is { } memoryWrite)
            {
                return memoryWrite;
            }

            if (SubValue(write, "message") is { } messageItem)
            {
                var message = yaml.Map(messageItem, "message", ["receiver", "sender", "payload", "text", "uuid", "version"]);
                var sender = SubValue(message, "sender") is { } s ? Endpoint(s) : Config(partition).Id;
                var receiver = Endpoint(Required(message, "receiver"));
                var payload = SubValue(message, "text") is { } t ? Encoding.UTF8.GetBytes(yaml.Text(t, "text")) : Hex(Required(message, "payload"));
                var version = SubValue(message, "version") is { } v ? VersionOf(v) : Config(partition).Version;
                var uuid = SubValue(message, "uuid") is { } u ? UuidOf(u) : Uuid.Nil;
                var header = IndirectMessageHeader.For(version, sender, receiver, (uint)payload.Length, uuid);
                var size = IndirectMessageHeader.SizeFor(version);
                var bytes = new byte[size + payload.Length];
                header.TryWrite(bytes, version, out _);
                payload.CopyTo(bytes, size);
                return new WriteStep(map.Line, partition, "tx", 0, bytes);
            }

            return new WriteStep(map.Line, partition, BufferName(write), Offset(write), Bytes(write), Of(write));
        }

        private PowerStep Power(YamlMap map, YamlItem value)
        {
            yaml.Map(map, "a power step", ["power"]);
            var power = yaml.Map(value, "power", ["partition", "vcpu", "online"]);
            return new PowerStep(
                map.Line,
                PartitionName(Required(power, "partition")),
                SubValue(power, "vcpu") is { } v ? (ushort)yaml.Integer(v, "vcpu", 0, ushort.MaxValue) : (ushort)0,
                yaml.Boolean(Required(power, "online"), "online"));
        }

        private ScenarioStep Interrupt(YamlMap map, YamlItem value)
        {
            yaml.Map(map, "an interrupt step", ["interrupt"]);
            var interrupt = yaml.Map(value, "interrupt", ["non-secure", "virtual", "take", "partition", "vcpu"]);
            if (SubValue(interrupt, "non-secure") is { } pcpu)
            {
                return new NonSecureInterruptStep(map.Line, (int)yaml.Integer(pcpu, "non-secure (a pCPU index)", 0, (ulong)platform.Pcpus - 1));
            }

            if (SubValue(interrupt, "take") is { } taken)
            {
                return new TakeInterruptStep(
                    map.Line,
                    PartitionName(Required(interrupt, "partition")),
                    SubValue(interrupt, "vcpu") is { } tv ? (ushort)yaml.Integer(tv, "vcpu", 0, ushort.MaxValue) : (ushort)0,
                    (int)yaml.Integer(taken, "take (an interrupt ID)", 0, InterruptIds.LastSpi));
            }

            var id = (int)yaml.Integer(Required(interrupt, "virtual"), "virtual (an interrupt ID)", 0, InterruptIds.LastSpi);
            var partition = PartitionName(Required(interrupt, "partition"));
            var vcpu = SubValue(interrupt, "vcpu") is { } v ? (ushort)yaml.Integer(v, "vcpu", 0, ushort.MaxValue) : (ushort)0;
            return new VirtualInterruptStep(map.Line, partition, vcpu, id);
        }

        /// <summary><c>expect:</c> one expectation, or one per personality name (with <c>default</c> for the rest).</summary>
        private Expectation Expect(YamlMap map)
        {
            if (SubValue(map, "expect") is not { } item)
            {
                return new Expectation(FrameExpectation.Anything, new Dictionary<string, FrameExpectation>(StringComparer.Ordinal));
            }

            if (item is YamlMap byName && byName.Entries.Count > 0 && byName.Entries.All(e => e.Key.Value == "default" || Personality.TryGet(e.Key.Value, out _)))
            {
                var specific = new Dictionary<string, FrameExpectation>(StringComparer.Ordinal);
                FrameExpectation fallback = FrameExpectation.Anything;
                foreach (var (key, value) in byName.Entries)
                {
                    if (key.Value == "default")
                    {
                        fallback = Frame(value);
                    }
                    else
                    {
                        specific[key.Value] = Frame(value);
                    }
                }

                foreach (var p in personalities.Where(p => !specific.ContainsKey(p.Name) && byName.Entries.All(e => e.Key.Value != "default")))
                {
                    throw yaml.Fail(item, $"expect gives no answer for personality '{p.Name}' (add it, or a default)");
                }

                return new Expectation(fallback, specific);
            }

            return new Expectation(Frame(item), new Dictionary<string, FrameExpectation>(StringComparer.Ordinal));
        }

        private FrameExpectation Frame(YamlItem item)
        {
            if (item is YamlText text)
            {
                var word = yaml.Text(text, "expect");
                return word switch
                {
                    "success" => new FrameExpectation { Success = true },
                    "pending" => new FrameExpectation { Pending = true },
                    _ when FfaErrors.TryParse(word, out var error) => new FrameExpectation { Error = error },
                    _ => throw yaml.Fail(item, $"expect: '{word}' is not success, pending, an FF-A error name or a mapping of fields"),
                };
            }

            var map = yaml.Map(item, "expect", [.. AllowedExpectKeys(item)]);
            string? abi = null;
            FfaError? errorCode = null;
            FfaVersion? version = null;
            var success = false;
            var registers = new List<(int, ulong, bool)>();
            var fields = new List<(string, ulong)>();
            foreach (var (key, value) in map.Entries)
            {
                var name = key.Value.Replace('-', '_');
                switch (name)
                {
                    case "abi":
                        abi = yaml.Text(value, "abi");
                        if (!FfaFunctions.TryParseName(abi, out _, out _))
                        {
                            throw yaml.Fail(value, $"'{abi}' is not an FF-A function name");
                        }

                        break;
                    case "error":
                        var errorName = yaml.Text(value, "error");
                        errorCode = FfaErrors.TryParse(errorName, out var e) ? e : throw yaml.Fail(value, $"'{errorName}' is not an FF-A error name");
                        break;
                    case "success":
                        success = yaml.Boolean(value, "success");
                        break;
                    case "version":
                        version = VersionOf(value);
                        break;
                    default:
                        if (Register(name) is { } register)
                        {
                            registers.Add((register.Index, Number(value, name), register.Is32));
                        }
                        else
                        {
                            fields.Add((name, FieldValue(value, name)));
                        }

                        break;
                }
            }

            return new FrameExpectation { Abi = abi, Error = errorCode, Success = success, Version = version, Registers = registers, Fields = fields };
        }

        private static IEnumerable<string> AllowedExpectKeys(YamlItem item) =>
            item is YamlMap map ? map.Entries.Select(static e => e.Key.Value) : [];

        private (string Name, ushort Vcpu) Who(YamlMap map, string key, bool vcpuKey = true)
        {
            var item = SubValue(map, key) ?? throw yaml.Fail(map, $"the step needs '{key}': the endpoint that makes it");
            var text = yaml.Text(item, key);
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            ushort? indexed = null;
            if (dot > 0 && platform.Partitions.Any(p => p.Name == text[..dot]))
            {
                // name.N: vCPU N of the partition (as vcpu-state writes it)
                indexed = ushort.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                    ? n
                    : throw yaml.Fail(item, $"'{text}': write a vCPU as name.index (sp1.1)");
                text = text[..dot];
            }

            var name = indexed is null ? PartitionName(item) : text;
            if (!platform.Partitions.First(p => p.Name == name).Scripted)
            {
                throw yaml.Fail(item, $"'{name}' is not scripted: list it under scripted: to drive it from the steps");
            }

            var vcpuItem = vcpuKey ? SubValue(map, "vcpu") : null;
            if (vcpuItem is not null && indexed is not null)
            {
                throw yaml.Fail(vcpuItem, $"the vCPU is given twice ('{key}: {name}.{indexed}' and 'vcpu:')");
            }

            var vcpu = vcpuItem is not null ? (ushort)yaml.Integer(vcpuItem, "vcpu", 0, ushort.MaxValue) : (ushort)(indexed ?? 0);
            if (vcpu >= Config(name).VcpuCount)
            {
                throw yaml.Fail(vcpuItem ?? item, $"{name} has no vCPU {vcpu}");
            }

            return (name, vcpu);
        }

        private string PartitionName(YamlItem item)
        {
            var text = yaml.Text(item, "partition");
            return platform.Partitions.Any(p => p.Name == text)
                ? text
                : throw yaml.Fail(item, $"no partition is called '{text}' (partitions: {string.Join(", ", platform.Partitions.Select(static p => p.Name))})");
        }

        private PartitionConfig Config(string name) => platform.Partitions.First(p => p.Name == name);

        private EndpointId Endpoint(YamlItem item)
        {
            if (item is YamlText { Plain: true } text && PlatformYaml.TryParseInteger(text.Value, out var number) && number <= ushort.MaxValue)
            {
                return new EndpointId((ushort)number);
            }

            var name = yaml.Text(item, "endpoint");
            if (name is "hypervisor" or "kernel")
            {
                return EndpointId.Hypervisor;
            }

            if (name == "spmc")
            {
                return EndpointId.Spmc;
            }

            return platform.Partitions.FirstOrDefault(p => p.Name == name)?.Id
                ?? throw yaml.Fail(item, $"'{name}' is neither an endpoint ID nor a partition name");
        }

        /// <summary>A field's value: a number, a partition name (its ID), a version (1.2), or a function/feature name.</summary>
        private ulong FieldValue(YamlItem item, string field)
        {
            if (item is YamlText { Plain: true } text && PlatformYaml.TryParseInteger(text.Value, out var number))
            {
                return number;
            }

            var word = yaml.Text(item, field);
            if (FfaVersion.TryParse(word, out var version) && word.Contains('.', StringComparison.Ordinal))
            {
                return version.Encode();
            }

            if (FfaFunctions.TryParseName(word, out var function, out var wide) && word.StartsWith("FFA_", StringComparison.OrdinalIgnoreCase))
            {
                // No _32/_64 suffix: the ABI's own convention (SMC64 for the v1.2 ABIs that have only that one).
                return wide ?? (function.Conventions == CallConventions.Smc64) ? FfaFunctions.Id64(function.Function) : FfaFunctions.Id32(function.Function);
            }

            if (word.Contains('|', StringComparison.Ordinal) || Constants.ContainsKey(word) || FfaErrors.TryParse(word, out _))
            {
                ulong combined = 0;
                foreach (var part in word.Split('|', StringSplitOptions.TrimEntries))
                {
                    combined |= Constants.TryGetValue(part, out var constant) ? constant
                        : FfaErrors.TryParse(part, out var error) ? (uint)(int)error
                        : throw yaml.Fail(item, $"'{part}' is not a constant (known: {string.Join(", ", Constants.Keys.Order(StringComparer.Ordinal))}, FF-A error names)");
                }

                return combined;
            }

            return word switch
            {
                "npi" => 1,
                "sri" => 2,
                "mei" => 3,
                _ => Endpoint(item).Value,
            };
        }

        /// <summary>Constants by their spec names, for flag and message-type fields; combine them with <c>|</c>.</summary>
        private static readonly Dictionary<string, ulong> Constants = new(StringComparer.Ordinal)
        {
            ["PER_VCPU"] = 1,                       // NOTIFICATION_BIND/SET flags bit 0
            ["DELAY_SRI"] = 2,                      // NOTIFICATION_SET and MSG_SEND2 flags bit 1
            ["COUNT_ONLY"] = 1,                     // PARTITION_INFO_GET w5 bit 0
            ["RETAIN_RX"] = 1,                      // MSG_WAIT w2 bit 0 (v1.2)
            ["SP_BITMAP"] = 1,                      // NOTIFICATION_GET flags
            ["VM_BITMAP"] = 2,
            ["SPM_BITMAP"] = 4,
            ["HYP_BITMAP"] = 8,
            ["FRAMEWORK"] = 0x8000_0000,            // direct message w2 bit 31
            ["VM_CREATED"] = 0x8000_0004,           // framework message types (w2)
            ["VM_CREATED_RESPONSE"] = 0x8000_0005,
            ["VM_DESTROYED"] = 0x8000_0006,
            ["VM_DESTROYED_RESPONSE"] = 0x8000_0007,
            ["NS_BIT_HANDLING"] = 2,                // FEATURES(MEM_RETRIEVE_REQ) input property
        };

        private ulong Number(YamlItem item, string what) => yaml.Integer(item, what, 0, ulong.MaxValue);

        private Uuid UuidOf(YamlItem item)
        {
            var text = yaml.Text(item, "uuid");
            if (text is "nil" or "Nil")
            {
                return Uuid.Nil;
            }

            if (Uuid.TryParse(text, out var uuid))
            {
                return uuid;
            }

            var owner = platform.Partitions.FirstOrDefault(p => p.Name == text);
            return owner is { Uuids.Count: > 0 } ? owner.Uuids[0] : throw yaml.Fail(item, $"'{text}' is not a UUID (or a partition with one)");
        }

        private FfaVersion VersionOf(YamlItem item)
        {
            var text = yaml.Text(item, "version");
            return FfaVersion.TryParse(text, out var v) ? v : throw yaml.Fail(item, $"'{text}' is not a version like 1.2");
        }

        private string BufferName(YamlMap map)
        {
            if (SubValue(map, "buffer") is not { } item)
            {
                return "tx";
            }

            var text = yaml.Text(item, "buffer");
            return text is "rx" or "tx" or "ram" ? text : throw yaml.Fail(item, $"buffer: '{text}' is not rx, tx or ram");
        }

        private ulong Offset(YamlMap map) => SubValue(map, "offset") is { } o ? yaml.Integer(o, "offset", 0, 1UL << 40) : 0;

        private byte[] Bytes(YamlMap map)
        {
            if (SubValue(map, "text") is { } t)
            {
                return Encoding.UTF8.GetBytes(yaml.Text(t, "text"));
            }

            return Hex(Required(map, "bytes"));
        }

        private byte[] Hex(YamlItem item)
        {
            var text = yaml.Text(item, "bytes").Replace(" ", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal);
            try
            {
                return Convert.FromHexString(text);
            }
            catch (FormatException)
            {
                throw yaml.Fail(item, "bytes must be hex digits in pairs, e.g. \"01 02 ff\"");
            }
        }

        private YamlItem Required(YamlMap map, string key) => SubValue(map, key) ?? throw yaml.Fail(map, $"'{key}' is required here");

        private IEnumerable<(string Partition, YamlItem Value)> PerPartition(YamlItem item, string what)
        {
            var map = yaml.Map(item, what, [.. AllowedExpectKeys(item)]);
            foreach (var (key, value) in map.Entries)
            {
                var name = key.Value.Split('.')[0];
                if (!platform.Partitions.Any(p => p.Name == name))
                {
                    throw yaml.Fail(key, $"{what}: no partition is called '{name}'");
                }

                yield return (key.Value, value);
            }
        }

        private (string Name, ushort Vcpu) SplitVcpu(string key, YamlItem at)
        {
            var parts = key.Split('.');
            if (parts.Length == 1)
            {
                return (key, 0);
            }

            return ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var vcpu)
                ? (parts[0], vcpu)
                : throw yaml.Fail(at, $"'{key}': write a vCPU as name.index (sp1.1)");
        }

        private static YamlItem? SubValue(YamlMap map, string key) => Value(map, key);

        private static (int Index, bool Is32)? Register(string name)
        {
            if (name.Length is < 2 or > 3 || (name[0] != 'x' && name[0] != 'w'))
            {
                return null;
            }

            return int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < RegisterFrame.Count
                ? (index, name[0] == 'w')
                : null;
        }
    }
}
