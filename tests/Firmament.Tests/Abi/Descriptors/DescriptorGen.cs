using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using FsCheck;
using FsCheck.Fluent;

namespace Firmament.Tests.Abi.Descriptors;

/// <summary>Generators of valid descriptor models, and of damage to do to their bytes.</summary>
internal static class DescriptorGen
{
    public static readonly FfaVersion[] Layouts = [FfaVersion.V1_0, FfaVersion.V1_1, FfaVersion.V1_2];

    public static readonly MtdShape[] Shapes = [MtdShape.Send, MtdShape.RetrieveRequest, MtdShape.RetrieveResponse, MtdShape.HypervisorRetrieve];

    public static readonly Gen<byte> Byte = Gen.Choose(0, 255).Select(i => (byte)i);

    public static readonly Gen<ushort> UInt16 = Gen.Choose(0, 0xFFFF).Select(i => (ushort)i);

    /// <summary>Any u32, with the edges (0, 1, all ones, the sign bit) more often than chance would give them.</summary>
    public static readonly Gen<uint> UInt32 = Gen.OneOf(
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => (uint)i),
        Gen.Choose(0, 512).Select(i => (uint)i),
        Gen.Elements(0u, 1u, 16u, 32u, 48u, uint.MaxValue, 0x8000_0000u, 0x7FFF_FFFFu, 0xFFFF_FFF0u));

    public static readonly Gen<ulong> UInt64 =
        from high in UInt32
        from low in UInt32
        select ((ulong)high << 32) | low;

    public static readonly Gen<EndpointId> Endpoint = UInt16.Select(v => new EndpointId(v));

    public static readonly Gen<Uuid> AnyUuid =
        from low in UInt64
        from high in UInt64
        select new Uuid(low, high);

    public static readonly Gen<MemoryRegionConstituent> Constituent =
        from address in UInt64
        from pages in Gen.Choose(0, 1 << 20)
        select new MemoryRegionConstituent(address & ~0xFFFUL, (uint)pages);

    public static Gen<T[]> ArrayOf<T>(Gen<T> element, int min, int max) =>
        from n in Gen.Choose(min, max)
        from items in Gen.ArrayOf(element, n)
        select items;

    public static Gen<byte[]> Bytes(int min, int max) => ArrayOf(Byte, min, max);

    // ---- memory transactions ---------------------------------------------------------------------------------------

    public static Gen<MemoryTransactionDescriptor> Mtd(FfaVersion layout, MtdShape shape)
    {
        var v10 = layout == FfaVersion.V1_0;
        var hasComposite = shape is MtdShape.Send or MtdShape.RetrieveResponse;
        var attributes =
            from value in Gen.Choose(0, 0x3F)
            from ns in Gen.Elements(false, true)
            select new MemoryRegionAttributes((ushort)(value | (ns && !v10 && shape == MtdShape.RetrieveResponse ? MemoryRegionAttributes.NonSecureBit : 0)));
        var flags = UInt32.Select(v => new MemoryTransactionFlags(v & ~MemoryTransactionFlags.MbzMask(shape, layout)));
        var header =
            from sender in Endpoint
            from a in attributes
            from f in flags
            from handle in UInt64
            from tag in UInt64
            select new MemoryTransactionHeader(sender, a, f, new MemoryHandle(handle), tag);
        var emad =
            from receiver in Endpoint
            from permissions in Gen.Choose(0, 15)
            from nonRetrieval in Gen.Elements(false, true)
            from low in UInt64
            from high in UInt64
            select new EndpointMemoryAccess(
                receiver,
                new MemoryAccessPermissions((byte)permissions),
                new EmadFlags(nonRetrieval && shape != MtdShape.Send ? EmadFlags.NonRetrievalBorrowerBit : (byte)0),
                layout >= FfaVersion.V1_2 ? new UInt128(high, low) : UInt128.Zero);
        var emads = shape == MtdShape.HypervisorRetrieve ? Gen.Constant(Array.Empty<EndpointMemoryAccess>()) : ArrayOf(emad, 1, 6);
        var constituents = hasComposite ? ArrayOf(Constituent, 0, 24) : Gen.Constant(Array.Empty<MemoryRegionConstituent>());
        return
            from h in header
            from e in emads
            from c in constituents
            select Model(h, e, c);
    }

    /// <summary>Any valid (layout, shape, model) triple, encoded.</summary>
    public static readonly Gen<(FfaVersion Layout, MtdShape Shape, byte[] Bytes)> AnyMtd =
        from layout in Gen.Elements(Layouts)
        from shape in Gen.Elements(Shapes)
        from model in Mtd(layout, shape)
        select (layout, shape, model.Encode(layout, shape));

    private static MemoryTransactionDescriptor Model(MemoryTransactionHeader header, EndpointMemoryAccess[] emads, MemoryRegionConstituent[] constituents)
    {
        var model = new MemoryTransactionDescriptor { Header = header };
        model.Receivers.AddRange(emads);
        model.Constituents.AddRange(constituents);
        return model;
    }

    // ---- the other kinds -------------------------------------------------------------------------------------------

    public static Gen<PartitionInfo[]> Partitions(FfaVersion version) =>
        ArrayOf(
            from id in Endpoint
            from contexts in UInt16
            from properties in UInt32
            from uuid in AnyUuid
            select new PartitionInfo(id, contexts, (PartitionProperties)properties, version == FfaVersion.V1_0 ? Uuid.Nil : uuid),
            0,
            12);

    public static readonly Gen<MemoryRelinquish> Relinquish =
        from handle in UInt64
        from flags in Gen.Choose(0, 3)
        from endpoints in ArrayOf(Endpoint, 1, 8)
        select RelinquishModel(handle, (uint)flags, endpoints);

    public static Gen<(IndirectMessageHeader Header, byte[] Buffer)> Indirect(FfaVersion version) =>
        from sender in Endpoint
        from receiver in Endpoint
        from gap in Gen.Choose(0, 24)
        from payload in Bytes(0, 64)
        from tail in Gen.Choose(0, 16)
        from uuid in AnyUuid
        select IndirectMessage(version, sender, receiver, gap, payload, tail, uuid);

    public static readonly Gen<EndpointRxTx> RxTx =
        from endpoint in Endpoint
        from rx in ArrayOf(Constituent, 0, 6)
        from tx in ArrayOf(Constituent, 0, 6)
        select RxTxModel(endpoint, rx, tx);

    private static MemoryRelinquish RelinquishModel(ulong handle, uint flags, EndpointId[] endpoints)
    {
        var model = new MemoryRelinquish { Handle = new MemoryHandle(handle), Flags = new RelinquishFlags(flags) };
        model.Endpoints.AddRange(endpoints);
        return model;
    }

    private static (IndirectMessageHeader, byte[]) IndirectMessage(
        FfaVersion version, EndpointId sender, EndpointId receiver, int gap, byte[] payload, int tail, Uuid uuid)
    {
        var offset = IndirectMessageHeader.SizeFor(version) + gap;
        var header = new IndirectMessageHeader(0, (uint)offset, sender, receiver, (uint)payload.Length, version == FfaVersion.V1_1 ? Uuid.Nil : uuid);
        var buffer = new byte[offset + payload.Length + tail];
        header.TryWrite(buffer, version, out _);
        payload.CopyTo(buffer, offset);
        return (header, buffer);
    }

    private static EndpointRxTx RxTxModel(EndpointId endpoint, MemoryRegionConstituent[] rx, MemoryRegionConstituent[] tx)
    {
        var model = new EndpointRxTx { Endpoint = endpoint };
        model.Rx.AddRange(rx);
        model.Tx.AddRange(tx);
        return model;
    }

    // ---- damage ----------------------------------------------------------------------------------------------------

    /// <summary>What to do to a byte string: flip a bit, cut it, put a u32 somewhere, or append junk.</summary>
    public readonly record struct Mutation(int Kind, int Position, uint Value)
    {
        public byte[] Apply(byte[] bytes)
        {
            if (bytes.Length == 0)
            {
                return Kind == 3 ? BitConverter.GetBytes(Value) : bytes;
            }

            var at = Position % bytes.Length;
            switch (Kind)
            {
                case 0:
                    bytes[at] ^= (byte)(1 << (int)(Value % 8));
                    return bytes;
                case 1:
                    return bytes[..at];
                case 2:
                    var copy = (byte[])bytes.Clone();
                    var fieldAt = Math.Min(at & ~3, Math.Max(0, copy.Length - 4));
                    var n = Math.Min(4, copy.Length - fieldAt);
                    BitConverter.GetBytes(Value).AsSpan(0, n).CopyTo(copy.AsSpan(fieldAt));
                    return copy;
                default:
                    return [.. bytes, .. BitConverter.GetBytes(Value)];
            }
        }
    }

    public static readonly Gen<Mutation> AnyMutation =
        from kind in Gen.Choose(0, 3)
        from position in Gen.Choose(0, 1 << 16)
        from value in UInt32
        select new Mutation(kind, position, value);

    public static Gen<byte[]> Mutated(Gen<byte[]> valid) =>
        from bytes in valid
        from mutations in ArrayOf(AnyMutation, 1, 4)
        select mutations.Aggregate((byte[])bytes.Clone(), (b, m) => m.Apply(b));
}
