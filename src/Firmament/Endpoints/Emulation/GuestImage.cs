using Firmament.Machine;

namespace Firmament.Endpoints.Emulation;

/// <summary>
/// A flat AArch64 image for an emulated partition: the file, the IPA it is copied to (4 KiB aligned, inside the
/// partition's memory), where its vCPUs start, and the entry registers x1..x7 (x0 is the vCPU index).
/// </summary>
/// <param name="File">The image file (raw bytes, as <c>objcopy -O binary</c> writes them).</param>
/// <param name="LoadAddress">The IPA of its first byte.</param>
/// <param name="EntryPoint">The IPA every vCPU starts at.</param>
public sealed record GuestImage(string File, ulong LoadAddress, ulong EntryPoint)
{
    /// <summary>At most this many entry arguments (x1..x7).</summary>
    public const int MaxArguments = 7;

    /// <summary>x1..x7 at entry.</summary>
    public IReadOnlyList<ulong> Arguments { get; init; } = [];

    /// <summary>
    /// Copies the image into the partition's memory through its stage-2 map (as a loader with write access would);
    /// returns an error text (and writes nothing) when the file is missing or does not fit its mapped memory.
    /// </summary>
    public string? TryLoad(AddressSpace memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        byte[] bytes;
        try
        {
            bytes = System.IO.File.ReadAllBytes(File);
        }
        catch (IOException e)
        {
            return $"image {File} cannot be read: {e.Message}";
        }
        catch (UnauthorizedAccessException e)
        {
            return $"image {File} cannot be read: {e.Message}";
        }

        for (ulong offset = 0; offset < (ulong)bytes.Length; offset += PhysicalMemory.PageSize)
        {
            if (!memory.Stage2.TryGetEntry(LoadAddress + offset, out _))
            {
                return $"image {File} ({bytes.Length} bytes at 0x{LoadAddress:X}) does not fit the partition's memory: 0x{LoadAddress + offset:X} is not mapped";
            }
        }

        // The loader writes with the platform's rights, not the partition's: code pages may be read-execute only.
        foreach (var chunk in bytes.Chunk(PhysicalMemory.PageSize).Select(static (c, i) => (c, i)))
        {
            var ipa = LoadAddress + ((ulong)chunk.i * PhysicalMemory.PageSize);
            memory.Stage2.TryGetEntry(ipa, out var entry);
            memory.Memory.TryGetPage(entry.PhysicalPage, out var page);
            chunk.c.CopyTo(page.AsSpan());
        }

        return null;
    }
}
