using System.Buffers.Binary;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>
/// Partition properties (u32 at offset 4 of a partition information descriptor). Bits 5:4 are not flags but the
/// 2-bit <see cref="PartitionIdType"/>; read and set them with <see cref="PartitionPropertiesExtensions.IdType"/> and
/// <see cref="PartitionPropertiesExtensions.WithIdType"/>.
/// </summary>
[Flags]
public enum PartitionProperties : uint
{
    None = 0,

    /// <summary>Bit 0: receives FFA_MSG_SEND_DIRECT_REQ (v1.0).</summary>
    ReceivesDirectRequests = 1u << 0,

    /// <summary>Bit 1: sends FFA_MSG_SEND_DIRECT_REQ (v1.0).</summary>
    SendsDirectRequests = 1u << 1,

    /// <summary>Bit 2: sends and receives indirect messages (v1.0).</summary>
    SupportsIndirectMessages = 1u << 2,

    /// <summary>Bit 3: receives notifications (v1.1).</summary>
    ReceivesNotifications = 1u << 3,

    /// <summary>Bit 4: low bit of the partition ID type field.</summary>
    IdTypeLow = 1u << 4,

    /// <summary>Bit 5: high bit of the partition ID type field.</summary>
    IdTypeHigh = 1u << 5,

    /// <summary>Bit 6: must be informed of VM creation (v1.1; meaningful with bit 0).</summary>
    InformedOfVmCreation = 1u << 6,

    /// <summary>Bit 7: must be informed of VM destruction (v1.1; meaningful with bit 0).</summary>
    InformedOfVmDestruction = 1u << 7,

    /// <summary>Bit 8: AArch64 execution state; clear means AArch32 (v1.1).</summary>
    AArch64 = 1u << 8,

    /// <summary>Bit 9: receives FFA_MSG_SEND_DIRECT_REQ2 (v1.2).</summary>
    ReceivesDirectRequests2 = 1u << 9,

    /// <summary>Bit 10: sends FFA_MSG_SEND_DIRECT_REQ2 (v1.2).</summary>
    SendsDirectRequests2 = 1u << 10,
}

/// <summary>Partition ID type, properties bits 5:4 (v1.1).</summary>
public enum PartitionIdType : byte
{
    /// <summary>A PE endpoint: offset 2 holds the execution-context count.</summary>
    PeEndpoint = 0,

    /// <summary>A stream endpoint ID independent of a proxy.</summary>
    SepidIndependent = 1,

    /// <summary>A stream endpoint ID that depends on a proxy: offset 2 holds the proxy's endpoint ID.</summary>
    SepidDependent = 2,

    /// <summary>An auxiliary ID.</summary>
    AuxiliaryId = 3,
}

public static class PartitionPropertiesExtensions
{
    /// <summary>Bits 5:4, the ID type field.</summary>
    public const PartitionProperties IdTypeField = PartitionProperties.IdTypeLow | PartitionProperties.IdTypeHigh;

    public static PartitionIdType IdType(this PartitionProperties properties) => (PartitionIdType)(((uint)properties >> 4) & 3);

    public static PartitionProperties WithIdType(this PartitionProperties properties, PartitionIdType type) =>
        (properties & ~IdTypeField) | (PartitionProperties)(((uint)type & 3) << 4);

    /// <summary>
    /// The bits a version defines: v1.0 bits 2:0, v1.1 bits 8:0, v1.2 bits 10:0. A partition manager masks with this
    /// before answering a caller of that version (as Hafnium does); the writer itself writes what it is given.
    /// </summary>
    public static PartitionProperties DefinedFor(FfaVersion version) => DescriptorLayout.Of(version) switch
    {
        LayoutGeneration.V1_0 => (PartitionProperties)0x7,
        LayoutGeneration.V1_1 => (PartitionProperties)0x1FF,
        LayoutGeneration.V1_2 => (PartitionProperties)0x7FF,
        _ => PartitionProperties.None,
    };

    /// <summary><c>direct-req recv, direct-req send, indirect, notifications, PE endpoint, AArch64</c>.</summary>
    public static string Describe(this PartitionProperties properties)
    {
        var parts = new List<string>();
        void Add(PartitionProperties bit, string text)
        {
            if ((properties & bit) != 0)
            {
                parts.Add(text);
            }
        }

        Add(PartitionProperties.ReceivesDirectRequests, "receives direct requests");
        Add(PartitionProperties.SendsDirectRequests, "sends direct requests");
        Add(PartitionProperties.SupportsIndirectMessages, "indirect messages");
        Add(PartitionProperties.ReceivesNotifications, "notifications");
        parts.Add(properties.IdType() switch
        {
            PartitionIdType.PeEndpoint => "PE endpoint",
            PartitionIdType.SepidIndependent => "SEPID independent",
            PartitionIdType.SepidDependent => "SEPID dependent",
            _ => "auxiliary ID",
        });
        Add(PartitionProperties.InformedOfVmCreation, "VM created messages");
        Add(PartitionProperties.InformedOfVmDestruction, "VM destroyed messages");
        parts.Add((properties & PartitionProperties.AArch64) != 0 ? "AArch64" : "AArch32");
        Add(PartitionProperties.ReceivesDirectRequests2, "receives direct requests 2");
        Add(PartitionProperties.SendsDirectRequests2, "sends direct requests 2");
        var unknown = (uint)properties & ~0x7FFu;
        if (unknown != 0)
        {
            parts.Add($"unknown bits 0x{unknown:X}");
        }

        return string.Join(", ", parts);
    }
}

/// <summary>
/// One partition information descriptor: what FFA_PARTITION_INFO_GET writes into the caller's RX buffer, per
/// partition. 8 bytes in v1.0 (ID, execution-context count, properties), 24 bytes in v1.1 and v1.2 (+ UUID).
/// </summary>
/// <param name="Id">Partition ID (offset 0).</param>
/// <param name="ExecutionContextCount">
/// Offset 2: the execution-context count of a PE endpoint, or the proxy's endpoint ID for a SEPID-dependent
/// partition (see <see cref="ProxyId"/>).
/// </param>
/// <param name="Properties">Offset 4.</param>
/// <param name="Uuid">Offset 8, v1.1+ only (RFC 4122 byte order). Nil in a v1.0 descriptor.</param>
public readonly record struct PartitionInfo(EndpointId Id, ushort ExecutionContextCount, PartitionProperties Properties, Uuid Uuid)
{
    public PartitionIdType IdType => Properties.IdType();

    /// <summary>The proxy endpoint, for a SEPID-dependent partition; null otherwise.</summary>
    public EndpointId? ProxyId => IdType == PartitionIdType.SepidDependent ? new EndpointId(ExecutionContextCount) : null;
}

/// <summary>
/// Reads and writes arrays of partition information descriptors. Readers step by the descriptor size the callee
/// gave (w3 of FFA_PARTITION_INFO_GET in v1.1+), not by the size they know: a newer callee may send longer
/// descriptors (Hafnium sends its v1.3 48-byte form) and the fields we know keep their offsets.
/// </summary>
public static class PartitionInfoDescriptors
{
    /// <summary>The v1.0 descriptor: ID, execution-context count, properties.</summary>
    public const int SizeV1_0 = 8;

    /// <summary>The v1.1 and v1.2 descriptor: + UUID.</summary>
    public const int SizeV1_1 = 24;

    /// <summary>The size a partition manager writes for a caller of <paramref name="version"/>.</summary>
    public static int SizeFor(FfaVersion version) =>
        DescriptorLayout.Require(version, nameof(version)) == LayoutGeneration.V1_0 ? SizeV1_0 : SizeV1_1;

    public static int RequiredLength(int count, FfaVersion version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return checked(count * SizeFor(version));
    }

    /// <summary>
    /// Writes one descriptor per partition, back to back, in the layout of <paramref name="version"/>. A v1.0
    /// descriptor has no UUID field, so UUIDs are dropped; properties are written as given (mask them with
    /// <see cref="PartitionPropertiesExtensions.DefinedFor"/> first). False, with nothing written, if
    /// <paramref name="destination"/> is too small.
    /// </summary>
    public static bool TryWrite(ReadOnlySpan<PartitionInfo> partitions, FfaVersion version, Span<byte> destination, out int bytesWritten)
    {
        var size = SizeFor(version);
        var length = RequiredLength(partitions.Length, version);
        bytesWritten = 0;
        if (destination.Length < length)
        {
            return false;
        }

        for (var i = 0; i < partitions.Length; i++)
        {
            var d = destination.Slice(i * size, size);
            var p = partitions[i];
            BinaryPrimitives.WriteUInt16LittleEndian(d, p.Id.Value);
            BinaryPrimitives.WriteUInt16LittleEndian(d[2..], p.ExecutionContextCount);
            BinaryPrimitives.WriteUInt32LittleEndian(d[4..], (uint)p.Properties);
            if (size >= SizeV1_1)
            {
                p.Uuid.WriteBytes(d[8..]);
            }
        }

        bytesWritten = length;
        return true;
    }

    /// <summary>
    /// A view of <paramref name="count"/> descriptors of <paramref name="descriptorSize"/> bytes each (8 for a v1.0
    /// callee; w3 otherwise). Faults: <see cref="DescriptorError.BadDescriptorSize"/> for a size that is neither 8
    /// nor ≥ 24; <see cref="DescriptorError.Truncated"/> at the first descriptor that does not fit. Bytes past the
    /// fields we know (a v1.3 descriptor's tail) and properties bits we do not know are ignored.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, uint count, uint descriptorSize, out PartitionInfoList partitions, out DescriptorFault fault)
    {
        partitions = default;
        fault = default;
        if (descriptorSize < SizeV1_0 || (descriptorSize > SizeV1_0 && descriptorSize < SizeV1_1))
        {
            return DescriptorFault.Fail(DescriptorError.BadDescriptorSize, 0, out fault);
        }

        if ((ulong)count * descriptorSize > (ulong)bytes.Length)
        {
            var whole = (ulong)bytes.Length / descriptorSize;
            return DescriptorFault.Fail(DescriptorError.Truncated, DescriptorFault.At((long)(whole * descriptorSize)), out fault);
        }

        partitions = new PartitionInfoList(bytes, (int)count, (int)descriptorSize);
        return true;
    }
}

/// <summary>A validated array of partition information descriptors over the caller's bytes. Allocates nothing.</summary>
public readonly ref struct PartitionInfoList
{
    private readonly ReadOnlySpan<byte> _bytes;

    internal PartitionInfoList(ReadOnlySpan<byte> bytes, int count, int descriptorSize)
    {
        _bytes = bytes;
        Count = count;
        DescriptorSize = descriptorSize;
    }

    public int Count { get; }

    /// <summary>The stride: the size the callee declared, which may exceed the fields we read.</summary>
    public int DescriptorSize { get; }

    /// <summary>True if the descriptors carry a UUID (v1.1+ sizes).</summary>
    public bool HasUuid => DescriptorSize >= PartitionInfoDescriptors.SizeV1_1;

    public PartitionInfo this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var d = _bytes.Slice(index * DescriptorSize, DescriptorSize);
            return new PartitionInfo(
                new EndpointId(BinaryPrimitives.ReadUInt16LittleEndian(d)),
                BinaryPrimitives.ReadUInt16LittleEndian(d[2..]),
                (PartitionProperties)BinaryPrimitives.ReadUInt32LittleEndian(d[4..]),
                HasUuid ? Uuid.FromBytes(d[8..]) : Uuid.Nil);
        }
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>Copies the descriptors out (allocates; for tools and tests).</summary>
    public PartitionInfo[] ToArray()
    {
        var result = new PartitionInfo[Count];
        for (var i = 0; i < Count; i++)
        {
            result[i] = this[i];
        }

        return result;
    }

    public ref struct Enumerator
    {
        private readonly PartitionInfoList _list;
        private int _index;

        internal Enumerator(PartitionInfoList list)
        {
            _list = list;
            _index = -1;
        }

        public readonly PartitionInfo Current => _list[_index];

        public bool MoveNext() => ++_index < _list.Count;
    }
}
