using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;

namespace Firmament.Scenarios.Scripts;

/// <summary>A scenario file that could not be read: where, and why.</summary>
public sealed record ScenarioLoadError(string File, string Message);

/// <summary>Reports of a scenario run: text for people, JUnit XML and JSON for tools. Deterministic (no times of day).</summary>
public static class ScenarioReports
{
    public static string Text(IReadOnlyList<ScenarioResult> results, IReadOnlyList<ScenarioLoadError> errors)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(errors);
        var sb = new StringBuilder();
        foreach (var error in errors)
        {
            sb.Append("ERROR ").Append(error.Message).Append('\n');
        }

        foreach (var result in results)
        {
            sb.Append(result.Outcome switch
            {
                ScenarioOutcome.Passed => "PASS  ",
                ScenarioOutcome.Failed => "FAIL  ",
                _ => "ERROR ",
            }).Append(result.Id).Append('\n');
            if (result.Outcome != ScenarioOutcome.Passed)
            {
                sb.Append("      ").Append(result.Scenario.File).Append(':').Append(result.Line.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(result.Message).Append('\n');
                foreach (var line in result.Context.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    sb.Append("      ").Append(line).Append('\n');
                }
            }
        }

        var (passed, failed, erred) = Count(results, errors);
        sb.Append(passed.ToString(CultureInfo.InvariantCulture)).Append(" passed, ")
            .Append(failed.ToString(CultureInfo.InvariantCulture)).Append(" failed, ")
            .Append(erred.ToString(CultureInfo.InvariantCulture)).Append(" errors\n");
        return sb.ToString();
    }

    public static string JUnit(IReadOnlyList<ScenarioResult> results, IReadOnlyList<ScenarioLoadError> errors)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(errors);
        var (passed, failed, erred) = Count(results, errors);
        using var stream = new MemoryStream();
        using (var xml = XmlWriter.Create(stream, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) }))
        {
            xml.WriteStartElement("testsuites");
            xml.WriteStartElement("testsuite");
            xml.WriteAttributeString("name", "firmament");
            xml.WriteAttributeString("tests", (passed + failed + erred).ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("failures", failed.ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("errors", erred.ToString(CultureInfo.InvariantCulture));
            foreach (var error in errors)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", error.File);
                xml.WriteAttributeString("name", Path.GetFileNameWithoutExtension(error.File));
                xml.WriteStartElement("error");
                xml.WriteAttributeString("message", error.Message);
                xml.WriteEndElement();
                xml.WriteEndElement();
            }

            foreach (var result in results)
            {
                xml.WriteStartElement("testcase");
                xml.WriteAttributeString("classname", result.Scenario.File);
                xml.WriteAttributeString("name", result.Id);
                if (result.Outcome != ScenarioOutcome.Passed)
                {
                    xml.WriteStartElement(result.Outcome == ScenarioOutcome.Failed ? "failure" : "error");
                    xml.WriteAttributeString("message", $"{result.Scenario.File}:{result.Line}: {result.Message}");
                    xml.WriteString(result.Context);
                    xml.WriteEndElement();
                }

                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static string Json(IReadOnlyList<ScenarioResult> results, IReadOnlyList<ScenarioLoadError> errors)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(errors);
        var (passed, failed, erred) = Count(results, errors);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("passed", passed);
            json.WriteNumber("failed", failed);
            json.WriteNumber("errors", erred);
            json.WriteStartArray("results");
            foreach (var error in errors)
            {
                json.WriteStartObject();
                json.WriteString("file", error.File);
                json.WriteString("outcome", "error");
                json.WriteString("message", error.Message);
                json.WriteEndObject();
            }

            foreach (var result in results)
            {
                json.WriteStartObject();
                json.WriteString("scenario", result.Scenario.Name);
                json.WriteString("personality", result.Personality.Name);
                json.WriteString("file", result.Scenario.File);
                json.WriteString("outcome", result.Outcome.ToString().ToLowerInvariant());
                if (result.Outcome != ScenarioOutcome.Passed)
                {
                    json.WriteNumber("line", result.Line);
                    json.WriteString("message", result.Message);
                    json.WriteString("context", result.Context);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static (int Passed, int Failed, int Errors) Count(IReadOnlyList<ScenarioResult> results, IReadOnlyList<ScenarioLoadError> errors)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(errors);
        return (
            results.Count(static r => r.Outcome == ScenarioOutcome.Passed),
            results.Count(static r => r.Outcome == ScenarioOutcome.Failed),
            results.Count(static r => r.Outcome == ScenarioOutcome.Error) + errors.Count);
    }

    /// <summary>The scenario files under the given paths: files as given, folders searched for *.yaml (not in their platforms/ subfolders), sorted.</summary>
    public static IReadOnlyList<string> Files(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                // A folder's platforms/ subfolders hold the platform files its scenarios name, not scenarios.
                files.AddRange(Directory.EnumerateFiles(path, "*.yaml", SearchOption.AllDirectories)
                    .Where(f => !InPlatformsFolder(Path.GetRelativePath(path, f)))
                    .Order(StringComparer.Ordinal));
            }
            else
            {
                files.Add(path);
            }
        }

        return files;
    }

    private static bool InPlatformsFolder(string relative) =>
        relative.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).SkipLast(1).Contains("platforms", StringComparer.Ordinal);
}
