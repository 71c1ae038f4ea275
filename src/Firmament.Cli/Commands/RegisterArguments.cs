using System.Globalization;
using Firmament.Abi;

namespace Firmament.Cli.Commands;

/// <summary>Parses register values typed on the command line: <c>0x8400007F</c>, <c>132</c>, <c>-1</c>.</summary>
internal static class RegisterArguments
{
    public static RegisterFrame Parse(IReadOnlyList<string> tokens)
    {
        if (tokens.Count == 0)
        {
            throw new CliError("no registers given: expected x0 [x1 ... x17]");
        }

        if (tokens.Count > RegisterFrame.Count)
        {
            throw new CliError($"too many registers: {tokens.Count} given, a frame holds x0..x17 ({RegisterFrame.Count})");
        }

        var frame = default(RegisterFrame);
        for (var i = 0; i < tokens.Count; i++)
        {
            frame[i] = ParseValue(tokens[i], $"x{i}");
        }

        return frame;
    }

    /// <summary>A 64-bit value in hex (0x…), binary (0b…) or decimal; a negative decimal is its two's complement.</summary>
    public static ulong ParseValue(string token, string what)
    {
        var text = token.Trim().Replace("_", string.Empty, StringComparison.Ordinal);
        bool ok;
        ulong value;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            ok = ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        else if (text.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
        {
            ok = ulong.TryParse(text.AsSpan(2), NumberStyles.AllowBinarySpecifier, CultureInfo.InvariantCulture, out value);
        }
        else if (text.StartsWith('-'))
        {
            ok = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var signed);
            value = (ulong)signed;
        }
        else
        {
            ok = ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        return ok ? value : throw new CliError($"{what}: '{token}' is not a number (use hex 0x…, binary 0b… or decimal)");
    }
}
