using System.Globalization;
using System.Text;
using System.Text.Json;
using Firmament.Abi;

namespace Firmament.Cli.Commands;

/// <summary>Renders a <see cref="CallDescription"/> for people (aligned text) or for tools (one JSON object).</summary>
internal static class DescriptionWriter
{
    public static string Text(CallDescription description)
    {
        var sb = new StringBuilder();
        sb.Append(description.Abi)
            .Append("  (0x").Append(description.FunctionId.ToString("X8", CultureInfo.InvariantCulture));
        if (description.Convention.Length > 0)
        {
            sb.Append(", ").Append(description.Convention);
        }

        sb.Append(')').Append('\n');
        AppendFields(sb, description.Fields);
        AppendWarnings(sb, description.Warnings);
        return sb.ToString();
    }

    public static string Json(CallDescription description)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("abi", description.Abi);
            json.WriteNumber("fid", description.FunctionId);
            json.WriteString("convention", description.Convention);
            WriteFieldObjects(json, description.Fields);
            WriteWarnings(json, description.Warnings);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Fields as <c>name value meaning</c> lines, values in hex, names and values aligned.</summary>
    public static void AppendFields(StringBuilder sb, IReadOnlyList<DescribedField> fields, string indent = "  ")
    {
        var nameWidth = 0;
        var valueWidth = 0;
        foreach (var field in fields)
        {
            nameWidth = Math.Max(nameWidth, field.Name.Length);
            valueWidth = Math.Max(valueWidth, FormatValue(field).Length);
        }

        foreach (var field in fields)
        {
            sb.Append(indent).Append(field.Name.PadRight(nameWidth)).Append("  ");
            var value = FormatValue(field);
            if (field.Text.Length == 0)
            {
                sb.Append(value).Append('\n');
                continue;
            }

            sb.Append(value.PadRight(valueWidth)).Append("  ").Append(field.Text).Append('\n');
        }
    }

    public static void AppendWarnings(StringBuilder sb, IReadOnlyList<string> warnings)
    {
        foreach (var warning in warnings)
        {
            sb.Append("  warning: ").Append(warning).Append('\n');
        }
    }

    /// <summary><c>fields</c> (name → number) and <c>meaning</c> (name → words) objects.</summary>
    public static void WriteFieldObjects(Utf8JsonWriter json, IReadOnlyList<DescribedField> fields)
    {
        json.WriteStartObject("fields");
        foreach (var field in fields)
        {
            if (field.Signed)
            {
                json.WriteNumber(field.Name, field.SignedValue);
            }
            else
            {
                json.WriteNumber(field.Name, field.Value);
            }
        }

        json.WriteEndObject();
        json.WriteStartObject("meaning");
        foreach (var field in fields)
        {
            if (field.Text.Length > 0)
            {
                json.WriteString(field.Name, field.Text);
            }
        }

        json.WriteEndObject();
    }

    public static void WriteWarnings(Utf8JsonWriter json, IReadOnlyList<string> warnings)
    {
        json.WriteStartArray("warnings");
        foreach (var warning in warnings)
        {
            json.WriteStringValue(warning);
        }

        json.WriteEndArray();
    }

    private static string FormatValue(DescribedField field) =>
        field.Signed ? field.SignedValue.ToString(CultureInfo.InvariantCulture) : "0x" + field.Value.ToString("X", CultureInfo.InvariantCulture);
}
