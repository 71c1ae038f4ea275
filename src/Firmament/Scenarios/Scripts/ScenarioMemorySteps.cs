using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;

namespace Firmament.Scenarios.Scripts;

// The scenario syntax memory sharing needs (docs/scenarios.md, "Memory sharing"): a memory transaction descriptor or
// a relinquish descriptor written into a partition's TX buffer, the lengths of the MEM_* call that follows defaulting
// to the descriptor's, pages of another partition's RAM named by `of:` (their physical address, where borrowers map
// them), and the owner and transactions checks.
public static partial class ScenarioFile
{
    private sealed partial class StepContext
    {
        private readonly Dictionary<string, uint> _descriptorLengths = new(StringComparer.Ordinal);

        /// <summary>MEM_DONATE/LEND/SHARE/RETRIEVE_REQ without lengths: the last descriptor the caller wrote, whole.</summary>
        private void DefaultDescriptorLengths(string by, FfaFunction function, List<(string Name, ulong Value)> fields)
        {
            if (function is not (FfaFunction.MemDonate or FfaFunction.MemLend or FfaFunction.MemShare or FfaFunction.MemRetrieveReq)
                || !_descriptorLengths.TryGetValue(by, out var length))
            {
                return;
            }

            if (!fields.Exists(static f => f.Name == "total_length"))
            {
                fields.Add(("total_length", length));
            }

            if (!fields.Exists(static f => f.Name == "fragment_length"))
            {
                fields.Add(("fragment_length", fields.Find(static f => f.Name == "total_length").Value));
            }
        }

        private string? Of(YamlMap map) => SubValue(map, "of") is { } of ? PartitionName(of) : null;

        /// <summary>The IPA of a partition's first RAM region (what <c>page:</c> and <c>buffer: ram</c> count from).</summary>
        private ulong RamOf(string partition)
        {
            var config = Config(partition);
            return config.Memory.Count > 0 ? config.Memory[0].Address : config.Kind switch
            {
                PartitionKind.Sp => Platform.DefaultSpRam,
                PartitionKind.Kernel => Platform.DefaultKernelRam,
                _ => Platform.DefaultVmRam,
            };
        }

        private WriteStep? MemoryWrite(YamlMap step, YamlMap write, string partition)
        {
            if (SubValue(write, "relinquish") is { } relinquishItem)
            {
                var r = yaml.Map(relinquishItem, "relinquish", ["handle", "flags", "endpoints"]);
                var relinquish = new MemoryRelinquish
                {
                    Handle = new MemoryHandle(Number(Required(r, "handle"), "handle")),
                    Flags = new RelinquishFlags(SubValue(r, "flags") is { } f ? (uint)FieldValue(f, "flags") : 0),
                };
                if (SubValue(r, "endpoints") is { } list)
                {
                    relinquish.Endpoints.AddRange(yaml.List(list, "endpoints").Select(Endpoint));
                }
                else
                {
                    relinquish.Endpoints.Add(Config(partition).Id);
                }

                return Remember(step, write, partition, relinquish.Encode());
            }

            if (SubValue(write, "descriptor") is not { } descriptorItem)
            {
                return null;
            }

            var d = yaml.Map(descriptorItem, "descriptor", ["version", "shape", "sender", "attributes", "flags", "handle", "tag", "receivers", "constituents"]);
            var layout = SubValue(d, "version") is { } v ? VersionOf(v) : Config(partition).Version;
            var shapeText = SubValue(d, "shape") is { } s ? yaml.Text(s, "shape") : "send";
            var shape = shapeText switch
            {
                "send" => MtdShape.Send,
                "retrieve" => MtdShape.RetrieveRequest,
                _ => throw yaml.Fail(d, $"shape: '{shapeText}' is not send or retrieve"),
            };
            var descriptor = new MemoryTransactionDescriptor
            {
                Header = new MemoryTransactionHeader(
                    SubValue(d, "sender") is { } sender ? Endpoint(sender) : Config(partition).Id,
                    SubValue(d, "attributes") is { } a ? AttributesOf(a) : default,
                    new MemoryTransactionFlags(SubValue(d, "flags") is { } fl ? (uint)FieldValue(fl, "flags") : 0),
                    new MemoryHandle(SubValue(d, "handle") is { } h ? Number(h, "handle") : 0),
                    SubValue(d, "tag") is { } t ? Number(t, "tag") : 0),
            };
            foreach (var item in yaml.List(Required(d, "receivers"), "receivers"))
            {
                var receiver = yaml.Map(item, "a receiver", ["endpoint", "access", "instruction", "flags", "impdef"]);
                var data = SubValue(receiver, "access") is { } access ? yaml.Text(access, "access") switch
                {
                    "rw" => DataAccess.ReadWrite,
                    "ro" => DataAccess.ReadOnly,
                    "none" => DataAccess.NotSpecified,
                    "reserved" => DataAccess.Reserved,
                    var other => throw yaml.Fail(access, $"access: '{other}' is not rw, ro, none or reserved"),
                } : DataAccess.NotSpecified;
                var instruction = SubValue(receiver, "instruction") is { } ins ? yaml.Text(ins, "instruction") switch
                {
                    "x" => InstructionAccess.Executable,
                    "nx" => InstructionAccess.NotExecutable,
                    "none" => InstructionAccess.NotSpecified,
                    var other => throw yaml.Fail(ins, $"instruction: '{other}' is not x, nx or none"),
                } : InstructionAccess.NotSpecified;
                descriptor.Receivers.Add(new EndpointMemoryAccess(
                    Endpoint(Required(receiver, "endpoint")),
                    MemoryAccessPermissions.Of(data, instruction),
                    new EmadFlags(SubValue(receiver, "flags") is { } ef ? (byte)yaml.Integer(ef, "flags", 0, 0xFF) : (byte)0),
                    SubValue(receiver, "impdef") is { } imp ? Number(imp, "impdef") : UInt128.Zero));
            }

            if (SubValue(d, "constituents") is { } constituents)
            {
                if (shape != MtdShape.Send)
                {
                    throw yaml.Fail(constituents, "a retrieve request carries no constituents");
                }

                foreach (var item in yaml.List(constituents, "constituents"))
                {
                    var c = yaml.Map(item, "a constituent", ["page", "address", "pages", "of"]);
                    var owner = Of(c) ?? partition;
                    var address = SubValue(c, "address") is { } at ? Number(at, "address") : RamOf(owner) + (Number(Required(c, "page"), "page") * 4096);
                    if ((address & 0xFFF) != 0)
                    {
                        throw yaml.Fail(c, "a constituent's address is 4 KiB aligned (write a bad one as raw bytes)");
                    }

                    descriptor.Constituents.Add(new MemoryRegionConstituent(address, (uint)yaml.Integer(Required(c, "pages"), "pages", 0, uint.MaxValue)));
                }
            }

            if (descriptor.Receivers.Count == 0)
            {
                throw yaml.Fail(d, "a descriptor names at least one receiver");
            }

            return Remember(step, write, partition, descriptor.Encode(layout, shape));
        }

        /// <summary>A descriptor goes into the TX buffer unless the step names a buffer (a caller-provided one in RAM).</summary>
        private WriteStep Remember(YamlMap step, YamlMap write, string partition, byte[] bytes)
        {
            _descriptorLengths[partition] = (uint)bytes.Length;
            return new WriteStep(step.Line, partition, BufferName(write), Offset(write), bytes, Of(write));
        }

        private MemoryRegionAttributes AttributesOf(YamlItem item)
        {
            if (item is YamlText { Plain: true } text && PlatformYaml.TryParseInteger(text.Value, out var number) && number <= ushort.MaxValue)
            {
                return new MemoryRegionAttributes((ushort)number);
            }

            var word = yaml.Text(item, "attributes");
            return word switch
            {
                "normal" => MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable),
                "normal-nc" => MemoryRegionAttributes.Normal(Cacheability.NonCacheable, Shareability.InnerShareable),
                "normal-outer" => MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.OuterShareable),
                "device" => MemoryRegionAttributes.Device(DeviceMemoryType.nGnRnE),
                "device-gre" => MemoryRegionAttributes.Device(DeviceMemoryType.GRE),
                "none" => default,
                _ => throw yaml.Fail(item, $"attributes: '{word}' is not normal, normal-nc, normal-outer, device, device-gre, none or a number"),
            };
        }

        private OwnerCheck OwnerCheckOf(YamlItem item)
        {
            var map = yaml.Map(item, "owner", ["of", "page", "owner"]);
            return new OwnerCheck(item.Line, PartitionName(Required(map, "of")), Number(Required(map, "page"), "page") * 4096, PartitionName(Required(map, "owner")));
        }

        private TransactionsCheck TransactionsCheckOf(YamlItem item)
        {
            var map = yaml.Map(item, "transactions", ["spmc", "hypervisor"]);
            return new TransactionsCheck(
                item.Line,
                SubValue(map, "spmc") is { } s ? (int)yaml.Integer(s, "spmc", 0, int.MaxValue) : null,
                SubValue(map, "hypervisor") is { } h ? (int)yaml.Integer(h, "hypervisor", 0, int.MaxValue) : null);
        }
    }
}
