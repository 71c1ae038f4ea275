using System.Globalization;
using System.Text;
using System.Text.Json;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Cli.Commands;

/// <summary><c>firmament decode --descriptor</c>: a descriptor's bytes in words, as text or JSON.</summary>
internal static class DescriptorOutput
{
    /// <summary>
    /// Describes the bytes. A descriptor the strict reader refuses is still described as far as its bytes go, then
    /// reported as bad input (exit code 2) with its one-line reason.
    /// </summary>
    public static int Write(TextWriter output, TextWriter error, string path, byte[] bytes, string kindText, string? shapeText, FfaVersion version, bool json)
    {
        if (!DescriptorDescriber.TryParseKind(kindText, out var kind))
        {
            throw new CliError($"--kind: '{kindText}' is not a descriptor kind (mtd, partinfo, indirect, relinquish, rxtx)");
        }

        MtdShape? shape = shapeText switch
        {
            null => null,
            "send" => MtdShape.Send,
            "retrieve-req" => MtdShape.RetrieveRequest,
            "retrieve-resp" => MtdShape.RetrieveResponse,
            "hyp-retrieve" => MtdShape.HypervisorRetrieve,
            _ => throw new CliError($"--shape: '{shapeText}' is not a shape (send, retrieve-req, retrieve-resp, hyp-retrieve)"),
        };

        var description = DescriptorDescriber.Describe(bytes, kind, version, shape);
        output.Write(json ? Json(description, bytes.Length) : Text(description, bytes.Length));
        if (description.IsValid)
        {
            return 0;
        }

        error.WriteLine($"firmament: {path}: {description.Fault}");
        return CliError.ExitCode;
    }

    private static string Text(DescriptorDescription d, int length)
    {
        var sb = new StringBuilder();
        sb.Append(KindName(d.Kind)).Append("  (").Append(length.ToString(CultureInfo.InvariantCulture))
            .Append(" bytes, v").Append(d.Layout.ToString()).Append(" layout");
        if (d.Shape.Length > 0)
        {
            sb.Append(", ").Append(d.Shape);
        }

        sb.Append(")\n");
        foreach (var section in d.Sections)
        {
            sb.Append("  ").Append(section.Name).Append("  @0x").Append(section.Offset.ToString("X", CultureInfo.InvariantCulture)).Append('\n');
            DescriptionWriter.AppendFields(sb, section.Fields, "    ");
        }

        DescriptionWriter.AppendWarnings(sb, d.Warnings);
        if (!d.IsValid)
        {
            sb.Append("  error: ").Append(d.Fault.ToString()).Append('\n');
        }

        return sb.ToString();
    }

    private static string Json(DescriptorDescription d, int length)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("kind", KindName(d.Kind));
            json.WriteString("layout", d.Layout.ToString());
            json.WriteString("shape", d.Shape);
            json.WriteNumber("length", length);
            json.WriteStartArray("sections");
            foreach (var section in d.Sections)
            {
                json.WriteStartObject();
                json.WriteString("name", section.Name);
                json.WriteNumber("offset", section.Offset);
                DescriptionWriter.WriteFieldObjects(json, section.Fields);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            DescriptionWriter.WriteWarnings(json, d.Warnings);
            if (d.IsValid)
            {
                json.WriteNull("error");
            }
            else
            {
                json.WriteString("error", d.Fault.ToString());
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string KindName(DescriptorKind kind) => kind switch
    {
        DescriptorKind.Mtd => "memory transaction descriptor",
        DescriptorKind.PartitionInfo => "partition information descriptors",
        DescriptorKind.Indirect => "indirect message header",
        DescriptorKind.Relinquish => "memory relinquish descriptor",
        _ => "endpoint RX/TX descriptor",
    };
}
