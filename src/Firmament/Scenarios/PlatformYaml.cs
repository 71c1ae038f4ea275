using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Firmament.Scenarios;

/// <summary>A YAML node with the line it starts on: a scalar, a mapping (keys in order) or a sequence.</summary>
internal abstract class YamlItem(int line)
{
    public int Line { get; } = line;

    public abstract string Kind { get; }
}

internal sealed class YamlText(int line, string value, bool plain) : YamlItem(line)
{
    public string Value { get; } = value;

    /// <summary>Unquoted: numbers and booleans are read only from plain scalars.</summary>
    public bool Plain { get; } = plain;

    /// <summary>A plain empty, <c>~</c> or <c>null</c> scalar: no value.</summary>
    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Kind => IsNull ? "nothing" : Plain ? $"'{Shorten(Value)}'" : $"the string \"{Shorten(Value)}\"";

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "…" : text;
}

internal sealed class YamlMap(int line) : YamlItem(line)
{
    public List<(YamlText Key, YamlItem Value)> Entries { get; } = [];

    public override string Kind => "a mapping";
}

internal sealed class YamlList(int line) : YamlItem(line)
{
    public List<YamlItem> Items { get; } = [];

    public override string Kind => "a list";
}

/// <summary>
/// Reads one YAML document into <see cref="YamlItem"/>s with line numbers, from YamlDotNet's event parser and without
/// recursion (so no input can exhaust the stack), and gives typed readings that fail with a
/// <see cref="PlatformFileException"/> at the offending line. Rejected: more than one document, nesting deeper than
/// <see cref="MaxDepth"/>, duplicate keys, keys that are not scalars, unknown aliases. Aliases share the anchored
/// node (nothing is expanded).
/// </summary>
internal sealed class PlatformYaml(string file)
{
    public const int MaxDepth = 16;

    public string File { get; } = file;

    public YamlItem Read(string text)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, YamlItem>(StringComparer.Ordinal);
        var stack = new List<YamlItem>();
        var pendingKeys = new Dictionary<YamlMap, YamlText>();
        YamlItem? root = null;
        var documents = 0;
        var lastLine = 1;
        while (Next(parser, lastLine))
        {
            var current = parser.Current!;
            var line = LineOf(current.Start);
            lastLine = line;
            switch (current)
            {
                case DocumentStart:
                    if (++documents > 1)
                    {
                        throw Fail(line, "a platform file is one YAML document (found a second '---')");
                    }

                    break;
                case Scalar scalar:
                {
                    var item = new YamlText(line, scalar.Value, scalar.Style == ScalarStyle.Plain);
                    Remember(anchors, scalar, item);
                    Add(item);
                    break;
                }

                case SequenceStart sequence:
                {
                    var item = new YamlList(line);
                    Remember(anchors, sequence, item);
                    Add(item);
                    Push(item);
                    break;
                }

                case MappingStart mapping:
                {
                    var item = new YamlMap(line);
                    Remember(anchors, mapping, item);
                    Add(item);
                    Push(item);
                    break;
                }

                case SequenceEnd or MappingEnd:
                    stack.RemoveAt(stack.Count - 1);
                    break;
                case AnchorAlias alias:
                    Add(anchors.TryGetValue(alias.Value.Value, out var target)
                        ? target
                        : throw Fail(line, $"alias *{alias.Value.Value} names no anchor defined before it"));
                    break;
            }
        }

        return root ?? throw Fail(1, "the file is empty (a platform file is a YAML mapping: name, roles, pcpus, partitions, …)");

        void Push(YamlItem item)
        {
            if (stack.Count >= MaxDepth)
            {
                throw Fail(item.Line, $"nesting deeper than {MaxDepth} levels");
            }

            stack.Add(item);
        }

        void Add(YamlItem item)
        {
            if (stack.Count == 0)
            {
                root = item;
                return;
            }

            switch (stack[^1])
            {
                case YamlList list:
                    list.Items.Add(item);
                    break;
                case YamlMap map when pendingKeys.Remove(map, out var key):
                    map.Entries.Add((key, item));
                    break;
                case YamlMap map:
                    if (item is not YamlText text)
                    {
                        throw Fail(item.Line, "a mapping key must be a plain word, not " + item.Kind);
                    }

                    if (map.Entries.Exists(e => string.Equals(e.Key.Value, text.Value, StringComparison.Ordinal)))
                    {
                        throw Fail(item.Line, $"'{text.Value}' is given twice");
                    }

                    pendingKeys[map] = text;
                    break;
            }
        }
    }

    public PlatformFileException Fail(int line, string reason) => new(File, line, reason);

    /// <summary>
    /// The parser's next event. YamlDotNet reports bad YAML with a YamlException, but on some inputs its scanner
    /// throws other exceptions (an unclosed flow sequence: InvalidOperationException); all of them mean the text is
    /// not valid YAML.
    /// </summary>
    private bool Next(Parser parser, int lastLine)
    {
        try
        {
            return parser.MoveNext();
        }
        catch (YamlException e)
        {
            throw Fail(LineOf(e.Start), "not valid YAML: " + Message(e));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            throw Fail(lastLine, "not valid YAML (the YAML parser stopped after this line: " + e.Message + ")");
        }
    }

    public PlatformFileException Fail(YamlItem item, string reason) => new(File, item.Line, reason);

    /// <summary>The entries of a mapping, each key checked against <paramref name="known"/>.</summary>
    public YamlMap Map(YamlItem item, string what, IReadOnlyCollection<string> known)
    {
        if (item is not YamlMap map)
        {
            throw Fail(item, $"{what} must be a mapping (key: value lines), not {item.Kind}");
        }

        foreach (var (key, _) in map.Entries)
        {
            if (!known.Contains(key.Value, StringComparer.Ordinal))
            {
                throw Fail(key, $"unknown key '{key.Value}' in {what} (known: {string.Join(", ", known)})");
            }
        }

        return map;
    }

    public List<YamlItem> List(YamlItem item, string key)
    {
        if (item is not YamlList list)
        {
            throw Fail(item, $"{key} must be a list, not {item.Kind}");
        }

        return list.Items;
    }

    public string Text(YamlItem item, string key)
    {
        if (item is not YamlText text || text.IsNull)
        {
            throw Fail(item, $"{key} must be a word or string, not {item.Kind}");
        }

        return text.Value;
    }

    /// <summary>A non-negative integer from a plain scalar: decimal or 0x hex, with optional '_' separators.</summary>
    public ulong Integer(YamlItem item, string key, ulong min, ulong max)
    {
        if (item is not YamlText { Plain: true, IsNull: false } text || !TryParseInteger(text.Value, out var value))
        {
            throw Fail(item, $"{key} must be a number (decimal or 0x hex), not {item.Kind}");
        }

        if (value < min || value > max)
        {
            throw Fail(item, $"{key} {text.Value} is out of range ({Format(min)}..{Format(max)})");
        }

        return value;
    }

    public bool Boolean(YamlItem item, string key) => item is YamlText { Plain: true } text
        ? text.Value switch
        {
            "true" or "True" or "TRUE" => true,
            "false" or "False" or "FALSE" => false,
            _ => throw Fail(item, $"{key} must be true or false, not {item.Kind}"),
        }
        : throw Fail(item, $"{key} must be true or false, not {item.Kind}");

    public static bool TryParseInteger(string text, out ulong value)
    {
        value = 0;
        var digits = text.Replace("_", string.Empty, StringComparison.Ordinal);
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return digits.Length > 2 && ulong.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        return ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string Format(ulong value) => value > 0xFFFF ? $"0x{value:x}" : value.ToString(CultureInfo.InvariantCulture);

    private static void Remember(Dictionary<string, YamlItem> anchors, NodeEvent node, YamlItem item)
    {
        if (!node.Anchor.IsEmpty)
        {
            anchors[node.Anchor.Value] = item;
        }
    }

    private static int LineOf(Mark mark) => (int)Math.Clamp(mark.Line, 1, int.MaxValue);

    /// <summary>YamlDotNet's message without its own "(Line: …)" prefix, which the exception's line replaces.</summary>
    private static string Message(YamlException e)
    {
        var message = e.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && close > 0 ? message[(close + 3)..] : message;
    }
}
