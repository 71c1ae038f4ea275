using System.Diagnostics.CodeAnalysis;

namespace Firmament.Abi.Ffa.Calls;

// The FFA_PARTITION_INFO_GET_REGS answer's descriptor packing (a packing rule, not an ABI): the v1.1/v1.2 24-byte
// partition information descriptor, three registers each, back to back in x3..x17, so at most five per call:
//   reg0 = partition ID [15:0] | execution contexts (or proxy ID) [31:16] | properties [63:32]
//   reg1 = UUID bytes 0..7 (byte 0 in bits 7:0)
//   reg2 = UUID bytes 8..15
// The number of descriptors in one answer is current index − start index + 1, and the start index is in the
// request, not the answer: so the answer keeps the fifteen registers as they are, and the reader takes the start.
// The in-memory partition-info descriptor (RX buffer, 8/24/48 bytes) is a different codec, in Abi/Ffa/Descriptors.
// Limit: this reads only 24-byte descriptors; a v1.3 callee that packs 48-byte ones (two per call) is refused.

/// <summary>One 24-byte partition information descriptor as FFA_PARTITION_INFO_GET_REGS packs it into registers.</summary>
public readonly record struct PartitionInfoRegsEntry(EndpointId Id, ushort ExecutionContexts, uint Properties, Uuid Uuid)
{
    /// <summary>Registers per descriptor.</summary>
    public const int Registers = 3;

    /// <summary>The descriptor size this packing carries (x2 bits 63:48 of the answer).</summary>
    public const ushort DescriptorSize = 24;

    internal void Write(Span<ulong> registers)
    {
        registers[0] = Id.Value | ((ulong)ExecutionContexts << 16) | ((ulong)Properties << 32);
        registers[1] = Uuid.Low;
        registers[2] = Uuid.High;
    }

    internal static PartitionInfoRegsEntry Read(ReadOnlySpan<ulong> registers)
    {
        var reg0 = registers[0];
        return new PartitionInfoRegsEntry(new EndpointId((ushort)reg0), (ushort)(reg0 >> 16), (uint)(reg0 >> 32), new Uuid(registers[1], registers[2]));
    }
}

/// <summary>Registers x3..x17 of a PARTITION_INFO_GET_REGS answer, as they are on the wire.</summary>
public readonly struct PartitionInfoRegsDescriptors : IEquatable<PartitionInfoRegsDescriptors>
{
    /// <summary>Descriptor registers: x3..x17.</summary>
    public const int Count = 15;

    /// <summary>The register that holds the first descriptor.</summary>
    public const int FirstRegister = 3;

    /// <summary>The most 24-byte descriptors one answer carries.</summary>
    public const int MaxEntries = Count / PartitionInfoRegsEntry.Registers;

    private readonly Words15 _words;

    /// <summary>The registers as given (up to fifteen; the rest are zero).</summary>
    public PartitionInfoRegsDescriptors(params ReadOnlySpan<ulong> words)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(words.Length, Count, nameof(words));
        words.CopyTo(_words);
    }

    /// <summary>Register x(3 + <paramref name="index"/>).</summary>
    public ulong this[int index] => AsSpan()[index];

    [UnscopedRef]
    public ReadOnlySpan<ulong> AsSpan() => _words;

    /// <summary>Descriptor <paramref name="index"/> (0..4) of the answer, read as a 24-byte descriptor.</summary>
    public PartitionInfoRegsEntry GetEntry(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxEntries);
        return PartitionInfoRegsEntry.Read(AsSpan().Slice(index * PartitionInfoRegsEntry.Registers, PartitionInfoRegsEntry.Registers));
    }

    public bool Equals(PartitionInfoRegsDescriptors other) => AsSpan().SequenceEqual(other.AsSpan());

    public override bool Equals(object? obj) => obj is PartitionInfoRegsDescriptors other && Equals(other);

    public override int GetHashCode() => SpanHash.Of(AsSpan());

    public static bool operator ==(PartitionInfoRegsDescriptors left, PartitionInfoRegsDescriptors right) => left.Equals(right);

    public static bool operator !=(PartitionInfoRegsDescriptors left, PartitionInfoRegsDescriptors right) => !left.Equals(right);

    public override string ToString() => "[" + string.Join(", ", AsSpan().ToArray().Select(Describing.Hex)) + "]";

    internal static PartitionInfoRegsDescriptors Read(in RegisterFrame frame) => new(frame.AsReadOnlySpan().Slice(FirstRegister, Count));

    internal void Write(ref RegisterFrame frame) => AsSpan().CopyTo(frame.AsSpan()[FirstRegister..]);
}

/// <summary>
/// Packs up to five descriptors into x3..x17 without allocating; <see cref="TryAdd"/> returns false (changing
/// nothing) once five are in.
/// </summary>
public struct PartitionInfoRegsWriter
{
    private Words15 _words;

    /// <summary>Descriptors added so far.</summary>
    public int Count { get; private set; }

    public bool TryAdd(in PartitionInfoRegsEntry entry)
    {
        if (Count >= PartitionInfoRegsDescriptors.MaxEntries)
        {
            return false;
        }

        entry.Write(((Span<ulong>)_words).Slice(Count * PartitionInfoRegsEntry.Registers, PartitionInfoRegsEntry.Registers));
        Count++;
        return true;
    }

    /// <summary>The registers written so far.</summary>
    public readonly PartitionInfoRegsDescriptors ToDescriptors() => new(_words);
}

/// <summary>
/// The descriptors of one PARTITION_INFO_GET_REGS answer, read for a known start index: <see cref="Count"/> of them,
/// enumerable without allocating.
/// </summary>
public readonly struct PartitionInfoRegsReader
{
    private readonly PartitionInfoRegsDescriptors _descriptors;

    internal PartitionInfoRegsReader(PartitionInfoRegsDescriptors descriptors, int count)
    {
        _descriptors = descriptors;
        Count = count;
    }

    public int Count { get; }

    public PartitionInfoRegsEntry this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return _descriptors.GetEntry(index);
        }
    }

    public Enumerator GetEnumerator() => new(this);

    /// <summary>Walks the descriptors in order.</summary>
    public struct Enumerator
    {
        private readonly PartitionInfoRegsReader _reader;
        private int _index;

        internal Enumerator(PartitionInfoRegsReader reader)
        {
            _reader = reader;
            _index = -1;
        }

        public readonly PartitionInfoRegsEntry Current => _reader[_index];

        public bool MoveNext() => ++_index < _reader.Count;
    }
}
