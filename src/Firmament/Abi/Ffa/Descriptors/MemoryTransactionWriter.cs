using System.Buffers.Binary;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>
/// Writes memory transaction descriptors into a caller-given span, allocating nothing. The layout: header, EMADs
/// right after it (offset 32 in v1.0, 48 in v1.1+), then — for a send or a retrieve response — the composite
/// right after the EMADs (so 16-byte aligned) followed by its constituents. The writer fills in the EMAD size, count
/// and offset, every EMAD's composite offset and the total page count.
/// </summary>
/// <remarks>
/// Layout choice: v1.0 writes the 32-byte header with an 8-bit attributes field; v1.1 the 48-byte header with
/// 16-byte EMADs; v1.2 (and later 1.x) 32-byte EMADs with the implementation-defined value. A layout that has no
/// place for a field drops it (the impdef value in v1.0/v1.1, attribute bits 15:8 in v1.0): converting a transaction
/// for an older caller is the normal use. Inputs no layout can carry — a misaligned constituent, a page sum past
/// 32 bits, EMADs on a hypervisor retrieve request, none on any other shape, constituents on a retrieve request —
/// are programmer errors and throw.
/// </remarks>
public static class MemoryTransactionDescriptorWriter
{
    /// <summary>The bytes a descriptor of this layout, shape and size takes.</summary>
    public static int RequiredLength(FfaVersion layout, MtdShape shape, int emadCount, int constituentCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(emadCount);
        ArgumentOutOfRangeException.ThrowIfNegative(constituentCount);
        var generation = DescriptorLayout.Require(layout, nameof(layout));
        var length = checked(MtdLayout.HeaderSize(generation) + (emadCount * MtdLayout.EmadSize(generation)));
        return MtdLayout.HasComposite(shape) ? checked(length + Composites.Length(constituentCount)) : length;
    }

    /// <summary>
    /// Writes the descriptor at the start of <paramref name="destination"/>. False, with
    /// <paramref name="bytesWritten"/> 0, if it does not fit; the bytes it covers are otherwise all written
    /// (reserved fields zeroed).
    /// </summary>
    public static bool TryWrite(
        Span<byte> destination,
        FfaVersion layout,
        MtdShape shape,
        in MemoryTransactionHeader header,
        ReadOnlySpan<EndpointMemoryAccess> emads,
        ReadOnlySpan<MemoryRegionConstituent> constituents,
        out int bytesWritten)
    {
        bytesWritten = 0;
        var generation = DescriptorLayout.Require(layout, nameof(layout));
        if (shape == MtdShape.HypervisorRetrieve ? !emads.IsEmpty : emads.IsEmpty)
        {
            throw new ArgumentException(
                shape == MtdShape.HypervisorRetrieve ? "A hypervisor retrieve request carries no EMAD." : "A memory transaction names at least one receiver.",
                nameof(emads));
        }

        if (!MtdLayout.HasComposite(shape) && !constituents.IsEmpty)
        {
            throw new ArgumentException("A retrieve request carries no composite, so no constituents.", nameof(constituents));
        }

        var totalPageCount = Composites.CheckWritable(constituents, nameof(constituents));
        var length = RequiredLength(layout, shape, emads.Length, constituents.Length);
        if (destination.Length < length)
        {
            return false;
        }

        var d = destination[..length];
        d.Clear();
        var headerSize = MtdLayout.HeaderSize(generation);
        var emadSize = MtdLayout.EmadSize(generation);
        var compositeOffset = MtdLayout.HasComposite(shape) ? headerSize + (emads.Length * emadSize) : 0;

        BinaryPrimitives.WriteUInt16LittleEndian(d[MtdLayout.SenderOffset..], header.Sender.Value);
        if (generation == LayoutGeneration.V1_0)
        {
            d[MtdLayout.AttributesOffset] = (byte)header.Attributes.Value;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(d[MtdLayout.AttributesOffset..], header.Attributes.Value);
            BinaryPrimitives.WriteUInt32LittleEndian(d[MtdLayout.EmadSizeOffset..], (uint)emadSize);
            BinaryPrimitives.WriteUInt32LittleEndian(d[MtdLayout.EmadOffsetOffset..], (uint)headerSize);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(d[MtdLayout.FlagsOffset..], header.Flags.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(d[MtdLayout.HandleOffset..], header.Handle.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(d[MtdLayout.TagOffset..], header.Tag);
        BinaryPrimitives.WriteUInt32LittleEndian(d[MtdLayout.EmadCountOffset..], (uint)emads.Length);

        for (var i = 0; i < emads.Length; i++)
        {
            var e = d.Slice(headerSize + (i * emadSize), emadSize);
            var emad = emads[i];
            BinaryPrimitives.WriteUInt16LittleEndian(e, emad.Receiver.Value);
            e[MtdLayout.EmadPermissions] = emad.Permissions.Value;
            e[MtdLayout.EmadFlags] = emad.Flags.Value;
            BinaryPrimitives.WriteUInt32LittleEndian(e[MtdLayout.EmadCompositeOffset..], (uint)compositeOffset);
            if (emadSize == MtdLayout.EmadSizeV1_2)
            {
                BinaryPrimitives.WriteUInt128LittleEndian(e[MtdLayout.EmadImpdef..], emad.ImplementationDefined);
            }
        }

        if (MtdLayout.HasComposite(shape))
        {
            Composites.Write(d[compositeOffset..], constituents, totalPageCount);
        }

        bytesWritten = length;
        return true;
    }
}
