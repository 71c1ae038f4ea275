using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>Relinquish flags (u32 at offset 8): bit 0 zero the memory after relinquish, bit 1 time slicing, bits 31:2 MBZ.</summary>
public readonly record struct RelinquishFlags(uint Value)
{
    public const uint ZeroAfterRelinquishBit = 1u << 0;
    public const uint TimeSliceBit = 1u << 1;
    public const uint MbzMask = ~0x3u;

    public static RelinquishFlags None => default;

    public bool ZeroAfterRelinquish => (Value & ZeroAfterRelinquishBit) != 0;

    public bool TimeSlice => (Value & TimeSliceBit) != 0;

    public static RelinquishFlags Of(bool zeroAfterRelinquish = false, bool timeSlice = false) =>
        new((zeroAfterRelinquish ? ZeroAfterRelinquishBit : 0) | (timeSlice ? TimeSliceBit : 0));

    public override string ToString()
    {
        var parts = new List<string>();
        if (ZeroAfterRelinquish)
        {
            parts.Add("zero after relinquish");
        }

        if (TimeSlice)
        {
            parts.Add("time-sliced");
        }

        if ((Value & MbzMask) != 0)
        {
            parts.Add($"MBZ bits 0x{Value & MbzMask:X}");
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}

/// <summary>
/// The memory relinquish descriptor a borrower puts in its TX buffer for FFA_MEM_RELINQUISH: u64 handle, u32 flags,
/// u32 endpoint count, then that many u16 endpoint IDs (the caller's own; the hypervisor may name a VM). The layout is
/// the same in every version. How many endpoints a partition manager accepts (Hafnium: one) is its own rule.
/// </summary>
public static class MemoryRelinquishDescriptor
{
    public const int HeaderSize = 16;

    public static int RequiredLength(int endpointCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(endpointCount);
        return checked(HeaderSize + (endpointCount * 2));
    }

    /// <summary>
    /// Faults: <see cref="DescriptorError.Truncated"/> (header), <see cref="DescriptorError.MbzBitsSet"/> (flags),
    /// <see cref="DescriptorError.NoEndpoints"/>, <see cref="DescriptorError.EndpointArrayOutOfRange"/>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out MemoryRelinquishView view, out DescriptorFault fault)
    {
        view = default;
        if (bytes.Length < HeaderSize)
        {
            return DescriptorFault.Fail(DescriptorError.Truncated, 0, out fault);
        }

        if ((BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]) & RelinquishFlags.MbzMask) != 0)
        {
            return DescriptorFault.Fail(DescriptorError.MbzBitsSet, 8, out fault);
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        if (count == 0)
        {
            return DescriptorFault.Fail(DescriptorError.NoEndpoints, 12, out fault);
        }

        if (HeaderSize + ((long)count * 2) > bytes.Length)
        {
            return DescriptorFault.Fail(DescriptorError.EndpointArrayOutOfRange, 12, out fault);
        }

        view = new MemoryRelinquishView(bytes[..(HeaderSize + ((int)count * 2))]);
        fault = default;
        return true;
    }

    /// <summary>False, with nothing written, if <paramref name="destination"/> is too small. Throws for no endpoint.</summary>
    public static bool TryWrite(Span<byte> destination, MemoryHandle handle, RelinquishFlags flags, ReadOnlySpan<EndpointId> endpoints, out int bytesWritten)
    {
        bytesWritten = 0;
        if (endpoints.IsEmpty)
        {
            throw new ArgumentException("A relinquish names at least one endpoint.", nameof(endpoints));
        }

        var length = RequiredLength(endpoints.Length);
        if (destination.Length < length)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(destination, handle.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], flags.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)endpoints.Length);
        for (var i = 0; i < endpoints.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(HeaderSize + (2 * i))..], endpoints[i].Value);
        }

        bytesWritten = length;
        return true;
    }
}

/// <summary>A validated relinquish descriptor over the caller's bytes. Allocates nothing.</summary>
public readonly ref struct MemoryRelinquishView
{
    private readonly ReadOnlySpan<byte> _bytes;

    internal MemoryRelinquishView(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    public MemoryHandle Handle => new(BinaryPrimitives.ReadUInt64LittleEndian(_bytes));

    public RelinquishFlags Flags => new(BinaryPrimitives.ReadUInt32LittleEndian(_bytes[8..]));

    public int EndpointCount => (_bytes.Length - MemoryRelinquishDescriptor.HeaderSize) / 2;

    /// <summary>Where the descriptor ends.</summary>
    public int DescriptorLength => _bytes.Length;

    public EndpointId GetEndpoint(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, EndpointCount);
        return new EndpointId(BinaryPrimitives.ReadUInt16LittleEndian(_bytes[(MemoryRelinquishDescriptor.HeaderSize + (2 * index))..]));
    }
}

/// <summary>A relinquish descriptor as plain objects, for tests and tools (allocates).</summary>
public sealed class MemoryRelinquish
{
    public MemoryHandle Handle { get; set; }

    public RelinquishFlags Flags { get; set; }

    public List<EndpointId> Endpoints { get; } = [];

    public byte[] Encode()
    {
        var endpoints = CollectionsMarshal.AsSpan(Endpoints);
        var bytes = new byte[MemoryRelinquishDescriptor.RequiredLength(endpoints.Length)];
        MemoryRelinquishDescriptor.TryWrite(bytes, Handle, Flags, endpoints, out _);
        return bytes;
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out MemoryRelinquish? relinquish, out DescriptorFault fault)
    {
        relinquish = null;
        if (!MemoryRelinquishDescriptor.TryRead(bytes, out var view, out fault))
        {
            return false;
        }

        relinquish = new MemoryRelinquish { Handle = view.Handle, Flags = view.Flags };
        for (var i = 0; i < view.EndpointCount; i++)
        {
            relinquish.Endpoints.Add(view.GetEndpoint(i));
        }

        return true;
    }

    public bool ContentEquals(MemoryRelinquish other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Handle == other.Handle
            && Flags == other.Flags
            && CollectionsMarshal.AsSpan(Endpoints).SequenceEqual(CollectionsMarshal.AsSpan(other.Endpoints));
    }
}
