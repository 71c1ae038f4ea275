using System.Buffers.Binary;
using System.Text;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>The descriptor kinds <see cref="DescriptorDescriber"/> reads.</summary>
public enum DescriptorKind
{
    /// <summary>Memory transaction descriptor (send, retrieve request/response, hypervisor retrieve).</summary>
    Mtd,

    /// <summary>An array of partition information descriptors.</summary>
    PartitionInfo,

    /// <summary>Indirect message header.</summary>
    Indirect,

    /// <summary>Memory relinquish descriptor.</summary>
    Relinquish,

    /// <summary>Endpoint RX/TX descriptor.</summary>
    RxTx,
}

/// <summary>One structure of a described descriptor (<c>header</c>, <c>emad[0]</c>, <c>composite</c>, <c>constituent[3]</c>).</summary>
public sealed class DescriptorSection
{
    public DescriptorSection(string name, int offset)
    {
        Name = name;
        Offset = offset;
    }

    public string Name { get; }

    /// <summary>Where the structure starts, from the start of the descriptor.</summary>
    public int Offset { get; }

    /// <summary>Fields in layout order.</summary>
    public List<DescribedField> Fields { get; } = [];

    public DescriptorSection Add(string name, ulong value, string text = "")
    {
        Fields.Add(DescribedField.Of(name, value, text));
        return this;
    }

    /// <summary>The field called <paramref name="name"/>, or null.</summary>
    public DescribedField? Field(string name)
    {
        foreach (var field in Fields)
        {
            if (field.Name == name)
            {
                return field;
            }
        }

        return null;
    }
}

/// <summary>
/// A descriptor read in words, for people (the CLI, traces), not for the hot path: its structures in order, every
/// warning, and the reader's verdict. A malformed descriptor is described as far as its bytes can be read safely,
/// and <see cref="Fault"/> says exactly what the reader rejects and where.
/// </summary>
public sealed class DescriptorDescription
{
    public DescriptorDescription(DescriptorKind kind, FfaVersion layout)
    {
        Kind = kind;
        Layout = layout;
    }

    public DescriptorKind Kind { get; }

    /// <summary>The version whose layout the bytes were read with.</summary>
    public FfaVersion Layout { get; }

    /// <summary>For a memory transaction: <c>send</c>, <c>retrieve request</c> …, with <c>(inferred)</c> when guessed.</summary>
    public string Shape { get; set; } = string.Empty;

    public List<DescriptorSection> Sections { get; } = [];

    /// <summary>Everything suspicious: reserved or MBZ bits set, reserved values, accepted oddities, layout hints.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>What the strict reader says: <see cref="DescriptorFault.None"/> if it accepts the bytes.</summary>
    public DescriptorFault Fault { get; set; }

    public bool IsValid => Fault.IsNone;

    public DescriptorSection? Section(string name)
    {
        foreach (var section in Sections)
        {
            if (section.Name == name)
            {
                return section;
            }
        }

        return null;
    }

    internal DescriptorSection Open(string name, int offset)
    {
        var section = new DescriptorSection(name, offset);
        Sections.Add(section);
        return section;
    }

    internal void Warn(string warning) => Warnings.Add(warning);

    /// <summary>Multi-line text: one line per section and field, then warnings and the verdict.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Kind).Append(" (layout v").Append(Layout);
        if (Shape.Length > 0)
        {
            sb.Append(", ").Append(Shape);
        }

        sb.AppendLine(")");
        foreach (var section in Sections)
        {
            sb.Append("  ").Append(section.Name).Append(" @").Append(section.Offset).AppendLine();
            foreach (var field in section.Fields)
            {
                sb.Append("    ").Append(field.Name).Append(" = 0x").Append(field.Value.ToString("X"));
                if (field.Text.Length > 0)
                {
                    sb.Append(" (").Append(field.Text).Append(')');
                }

                sb.AppendLine();
            }
        }

        foreach (var warning in Warnings)
        {
            sb.Append("  warning: ").AppendLine(warning);
        }

        sb.Append("  ").Append(IsValid ? "valid" : "fault: " + Fault).AppendLine();
        return sb.ToString();
    }
}

/// <summary>
/// Reads any supported descriptor into a <see cref="DescriptorDescription"/> (what <c>firmament decode --descriptor</c>
/// prints). It never throws on bad bytes: it describes each structure whose bytes are present, warns about anything
/// odd, and asks the strict reader for the verdict.
/// </summary>
public static class DescriptorDescriber
{
    /// <summary>
    /// Describes <paramref name="bytes"/> as a <paramref name="kind"/> in the layout of <paramref name="version"/>.
    /// For a memory transaction, <paramref name="shape"/> says what it is used for; when null it is inferred (no EMAD:
    /// hypervisor retrieve; EMAD 0 without a composite: retrieve request; a handle: retrieve response; else a send).
    /// Partition information is read as an array filling the bytes, with the descriptor size of the version.
    /// </summary>
    public static DescriptorDescription Describe(ReadOnlySpan<byte> bytes, DescriptorKind kind, FfaVersion version, MtdShape? shape = null)
    {
        var d = new DescriptorDescription(kind, version);
        switch (kind)
        {
            case DescriptorKind.Mtd:
                DescribeMtd(d, bytes, version, shape);
                break;
            case DescriptorKind.PartitionInfo:
                DescribePartitionInfo(d, bytes, version);
                break;
            case DescriptorKind.Indirect:
                DescribeIndirect(d, bytes, version);
                break;
            case DescriptorKind.Relinquish:
                DescribeRelinquish(d, bytes);
                break;
            case DescriptorKind.RxTx:
                DescribeRxTx(d, bytes, version);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a descriptor kind.");
        }

        return d;
    }

    /// <summary>Parses a kind as the CLI spells it: <c>mtd</c>, <c>partition-info</c>, <c>indirect</c>, <c>relinquish</c>, <c>rxtx</c>.</summary>
    public static bool TryParseKind(string? text, out DescriptorKind kind)
    {
        kind = default;
        switch (text?.Trim().ToLowerInvariant().Replace("_", "-", StringComparison.Ordinal))
        {
            case "mtd" or "memory-transaction":
                kind = DescriptorKind.Mtd;
                return true;
            case "partition-info" or "partinfo":
                kind = DescriptorKind.PartitionInfo;
                return true;
            case "indirect" or "indirect-message":
                kind = DescriptorKind.Indirect;
                return true;
            case "relinquish":
                kind = DescriptorKind.Relinquish;
                return true;
            case "rxtx" or "rx-tx":
                kind = DescriptorKind.RxTx;
                return true;
            default:
                return false;
        }
    }

    public static string ShapeName(MtdShape shape) => shape switch
    {
        MtdShape.Send => "send",
        MtdShape.RetrieveRequest => "retrieve request",
        MtdShape.RetrieveResponse => "retrieve response",
        _ => "hypervisor retrieve request",
    };

    // ---- memory transaction -------------------------------------------------------------------------------------

    private static void DescribeMtd(DescriptorDescription d, ReadOnlySpan<byte> b, FfaVersion version, MtdShape? requested)
    {
        var generation = DescriptorLayout.Of(version);
        if (generation == LayoutGeneration.Unsupported)
        {
            d.Fault = new DescriptorFault(DescriptorError.UnsupportedLayout, 0);
            return;
        }

        var headerSize = MtdLayout.HeaderSize(generation);
        if (b.Length < headerSize)
        {
            d.Shape = requested is { } s ? ShapeName(s) : string.Empty;
            d.Fault = new DescriptorFault(DescriptorError.Truncated, 0);
            if (generation != LayoutGeneration.V1_0 && b.Length >= MtdLayout.HeaderSizeV1_0)
            {
                d.Warn($"{b.Length} bytes hold a v1.0 header (32 bytes) but not a v1.1+ header (48): was the version right?");
            }

            return;
        }

        var v10 = generation == LayoutGeneration.V1_0;
        var attributes = new MemoryRegionAttributes(v10 ? b[MtdLayout.AttributesOffset] : BinaryPrimitives.ReadUInt16LittleEndian(b[MtdLayout.AttributesOffset..]));
        var flags = new MemoryTransactionFlags(BinaryPrimitives.ReadUInt32LittleEndian(b[MtdLayout.FlagsOffset..]));
        var handle = new MemoryHandle(BinaryPrimitives.ReadUInt64LittleEndian(b[MtdLayout.HandleOffset..]));
        var emadCount = BinaryPrimitives.ReadUInt32LittleEndian(b[MtdLayout.EmadCountOffset..]);
        var emadSize = v10 ? MtdLayout.EmadSizeV1_0 : BinaryPrimitives.ReadUInt32LittleEndian(b[MtdLayout.EmadSizeOffset..]);
        var emadOffset = v10 ? MtdLayout.HeaderSizeV1_0 : BinaryPrimitives.ReadUInt32LittleEndian(b[MtdLayout.EmadOffsetOffset..]);
        var emadsReadable = emadSize is MtdLayout.EmadSizeV1_1 or MtdLayout.EmadSizeV1_2 && emadOffset >= headerSize && emadOffset <= b.Length;
        var emadsPresent = emadsReadable ? (int)Math.Min(emadCount, (b.Length - emadOffset) / emadSize) : 0;

        var shape = requested ?? InferShape(b, emadCount, emadsPresent, (int)emadOffset, handle);
        d.Shape = ShapeName(shape) + (requested is null ? " (inferred)" : string.Empty);

        var header = d.Open("header", 0)
            .Add("sender", BinaryPrimitives.ReadUInt16LittleEndian(b), EndpointText(BinaryPrimitives.ReadUInt16LittleEndian(b)))
            .Add("attributes", attributes.Value, attributes.ToString())
            .Add("flags", flags.Value, flags.Describe(shape, version))
            .Add("handle", handle.Value, HandleText(handle))
            .Add("tag", BinaryPrimitives.ReadUInt64LittleEndian(b[MtdLayout.TagOffset..]));
        if (!v10)
        {
            header.Add("emad_size", emadSize, emadSize switch
            {
                MtdLayout.EmadSizeV1_1 => "v1.1 EMAD",
                MtdLayout.EmadSizeV1_2 => "v1.2 EMAD",
                _ => "not an EMAD size",
            });
        }

        header.Add("emad_count", emadCount);
        if (!v10)
        {
            header.Add("emad_offset", emadOffset);
        }

        WarnMtdHeader(d, b, v10, version, shape, attributes, flags, handle);

        uint composite0 = 0;
        for (var i = 0; i < emadsPresent; i++)
        {
            var at = (int)emadOffset + (i * (int)emadSize);
            var composite = DescribeEmad(d, b.Slice(at, (int)emadSize), at, i, shape);
            if (i == 0)
            {
                composite0 = composite;
            }
            else if (composite != composite0 && MtdLayout.HasComposite(shape))
            {
                d.Warn($"emad[{i}]: composite offset {composite} differs from emad[0]'s {composite0}: all EMADs of a transaction share one composite");
            }
        }

        if (emadsPresent > 0 && MtdLayout.HasComposite(shape) && composite0 != 0 && composite0 % 8 == 0
            && (long)composite0 + CompositeMemoryRegion.HeaderSize <= b.Length)
        {
            DescribeComposite(d, b, (int)composite0, string.Empty);
        }

        if (!MemoryTransactionDescriptorReader.TryRead(b, version, shape, out _, out var fault))
        {
            d.Fault = fault;
            HintOtherLayout(d, b, generation, shape, fault);
        }
    }

    private static MtdShape InferShape(ReadOnlySpan<byte> b, uint emadCount, int emadsPresent, int emadOffset, MemoryHandle handle)
    {
        if (emadCount == 0)
        {
            return MtdShape.HypervisorRetrieve;
        }

        if (emadsPresent > 0 && BinaryPrimitives.ReadUInt32LittleEndian(b[(emadOffset + MtdLayout.EmadCompositeOffset)..]) == 0)
        {
            return MtdShape.RetrieveRequest;
        }

        return handle.Value != 0 ? MtdShape.RetrieveResponse : MtdShape.Send;
    }

    private static void WarnMtdHeader(
        DescriptorDescription d, ReadOnlySpan<byte> b, bool v10, FfaVersion version, MtdShape shape,
        MemoryRegionAttributes attributes, MemoryTransactionFlags flags, MemoryHandle handle)
    {
        if (v10)
        {
            WarnReserved(d, "header", b.Slice(MtdLayout.ReservedByteV1_0, 1), MtdLayout.ReservedByteV1_0);
            WarnReserved(d, "header", b.Slice(MtdLayout.ReservedWordV1_0, 4), MtdLayout.ReservedWordV1_0);
        }
        else
        {
            WarnReserved(d, "header", b.Slice(MtdLayout.ReservedV1_1, MtdLayout.ReservedV1_1Length), MtdLayout.ReservedV1_1);
        }

        var attributeMbz = attributes.Value & MemoryRegionAttributes.MbzMask(version, shape);
        if (attributeMbz != 0)
        {
            d.Warn((attributeMbz & MemoryRegionAttributes.NonSecureBit) != 0 && (attributeMbz & ~MemoryRegionAttributes.NonSecureBit) == 0
                ? $"header: attributes NS bit set in a {ShapeName(shape)} (only a retrieve response may set it)"
                : $"header: attributes MBZ bits set (0x{attributeMbz:X})");
        }

        if (attributes.Type == MemoryType.Reserved)
        {
            d.Warn("header: attributes memory type 3 is reserved");
        }
        else if (attributes.Type == MemoryType.Normal
            && (attributes.Cacheability is Cacheability.Reserved0 or Cacheability.Reserved2 || attributes.Shareability == Shareability.Reserved))
        {
            d.Warn("header: attributes hold a reserved cacheability or shareability");
        }

        var flagsMbz = flags.Value & MemoryTransactionFlags.MbzMask(shape, version);
        if (flagsMbz != 0)
        {
            d.Warn($"header: flags MBZ bits set for a {ShapeName(shape)} (0x{flagsMbz:X})");
        }

        if (shape == MtdShape.Send && handle.Value != 0)
        {
            d.Warn("header: handle is not 0 in a send");
        }
        else if (shape is MtdShape.RetrieveResponse or MtdShape.HypervisorRetrieve && handle.Value == 0)
        {
            d.Warn($"header: handle is 0 in a {ShapeName(shape)}");
        }
    }

    /// <summary>Describes one EMAD and returns its composite offset.</summary>
    private static uint DescribeEmad(DescriptorDescription d, ReadOnlySpan<byte> e, int at, int index, MtdShape shape)
    {
        var name = $"emad[{index}]";
        var receiver = BinaryPrimitives.ReadUInt16LittleEndian(e);
        var permissions = new MemoryAccessPermissions(e[MtdLayout.EmadPermissions]);
        var flags = new EmadFlags(e[MtdLayout.EmadFlags]);
        var composite = BinaryPrimitives.ReadUInt32LittleEndian(e[MtdLayout.EmadCompositeOffset..]);
        var section = d.Open(name, at)
            .Add("receiver", receiver, EndpointText(receiver))
            .Add("permissions", permissions.Value, permissions.ToString())
            .Add("flags", flags.Value, flags.ToString())
            .Add("composite_offset", composite, composite == 0 ? "no composite" : string.Empty);
        if (e.Length == MtdLayout.EmadSizeV1_2)
        {
            section
                .Add("impdef_lo", BinaryPrimitives.ReadUInt64LittleEndian(e[MtdLayout.EmadImpdef..]))
                .Add("impdef_hi", BinaryPrimitives.ReadUInt64LittleEndian(e[(MtdLayout.EmadImpdef + 8)..]));
            WarnReserved(d, name, e.Slice(MtdLayout.EmadReserved32, 8), at + MtdLayout.EmadReserved32);
        }
        else
        {
            WarnReserved(d, name, e.Slice(MtdLayout.EmadReserved16, 8), at + MtdLayout.EmadReserved16);
        }

        if ((permissions.Value & MemoryAccessPermissions.MbzMask) != 0)
        {
            d.Warn($"{name}: permissions MBZ bits set (0x{permissions.Value & MemoryAccessPermissions.MbzMask:X})");
        }

        if (permissions.Data == DataAccess.Reserved || permissions.Instruction == InstructionAccess.Reserved)
        {
            d.Warn($"{name}: permissions hold the reserved value 3");
        }

        if (shape == MtdShape.Send && permissions.Instruction != InstructionAccess.NotSpecified)
        {
            d.Warn($"{name}: a send must leave instruction access unspecified");
        }

        if ((flags.Value & EmadFlags.MbzMask(shape)) != 0)
        {
            d.Warn($"{name}: flags MBZ bits set for a {ShapeName(shape)} (0x{flags.Value & EmadFlags.MbzMask(shape):X})");
        }

        if (MtdLayout.HasComposite(shape) && composite != 0 && composite % 8 == 0 && composite % 16 != 0)
        {
            d.Warn($"{name}: composite offset {composite} is 8- but not 16-byte aligned (accepted; Hafnium rejects it)");
        }

        return composite;
    }

    private static void HintOtherLayout(DescriptorDescription d, ReadOnlySpan<byte> b, LayoutGeneration generation, MtdShape shape, DescriptorFault fault)
    {
        if (generation == LayoutGeneration.V1_1 && fault.Error == DescriptorError.BadEmadSize
            && BinaryPrimitives.ReadUInt32LittleEndian(b[MtdLayout.EmadSizeOffset..]) == MtdLayout.EmadSizeV1_2)
        {
            d.Warn("EMAD size 32 is the v1.2 layout: was the version right?");
            return;
        }

        var other = generation == LayoutGeneration.V1_0 ? FfaVersion.V1_2 : FfaVersion.V1_0;
        if (MemoryTransactionDescriptorReader.TryRead(b, other, shape, out _, out _))
        {
            d.Warn($"the bytes read cleanly as the v{other} layout: was the version right?");
        }
    }

    private static void DescribeComposite(DescriptorDescription d, ReadOnlySpan<byte> b, int offset, string prefix)
    {
        var header = Composites.ReadHeader(b[offset..]);
        d.Open(prefix + "composite", offset)
            .Add("total_page_count", header.TotalPageCount, PagesText(header.TotalPageCount))
            .Add("constituent_count", header.ConstituentCount);
        WarnReserved(d, prefix + "composite", b.Slice(offset + 8, 8), offset + 8);

        var first = offset + CompositeMemoryRegion.HeaderSize;
        var present = (int)Math.Min(header.ConstituentCount, (uint)((b.Length - first) / MemoryRegionConstituent.Size));
        for (var j = 0; j < present; j++)
        {
            var at = first + (j * MemoryRegionConstituent.Size);
            var name = $"{prefix}constituent[{j}]";
            var c = Composites.ReadConstituent(b[at..]);
            d.Open(name, at)
                .Add("address", c.Address, (c.Address & (MemoryRegionConstituent.PageSize - 1)) != 0 ? "not 4 KiB aligned" : $"to 0x{c.End:X}")
                .Add("page_count", c.PageCount, PagesText(c.PageCount));
            WarnReserved(d, name, b.Slice(at + 12, 4), at + 12);
            if (c.PageCount == 0)
            {
                d.Warn($"{name}: page count 0");
            }
        }

        if (present < header.ConstituentCount)
        {
            d.Warn($"{prefix}composite: {header.ConstituentCount - (uint)present} of {header.ConstituentCount} constituents are past the end of the bytes");
        }
    }

    // ---- the other kinds ----------------------------------------------------------------------------------------

    private static void DescribePartitionInfo(DescriptorDescription d, ReadOnlySpan<byte> b, FfaVersion version)
    {
        if (DescriptorLayout.Of(version) == LayoutGeneration.Unsupported)
        {
            d.Fault = new DescriptorFault(DescriptorError.UnsupportedLayout, 0);
            return;
        }

        var size = PartitionInfoDescriptors.SizeFor(version);
        var whole = b.Length / size;
        var defined = PartitionPropertiesExtensions.DefinedFor(version);
        for (var i = 0; i < whole; i++)
        {
            var at = i * size;
            var p = b.Slice(at, size);
            var id = BinaryPrimitives.ReadUInt16LittleEndian(p);
            var second = BinaryPrimitives.ReadUInt16LittleEndian(p[2..]);
            var properties = (PartitionProperties)BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
            var section = d.Open($"partition[{i}]", at).Add("id", id, EndpointText(id));
            if (properties.IdType() == PartitionIdType.SepidDependent && size >= PartitionInfoDescriptors.SizeV1_1)
            {
                section.Add("proxy_id", second, EndpointText(second));
            }
            else
            {
                section.Add("exec_ctx_count", second);
            }

            section.Add("properties", (uint)properties, properties.Describe());
            if (size >= PartitionInfoDescriptors.SizeV1_1)
            {
                var uuid = Uuid.FromBytes(p[8..]);
                section.Add("uuid_lo", uuid.Low, uuid.ToString()).Add("uuid_hi", uuid.High);
            }

            var undefined = properties & ~defined;
            if (undefined != 0)
            {
                d.Warn($"partition[{i}]: properties bits 0x{(uint)undefined:X} are not defined in v{version}");
            }
        }

        var count = (uint)((b.Length + size - 1) / size);
        if (b.Length % size != 0)
        {
            d.Warn($"{b.Length % size} trailing bytes are not a whole {size}-byte descriptor");
        }

        if (!PartitionInfoDescriptors.TryRead(b, count, (uint)size, out _, out var fault))
        {
            d.Fault = fault;
        }
    }

    private static void DescribeIndirect(DescriptorDescription d, ReadOnlySpan<byte> b, FfaVersion version)
    {
        var generation = DescriptorLayout.Of(version);
        if (generation is not (LayoutGeneration.V1_1 or LayoutGeneration.V1_2))
        {
            d.Fault = new DescriptorFault(DescriptorError.UnsupportedLayout, 0);
            return;
        }

        var size = generation == LayoutGeneration.V1_1 ? IndirectMessageHeader.SizeV1_1 : IndirectMessageHeader.SizeV1_2;
        if (b.Length >= IndirectMessageHeader.SizeV1_1)
        {
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(b);
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
            var ids = SenderReceiver.Unpack(BinaryPrimitives.ReadUInt32LittleEndian(b[12..]));
            var payload = BinaryPrimitives.ReadUInt32LittleEndian(b[16..]);
            var header = d.Open("header", 0)
                .Add("flags", flags, flags == 0 ? "none" : "MBZ")
                .Add("offset", offset, offset == size ? "right after the header" : string.Empty)
                .Add("receiver", ids.Receiver.Value, EndpointText(ids.Receiver.Value))
                .Add("sender", ids.Sender.Value, EndpointText(ids.Sender.Value))
                .Add("size", payload, $"{payload} bytes");
            if (flags != 0)
            {
                d.Warn($"header: flags MBZ bits set (0x{flags:X})");
            }

            WarnReserved(d, "header", b.Slice(4, 4), 4);
            if (generation == LayoutGeneration.V1_2 && b.Length >= IndirectMessageHeader.SizeV1_2)
            {
                var uuid = Uuid.FromBytes(b[24..]);
                header.Add("uuid_lo", uuid.Low, uuid.ToString()).Add("uuid_hi", uuid.High);
                WarnReserved(d, "header", b.Slice(20, 4), 20);
            }

            if (generation == LayoutGeneration.V1_2 && offset == 36)
            {
                d.Warn("offset 36 is the header of Linux before the 2025 fix (no reserved word at 20, UUID at 20): rejected under v1.2 rules");
            }
            else if (generation == LayoutGeneration.V1_2 && offset == IndirectMessageHeader.SizeV1_1)
            {
                d.Warn("offset 20 is the v1.1 header size: was the version right?");
            }

            if (ids.Sender == ids.Receiver)
            {
                d.Warn("sender and receiver are the same endpoint");
            }

            if (payload == 0)
            {
                d.Warn("empty payload (Xen rejects size 0)");
            }
        }

        if (!IndirectMessageHeader.TryRead(b, version, out _, out var fault))
        {
            d.Fault = fault;
        }
    }

    private static void DescribeRelinquish(DescriptorDescription d, ReadOnlySpan<byte> b)
    {
        if (b.Length >= MemoryRelinquishDescriptor.HeaderSize)
        {
            var handle = new MemoryHandle(BinaryPrimitives.ReadUInt64LittleEndian(b));
            var flags = new RelinquishFlags(BinaryPrimitives.ReadUInt32LittleEndian(b[8..]));
            var count = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
            d.Open("header", 0)
                .Add("handle", handle.Value, HandleText(handle))
                .Add("flags", flags.Value, flags.ToString())
                .Add("endpoint_count", count);
            if ((flags.Value & RelinquishFlags.MbzMask) != 0)
            {
                d.Warn($"header: flags MBZ bits set (0x{flags.Value & RelinquishFlags.MbzMask:X})");
            }

            if (count > 1)
            {
                d.Warn($"{count} endpoints (Hafnium accepts one)");
            }

            var present = (int)Math.Min(count, (uint)((b.Length - MemoryRelinquishDescriptor.HeaderSize) / 2));
            for (var i = 0; i < present; i++)
            {
                var at = MemoryRelinquishDescriptor.HeaderSize + (2 * i);
                var id = BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
                d.Open($"endpoint[{i}]", at).Add("endpoint", id, EndpointText(id));
            }
        }

        if (!MemoryRelinquishDescriptor.TryRead(b, out _, out var fault))
        {
            d.Fault = fault;
        }
    }

    private static void DescribeRxTx(DescriptorDescription d, ReadOnlySpan<byte> b, FfaVersion version)
    {
        if (DescriptorLayout.Of(version) is LayoutGeneration.Unsupported or LayoutGeneration.V1_0)
        {
            d.Fault = new DescriptorFault(DescriptorError.UnsupportedLayout, 0);
            return;
        }

        if (b.Length >= EndpointRxTxDescriptor.HeaderSize)
        {
            var endpoint = BinaryPrimitives.ReadUInt16LittleEndian(b);
            var rx = BinaryPrimitives.ReadUInt32LittleEndian(b[EndpointRxTxDescriptor.RxOffsetField..]);
            var tx = BinaryPrimitives.ReadUInt32LittleEndian(b[EndpointRxTxDescriptor.TxOffsetField..]);
            d.Open("header", 0)
                .Add("endpoint", endpoint, EndpointText(endpoint))
                .Add("rx_composite_offset", rx)
                .Add("tx_composite_offset", tx);
            WarnReserved(d, "header", b.Slice(2, 2), 2);
            DescribeRxTxComposite(d, b, rx, "rx_");
            DescribeRxTxComposite(d, b, tx, "tx_");
        }

        if (!EndpointRxTxDescriptor.TryRead(b, out _, out var fault))
        {
            d.Fault = fault;
        }
    }

    private static void DescribeRxTxComposite(DescriptorDescription d, ReadOnlySpan<byte> b, uint offset, string prefix)
    {
        if (offset < EndpointRxTxDescriptor.HeaderSize || offset % 8 != 0 || (long)offset + CompositeMemoryRegion.HeaderSize > b.Length)
        {
            return;
        }

        if (offset % 16 != 0)
        {
            d.Warn($"{prefix}composite offset {offset} is 8- but not 16-byte aligned (accepted)");
        }

        DescribeComposite(d, b, (int)offset, prefix);
    }

    // ---- words ----------------------------------------------------------------------------------------------------

    private static void WarnReserved(DescriptorDescription d, string where, ReadOnlySpan<byte> field, int offset)
    {
        if (!DescriptorLayout.IsZero(field))
        {
            d.Warn($"{where}: reserved bytes at {offset} are not zero");
        }
    }

    /// <summary><c>SP</c>, <c>VM</c>, <c>SPMC</c> …: bit 15 = secure is the common convention, not a spec rule.</summary>
    internal static string EndpointText(ushort id) => id switch
    {
        0 => "hypervisor or OS kernel",
        0x8000 => "SPMC",
        0xFFFF => "SPMD",
        0x7FFF => "invalid",
        _ when (id & 0x8000) != 0 => "SP",
        _ => "VM",
    };

    private static string HandleText(MemoryHandle handle) =>
        !handle.IsValid ? "invalid"
        : handle.Value == 0 ? "none"
        : handle.IsHypervisorAllocated ? "hypervisor-allocated"
        : "SPMC-allocated";

    private static string PagesText(uint pages) => pages == 1 ? "1 page, 4 KiB" : $"{pages} pages, {(ulong)pages * 4} KiB";
}
