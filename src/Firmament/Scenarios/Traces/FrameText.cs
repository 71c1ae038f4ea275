using System.Globalization;
using System.Text;
using Firmament.Abi;

namespace Firmament.Scenarios.Traces;

/// <summary>
/// Short renderings of a described frame for one-line formats: each field by its meaning when it has one, else its
/// raw value; the payload registers as one list with the trailing zeros left out; a UUID split over two registers
/// as one field.
/// </summary>
internal static class FrameText
{
    /// <summary>A field's value in words, or its raw number (hex; signed fields in decimal).</summary>
    public static string Value(DescribedField field) =>
        field.Text.Length > 0 ? field.Text : Raw(field);

    public static string Raw(DescribedField field) =>
        field.Signed ? field.SignedValue.ToString(CultureInfo.InvariantCulture) : Hex(field.Value);

    public static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture);

    /// <summary>Virtual nanoseconds as microseconds with three decimals: <c>12.345</c>.</summary>
    public static string Microseconds(ulong ns) =>
        (ns / 1000).ToString(CultureInfo.InvariantCulture) + "." + (ns % 1000).ToString("D3", CultureInfo.InvariantCulture);

    /// <summary>The fields as (name, value) pairs: payloads and UUID halves merged, empty FFA_SUCCESS registers left out.</summary>
    public static List<(string Name, string Value)> Compact(CallDescription description)
    {
        var result = new List<(string, string)>();
        var fields = description.Fields;
        var payload = new List<ulong>();
        var payloadAt = -1;
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            if (IsPayload(field.Name))
            {
                if (payloadAt < 0)
                {
                    payloadAt = result.Count;
                    result.Add(("payload", string.Empty));
                }

                payload.Add(field.Value);
                continue;
            }

            if (i + 1 < fields.Count && field.Text.Length > 0 && fields[i + 1].Text == field.Text
                && field.Name.EndsWith("_lo", StringComparison.Ordinal) && fields[i + 1].Name == field.Name[..^3] + "_hi")
            {
                result.Add((field.Name[..^3], field.Text));
                i++;
                continue;
            }

            if (IsNumbered(field.Name, "arg") && field.Value == 0 && field.Text.Length == 0)
            {
                continue; // an FFA_SUCCESS register with nothing in it
            }

            result.Add((field.Name, Value(field)));
        }

        if (payloadAt >= 0)
        {
            result[payloadAt] = ("payload", PayloadList(payload));
        }

        return result;
    }

    /// <summary><c>ABI name=value …</c> on one line, with warnings after.</summary>
    public static string Line(CallDescription description)
    {
        var sb = new StringBuilder(description.Abi);
        foreach (var (name, value) in Compact(description))
        {
            sb.Append(' ').Append(name).Append('=').Append(value);
        }

        foreach (var warning in description.Warnings)
        {
            sb.Append(" [warning: ").Append(warning).Append(']');
        }

        return sb.ToString();
    }

    /// <summary><c>[0x1, 0x2, 0x3]</c>: trailing zero registers left out (<c>...</c> says some were).</summary>
    public static string PayloadList(IReadOnlyList<ulong> values)
    {
        var last = values.Count - 1;
        while (last >= 0 && values[last] == 0)
        {
            last--;
        }

        var sb = new StringBuilder("[");
        for (var i = 0; i <= last; i++)
        {
            sb.Append(i == 0 ? string.Empty : ", ").Append(Hex(values[i]));
        }

        if (last < values.Count - 1)
        {
            sb.Append(last < 0 ? "0..." : ", ...");
        }

        return sb.Append(']').ToString();
    }

    private static bool IsPayload(string name) => IsNumbered(name, "payload");

    /// <summary><c>payload3</c>, <c>arg7</c>: a prefix and a number.</summary>
    private static bool IsNumbered(string name, string prefix) =>
        name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal) && name.AsSpan(prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0;
}
