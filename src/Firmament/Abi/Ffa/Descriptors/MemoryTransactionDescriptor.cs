using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>
/// What a memory transaction descriptor is used for. The layout is the same; the rules differ: which flags bits mean
/// something, whether EMADs point at a composite, whether there are EMADs at all. The reader is told which shape to
/// expect; it never guesses.
/// </summary>
public enum MtdShape : byte
{
    /// <summary>FFA_MEM_DONATE/LEND/SHARE: ≥ 1 EMAD, each pointing at the composite; flags bits 1:0.</summary>
    Send = 0,

    /// <summary>FFA_MEM_RETRIEVE_REQ from a borrower: ≥ 1 EMAD, composite offsets 0 (no composite); flags bits 10:0.</summary>
    RetrieveRequest = 1,

    /// <summary>FFA_MEM_RETRIEVE_RESP: ≥ 1 EMAD and the composite; flags bits 4:0.</summary>
    RetrieveResponse = 2,

    /// <summary>The hypervisor's retrieve request (v1.1): the handle, no EMAD, no composite.</summary>
    HypervisorRetrieve = 3,
}

/// <summary>
/// The fields of a memory transaction descriptor header that mean something; the layout fields (EMAD size, count and
/// offset) are the writer's business and the view's.
/// </summary>
/// <param name="Sender">Offset 0: the owner (lender) of the memory.</param>
/// <param name="Attributes">Offset 2: u8 in v1.0, u16 in v1.1+.</param>
/// <param name="Flags">Offset 4: read with the meanings of the shape.</param>
/// <param name="Handle">Offset 8: 0 in a send; the transaction's handle in a retrieve.</param>
/// <param name="Tag">Offset 16: implementation-defined, must match between send and retrieve.</param>
public readonly record struct MemoryTransactionHeader(
    EndpointId Sender,
    MemoryRegionAttributes Attributes,
    MemoryTransactionFlags Flags,
    MemoryHandle Handle,
    ulong Tag);

/// <summary>
/// What an endpoint memory access descriptor (EMAD) says about one borrower. The EMAD's composite offset is not
/// here: the writer places the composite and fills it in, and the view reads it with
/// <see cref="MemoryTransactionView.GetCompositeOffset"/>.
/// </summary>
/// <param name="Receiver">Offset 0: the borrower.</param>
/// <param name="Permissions">Offset 2.</param>
/// <param name="Flags">Offset 3.</param>
/// <param name="ImplementationDefined">Offset 8, v1.2 (32-byte EMADs) only: 16 bytes that must match between send
/// and retrieve, read as a little-endian u128. Zero in the 16-byte EMADs of v1.0 and v1.1.</param>
public readonly record struct EndpointMemoryAccess(
    EndpointId Receiver,
    MemoryAccessPermissions Permissions,
    EmadFlags Flags = default,
    UInt128 ImplementationDefined = default);

/// <summary>
/// A memory transaction descriptor as plain objects, for tests and tools: it allocates. Encode and decode go through
/// <see cref="MemoryTransactionDescriptorWriter"/> and <see cref="MemoryTransactionDescriptorReader"/>, so a
/// round trip exercises the real codec. The total page count and every composite offset are derived, not stored.
/// </summary>
public sealed class MemoryTransactionDescriptor
{
    public MemoryTransactionHeader Header { get; set; }

    public List<EndpointMemoryAccess> Receivers { get; } = [];

    /// <summary>Empty for a retrieve request and a hypervisor retrieve request (they carry no composite).</summary>
    public List<MemoryRegionConstituent> Constituents { get; } = [];

    public byte[] Encode(FfaVersion layout, MtdShape shape)
    {
        var emads = CollectionsMarshal.AsSpan(Receivers);
        var constituents = CollectionsMarshal.AsSpan(Constituents);
        var bytes = new byte[MemoryTransactionDescriptorWriter.RequiredLength(layout, shape, emads.Length, constituents.Length)];
        MemoryTransactionDescriptorWriter.TryWrite(bytes, layout, shape, Header, emads, constituents, out _);
        return bytes;
    }

    public static bool TryDecode(
        ReadOnlySpan<byte> bytes,
        FfaVersion layout,
        MtdShape shape,
        [NotNullWhen(true)] out MemoryTransactionDescriptor? descriptor,
        out DescriptorFault fault)
    {
        descriptor = null;
        if (!MemoryTransactionDescriptorReader.TryRead(bytes, layout, shape, out var view, out fault))
        {
            return false;
        }

        descriptor = new MemoryTransactionDescriptor { Header = view.Header };
        for (var i = 0; i < view.EmadCount; i++)
        {
            descriptor.Receivers.Add(view.GetEmad(i));
        }

        foreach (var constituent in view.Constituents)
        {
            descriptor.Constituents.Add(constituent);
        }

        return true;
    }

    /// <summary>Same header, receivers and constituents, in order.</summary>
    public bool ContentEquals(MemoryTransactionDescriptor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Header == other.Header
            && CollectionsMarshal.AsSpan(Receivers).SequenceEqual(CollectionsMarshal.AsSpan(other.Receivers))
            && CollectionsMarshal.AsSpan(Constituents).SequenceEqual(CollectionsMarshal.AsSpan(other.Constituents));
    }
}
