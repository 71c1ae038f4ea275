using System.Buffers.Binary;
using System.Globalization;

namespace Firmament.Abi;

/// <summary>
/// A UUID as its 16 bytes in RFC 4122 order. Unlike <see cref="Guid"/>, the bytes are kept in wire order, which is
/// what FF-A puts in registers and descriptors: byte 0 is the least significant byte of the first register
/// (w1 of PARTITION_INFO_GET, x1 of PARTITION_INFO_GET_REGS, x2 of DIRECT_REQ2).
/// </summary>
public readonly record struct Uuid(ulong Low, ulong High)
{
    /// <summary>The Nil UUID: all zero.</summary>
    public static Uuid Nil => default;

    public bool IsNil => Low == 0 && High == 0;

    /// <summary>The UUID from its 16 bytes in RFC 4122 order.</summary>
    public static Uuid FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "A UUID is 16 bytes.");
        }

        return new Uuid(BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
    }

    /// <summary>Writes the 16 bytes in RFC 4122 order.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Low);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], High);
    }

    /// <summary>The four 32-bit words w1..w4 as PARTITION_INFO_GET carries them.</summary>
    public (uint W1, uint W2, uint W3, uint W4) ToWords() => ((uint)Low, (uint)(Low >> 32), (uint)High, (uint)(High >> 32));

    /// <summary>The UUID from the four words w1..w4.</summary>
    public static Uuid FromWords(uint w1, uint w2, uint w3, uint w4) => new(((ulong)w2 << 32) | w1, ((ulong)w4 << 32) | w3);

    /// <summary>Parses the canonical text form <c>xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx</c>.</summary>
    public static bool TryParse(string? text, out Uuid uuid)
    {
        uuid = default;
        if (text is null)
        {
            return false;
        }

        var hex = text.Trim().Replace("-", string.Empty, StringComparison.Ordinal);
        if (hex.Length != 32)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 16; i++)
        {
            if (!byte.TryParse(hex.AsSpan(2 * i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
            {
                return false;
            }
        }

        uuid = FromBytes(bytes);
        return true;
    }

    /// <summary>Parses the canonical text form, throwing on bad input (for literals in code and tests).</summary>
    public static Uuid Parse(string text) =>
        TryParse(text, out var uuid) ? uuid : throw new FormatException($"'{text}' is not a UUID.");

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[16];
        WriteBytes(b);
        var hex = Convert.ToHexStringLower(b);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }
}
