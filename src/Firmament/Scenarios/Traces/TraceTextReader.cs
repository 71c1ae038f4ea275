using System.Globalization;
using Firmament.Abi.Ffa;

namespace Firmament.Scenarios.Traces;

/// <summary>What a text-trace line records (the <c>kind</c> column).</summary>
public enum TraceTextKind
{
    Call,
    Return,
    Switch,
    State,
    Irq,
    Log,
    Fault,
}

/// <summary>One event line of a text trace, as read back.</summary>
public sealed class TraceTextEvent
{
    /// <summary>Where it is in the file (1-based).</summary>
    public required int Line { get; init; }

    public required long Sequence { get; init; }

    /// <summary>Virtual time in ns (the file has µs with three decimals).</summary>
    public required ulong Time { get; init; }

    /// <summary>The pCPU, or −1 for <c>-</c>.</summary>
    public required int Pcpu { get; init; }

    /// <summary>The vCPU column: <c>vm1 vCPU0</c>, <c>hypervisor vCPU0</c>.</summary>
    public required string Vcpu { get; init; }

    public required TraceTextKind Kind { get; init; }

    /// <summary>The rest of the line: the decoded call or return, the state, the log text.</summary>
    public required string What { get; init; }

    /// <summary>The partition the vCPU belongs to: the vCPU column without its trailing <c>vCPU</c>N.</summary>
    public string Partition
    {
        get
        {
            var at = Vcpu.LastIndexOf(" vCPU", StringComparison.Ordinal);
            var index = at > 0 ? Vcpu.AsSpan(at + 5) : default;
            return !index.IsEmpty && index.IndexOfAnyExceptInRange('0', '9') < 0 ? Vcpu[..at] : Vcpu;
        }
    }

    /// <summary>The ABI named first on a call or return line (<c>FFA_MSG_SEND_DIRECT_REQ</c>, <c>FFA_ERROR</c>); null for other kinds.</summary>
    public string? Abi => Kind is TraceTextKind.Call or TraceTextKind.Return && What.Length > 0 ? What.Split(' ', 2)[0] : null;

    /// <summary>For a call, its ABI; for a return, the ABI of the call it answers (the vCPU's last open call), if the trace has it.</summary>
    public string? CallAbi { get; internal set; }

    /// <summary>A call or return that carries FFA_ERROR, or a call whose return does.</summary>
    public bool CarriesError { get; internal set; }
}

/// <summary>A text trace read back: its header line and its events.</summary>
public sealed class TraceTextFile
{
    /// <summary>The first line, as written (<c># Firmament trace: platform …</c>).</summary>
    public required string Header { get; init; }

    /// <summary>How many events the header says the trace has, when it says.</summary>
    public int? DeclaredEvents { get; init; }

    public required IReadOnlyList<TraceTextEvent> Events { get; init; }
}

/// <summary>Why a text trace could not be read: the file, the 1-based line (0: the file as a whole) and the reason.</summary>
public sealed record TraceTextError(string File, int Line, string Reason)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Reason}" : $"{File}: {Reason}";
}

/// <summary>
/// Reads the text trace <see cref="TraceExport.ToText"/> writes: a header line
/// (<c># Firmament trace: … N events</c>), comment lines starting with <c>#</c>, then one line per event —
/// <c>seq  time(µs)  pCPU  vCPU  kind  what</c>, the vCPU name padded to a width that depends on the platform. Blank lines
/// and Windows line ends are accepted. Anything else is an error with its line: a non-numeric sequence number or one that
/// does not increase, a time that is not µs with three decimals, a bad pCPU, an unknown kind, fewer or more events than
/// the header promises (a truncated file). Returns are paired with the last open call of their vCPU.
/// </summary>
public static class TraceTextReader
{
    /// <summary>The header's first words.</summary>
    public const string HeaderStart = "# Firmament trace:";

    private static readonly string[] KindNames = ["call", "return", "switch", "state", "irq", "log", "FAULT"];

    /// <summary>The kind names as the file spells them.</summary>
    public static IReadOnlyList<string> Kinds => KindNames;

    /// <summary>The kind a name stands for (case-insensitive: <c>fault</c> is FAULT).</summary>
    public static bool TryParseKind(string name, out TraceTextKind kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (var i = 0; i < KindNames.Length; i++)
        {
            if (string.Equals(KindNames[i], name, StringComparison.OrdinalIgnoreCase))
            {
                kind = (TraceTextKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>The name the file uses for a kind.</summary>
    public static string Name(TraceTextKind kind) => KindNames[(int)kind];

    /// <summary>Reads a trace file; a missing or unreadable file is an error too.</summary>
    public static bool TryRead(string path, out TraceTextFile trace, out TraceTextError? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            trace = null!;
            error = new TraceTextError(path, 0, e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : $"cannot read it: {e.Message}");
            return false;
        }

        return TryParse(text, path, out trace, out error);
    }

    /// <summary>Reads a trace from its text; <paramref name="file"/> names it in errors.</summary>
    public static bool TryParse(string text, string file, out TraceTextFile trace, out TraceTextError? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        trace = null!;
        var lines = text.Split('\n');
        var last = lines.Length;
        while (last > 0 && lines[last - 1].TrimEnd('\r').Length == 0)
        {
            last--;
        }

        if (last == 0)
        {
            error = new TraceTextError(file, 1, "empty file: not a Firmament text trace");
            return false;
        }

        var header = lines[0].TrimEnd('\r');
        if (!header.StartsWith(HeaderStart, StringComparison.Ordinal))
        {
            error = new TraceTextError(file, 1, $"not a Firmament text trace: the first line should start with '{HeaderStart}' (write one with firmament run --trace-text)");
            return false;
        }

        var events = new List<TraceTextEvent>();
        long previous = -1;
        for (var i = 1; i < last; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || line.AsSpan().TrimStart().StartsWith("#"))
            {
                continue;
            }

            if (!TryParseEvent(line, i + 1, out var e, out var reason))
            {
                error = new TraceTextError(file, i + 1, reason);
                return false;
            }

            if (e.Sequence <= previous)
            {
                error = new TraceTextError(file, i + 1, $"event {e.Sequence} comes after event {previous}: the sequence numbers must increase");
                return false;
            }

            previous = e.Sequence;
            events.Add(e);
        }

        var declared = DeclaredCount(header);
        if (declared is { } count && count != events.Count)
        {
            error = new TraceTextError(file, last, $"the header promises {count} events but the file has {events.Count}{(events.Count < count ? " (cut short?)" : string.Empty)}");
            return false;
        }

        Pair(events);
        trace = new TraceTextFile { Header = header, DeclaredEvents = declared, Events = events };
        error = null;
        return true;
    }

    /// <summary>One event line: <c>seq time pCPU vCPU… kind what…</c>.</summary>
    private static bool TryParseEvent(string line, int number, out TraceTextEvent e, out string reason)
    {
        e = null!;
        var at = 0;
        var seqText = Token(line, ref at);
        if (!long.TryParse(seqText, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            reason = $"expected an event's sequence number, found '{Shorten(seqText)}'";
            return false;
        }

        var timeText = Token(line, ref at);
        if (!TryParseMicroseconds(timeText, out var time))
        {
            reason = timeText.Length == 0
                ? $"event {sequence} has no time"
                : $"event {sequence}: expected a time in µs with three decimals (12.345), found '{Shorten(timeText)}'";
            return false;
        }

        var pcpuText = Token(line, ref at);
        var pcpu = -1;
        if (pcpuText != "-" && !(pcpuText.StartsWith("pCPU", StringComparison.Ordinal)
                                 && int.TryParse(pcpuText.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out pcpu)))
        {
            reason = pcpuText.Length == 0
                ? $"event {sequence} has no pCPU"
                : $"event {sequence}: expected a pCPU (pCPU0, pCPU1, … or -), found '{Shorten(pcpuText)}'";
            return false;
        }

        // The vCPU name may hold single spaces ("vm1 vCPU0"); it is padded, then two spaces, then the kind.
        while (at < line.Length && line[at] == ' ')
        {
            at++;
        }

        var rest = line[at..];
        for (var gap = rest.IndexOf("  ", StringComparison.Ordinal); gap > 0; gap = rest.IndexOf("  ", gap + 1, StringComparison.Ordinal))
        {
            var start = gap;
            while (start < rest.Length && rest[start] == ' ')
            {
                start++;
            }

            var end = start;
            while (end < rest.Length && rest[end] != ' ')
            {
                end++;
            }

            if (!TryParseKind(rest[start..end], out var kind) || rest[start..end] != KindNames[(int)kind])
            {
                continue;
            }

            // The kind column is 7 wide plus one space; the text starts after it (a log line may itself start with spaces).
            var what = end;
            while (what < rest.Length && what < start + 8 && rest[what] == ' ')
            {
                what++;
            }

            e = new TraceTextEvent
            {
                Line = number,
                Sequence = sequence,
                Time = time,
                Pcpu = pcpu,
                Vcpu = rest[..gap].TrimEnd(),
                Kind = kind,
                What = rest[what..],
            };
            reason = string.Empty;
            return true;
        }

        reason = rest.Length == 0
            ? $"event {sequence} has no vCPU and kind"
            : $"event {sequence}: expected a vCPU name, two spaces and a kind ({string.Join(", ", KindNames)}) in '{Shorten(rest)}'";
        return false;
    }

    /// <summary>The next space-separated token from <paramref name="at"/> (empty at the end of the line).</summary>
    private static string Token(string line, ref int at)
    {
        while (at < line.Length && line[at] == ' ')
        {
            at++;
        }

        var start = at;
        while (at < line.Length && line[at] != ' ')
        {
            at++;
        }

        return line[start..at];
    }

    /// <summary><c>12.345</c> µs as 12345 ns (whole µs, a dot, exactly three digits).</summary>
    public static bool TryParseMicroseconds(string text, out ulong nanoseconds)
    {
        ArgumentNullException.ThrowIfNull(text);
        nanoseconds = 0;
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0
            || text.Length - dot - 1 != 3
            || !ulong.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var whole)
            || !ulong.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var fraction)
            || whole > (ulong.MaxValue - 999) / 1000)
        {
            return false;
        }

        nanoseconds = (whole * 1000) + fraction;
        return true;
    }

    /// <summary>The count in the header's last words (<c>…, 235 events</c>), if it has one.</summary>
    private static int? DeclaredCount(string header)
    {
        const string Suffix = " events";
        if (!header.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return null;
        }

        var body = header[..^Suffix.Length];
        var start = body.LastIndexOf(' ') + 1;
        return int.TryParse(body.AsSpan(start), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : null;
    }

    /// <summary>Pairs each return with its vCPU's open call: the return learns the call's ABI, the call learns whether it failed.</summary>
    private static void Pair(List<TraceTextEvent> events)
    {
        var open = new Dictionary<string, TraceTextEvent>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            var isError = e.Abi == "FFA_ERROR";
            switch (e.Kind)
            {
                case TraceTextKind.Call:
                    e.CallAbi = e.Abi;
                    e.CarriesError = isError;
                    open[e.Vcpu] = e;
                    break;
                case TraceTextKind.Return:
                    e.CarriesError = isError;
                    if (open.Remove(e.Vcpu, out var call))
                    {
                        e.CallAbi = call.Abi;
                        call.CarriesError |= isError;
                    }

                    break;
                default:
                    break;
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    /// <summary>
    /// An ABI name as the trace spells it, for matching: an FF-A name with its <c>FFA_</c> prefix and without a _32/_64
    /// suffix (the text trace does not record the convention); any other name in upper case.
    /// </summary>
    public static string CanonicalAbi(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return FfaFunctions.TryParseName(name, out var info, out _) ? info.Name : name.Trim().ToUpperInvariant();
    }
}
