using Firmament.Machine;

namespace Firmament.Gunyah;

/// <summary>
/// A one-page translation cache for the buffers a VM hands to message-queue calls (what a TLB does for the real
/// hypervisor's copy-in/copy-out): the last page translated for one kind of access, valid while the VM's stage-2 map is
/// unchanged (its generation). A buffer that crosses a page, or is not mapped, takes the general path.
/// </summary>
internal sealed class BufferWindow(Stage2Access access)
{
    private ulong _page = ulong.MaxValue;
    private ulong _generation;
    private byte[] _bytes = [];

    /// <summary>The bytes of [ipa, ipa + length) when they lie in one page this VM may access; false otherwise.</summary>
    public bool TryGet(AddressSpace space, ulong ipa, int length, out Span<byte> window)
    {
        var offset = (int)(ipa & PhysicalMemory.PageMask);
        window = default;
        if (offset + length > PhysicalMemory.PageSize)
        {
            return false;
        }

        var page = ipa >> PhysicalMemory.PageShift;
        if (page != _page || space.Stage2.Generation != _generation)
        {
            if (!space.TryPage(ipa, access, out var bytes, out _, out _))
            {
                return false;
            }

            (_page, _generation, _bytes) = (page, space.Stage2.Generation, bytes);
        }

        window = _bytes.AsSpan(offset, length);
        return true;
    }
}
