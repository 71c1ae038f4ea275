using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firmament.Abi;

/// <summary>
/// The SMCCC v1.2 register frame: x0..x17 in, x0..x17 out. Every call between an endpoint and a partition
/// manager is one of these and nothing else. SMC32 calls read the low 32 bits (<see cref="W"/>) and ignore the rest.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct RegisterFrame : IEquatable<RegisterFrame>
{
    /// <summary>Registers in a frame: x0..x17.</summary>
    public const int Count = 18;

    private Registers _x;

    /// <summary>A frame with the given leading registers; the rest are zero.</summary>
    public static RegisterFrame Of(params ReadOnlySpan<ulong> registers)
    {
        if (registers.Length > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(registers), "A frame holds x0..x17.");
        }

        var frame = default(RegisterFrame);
        registers.CopyTo(frame.AsSpan());
        return frame;
    }

    /// <summary>Register xN.</summary>
    [UnscopedRef]
    public ref ulong this[int index] => ref _x[index];

    /// <summary>The 32-bit view wN of register xN.</summary>
    public readonly uint W(int index) => (uint)_x[index];

    /// <summary>All eighteen registers as a span over this frame.</summary>
    [UnscopedRef]
    public Span<ulong> AsSpan() => MemoryMarshal.CreateSpan(ref _x[0], Count);

    /// <summary>All eighteen registers, read-only.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<ulong> AsReadOnlySpan() => MemoryMarshal.CreateReadOnlySpan(in _x[0], Count);

    public ulong X0 { readonly get => _x[0]; set => _x[0] = value; }
    public ulong X1 { readonly get => _x[1]; set => _x[1] = value; }
    public ulong X2 { readonly get => _x[2]; set => _x[2] = value; }
    public ulong X3 { readonly get => _x[3]; set => _x[3] = value; }
    public ulong X4 { readonly get => _x[4]; set => _x[4] = value; }
    public ulong X5 { readonly get => _x[5]; set => _x[5] = value; }
    public ulong X6 { readonly get => _x[6]; set => _x[6] = value; }
    public ulong X7 { readonly get => _x[7]; set => _x[7] = value; }

    /// <summary>The function ID in w0 (SMCCC puts the ID in the low 32 bits of x0).</summary>
    public readonly FunctionId Function => new((uint)_x[0]);

    /// <summary>Zero every register.</summary>
    public void Clear() => AsSpan().Clear();

    /// <summary>Zero the upper 32 bits of x0..x17: what an SMC32 callee does to its outputs.</summary>
    public void TruncateTo32()
    {
        var span = AsSpan();
        for (var i = 0; i < span.Length; i++)
        {
            span[i] &= 0xFFFF_FFFF;
        }
    }

    public readonly bool Equals(RegisterFrame other) => AsReadOnlySpan().SequenceEqual(other.AsReadOnlySpan());

    public override readonly bool Equals(object? obj) => obj is RegisterFrame other && Equals(other);

    public override readonly int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var x in AsReadOnlySpan())
        {
            hash.Add(x);
        }

        return hash.ToHashCode();
    }

    public static bool operator ==(RegisterFrame left, RegisterFrame right) => left.Equals(right);

    public static bool operator !=(RegisterFrame left, RegisterFrame right) => !left.Equals(right);

    /// <summary>Registers up to the last non-zero one, as hex: <c>[0x84000063, 0x10002]</c>.</summary>
    public override readonly string ToString()
    {
        var span = AsReadOnlySpan();
        var last = span.Length - 1;
        while (last > 0 && span[last] == 0)
        {
            last--;
        }

        var parts = new string[last + 1];
        for (var i = 0; i <= last; i++)
        {
            parts[i] = "0x" + span[i].ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(", ", parts) + "]";
    }

    [InlineArray(Count)]
    private struct Registers
    {
        private ulong _element;
    }
}
