using System.Globalization;
using System.Text;

namespace Firmament.Scenarios.Traces;

/// <summary>
/// Which events of a text trace to keep. Each kind of criterion narrows the selection (an event must pass all of them);
/// several values of one criterion widen it (an event may match any of them). An empty criterion keeps everything.
/// </summary>
public sealed record TraceTextFilter
{
    /// <summary>
    /// Partition names (<c>vm1</c>: the events of its vCPUs; <c>sp1 vCPU1</c>: one vCPU's) or endpoint IDs (<c>0x8001</c>,
    /// <c>32769</c>: the calls and returns that name it in a field, and the vCPUs of a partition the trace names by ID).
    /// </summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>ABI names (<c>FFA_MSG_WAIT</c>, <c>msg_wait</c>; a _32/_64 suffix is ignored): calls of it and their returns, and returns that are it (FFA_ERROR).</summary>
    public IReadOnlyList<string> Abis { get; init; } = [];

    public IReadOnlyList<TraceTextKind> Kinds { get; init; } = [];

    /// <summary>Earliest time kept, in ns.</summary>
    public ulong? From { get; init; }

    /// <summary>Latest time kept, in ns.</summary>
    public ulong? To { get; init; }

    /// <summary>Only calls and returns that carry FFA_ERROR (a call whose return is an error too) and faults.</summary>
    public bool Errors { get; init; }

    /// <summary>Whether the filter keeps <paramref name="e"/>.</summary>
    public bool Matches(TraceTextEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return (Endpoints.Count == 0 || Endpoints.Any(name => MatchesEndpoint(e, name)))
            && (Abis.Count == 0 || Abis.Any(abi => MatchesAbi(e, abi)))
            && (Kinds.Count == 0 || Kinds.Contains(e.Kind))
            && (From is not { } from || e.Time >= from)
            && (To is not { } to || e.Time <= to)
            && (!Errors || e.CarriesError || e.Kind == TraceTextKind.Fault);
    }

    /// <summary>An endpoint ID as typed: <c>0x8001</c> or decimal, up to 0xFFFF.</summary>
    public static bool TryParseEndpointId(string text, out ushort id)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        return ushort.TryParse(hex ? text.AsSpan(2) : text.AsSpan(), hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }

    private static bool MatchesEndpoint(TraceTextEvent e, string wanted)
    {
        if (string.Equals(e.Partition, wanted, StringComparison.Ordinal) || string.Equals(e.Vcpu, wanted, StringComparison.Ordinal))
        {
            return true;
        }

        if (!TryParseEndpointId(wanted, out var id))
        {
            return false;
        }

        // Endpoints appear as "0x8001 (SP)": in a call's or return's fields (sender=0x8001 (SP)), or as the name of a vCPU
        // whose partition the trace knows only by ID.
        var token = "0x" + id.ToString("X4", CultureInfo.InvariantCulture) + " (";
        return e.Partition.StartsWith(token, StringComparison.Ordinal)
            || (e.Kind is TraceTextKind.Call or TraceTextKind.Return && e.What.Contains("=" + token, StringComparison.Ordinal));
    }

    private static bool MatchesAbi(TraceTextEvent e, string wanted)
    {
        if (e.Kind is not (TraceTextKind.Call or TraceTextKind.Return))
        {
            return false;
        }

        var abi = TraceTextReader.CanonicalAbi(wanted);
        return string.Equals(e.Abi, abi, StringComparison.OrdinalIgnoreCase) || string.Equals(e.CallAbi, abi, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>A text trace printed for people: the header, the events a filter keeps in aligned columns, and a count.</summary>
public static class TraceTextView
{
    public static string Write(TraceTextFile trace, TraceTextFilter filter)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(filter);
        var kept = trace.Events.Where(filter.Matches).ToList();
        var rows = kept.Select(static e => (
            Seq: e.Sequence.ToString(CultureInfo.InvariantCulture),
            Time: FrameText.Microseconds(e.Time),
            Pcpu: e.Pcpu >= 0 ? "pCPU" + e.Pcpu.ToString(CultureInfo.InvariantCulture) : "-",
            e.Vcpu,
            Kind: TraceTextReader.Name(e.Kind),
            e.What)).ToList();
        var columns = new[] { "seq", "time µs", "pCPU", "vCPU", "kind" };
        var widths = columns.Select(static c => c.Length).ToArray();
        foreach (var row in rows)
        {
            widths[0] = Math.Max(widths[0], row.Seq.Length);
            widths[1] = Math.Max(widths[1], row.Time.Length);
            widths[2] = Math.Max(widths[2], row.Pcpu.Length);
            widths[3] = Math.Max(widths[3], row.Vcpu.Length);
            widths[4] = Math.Max(widths[4], row.Kind.Length);
        }

        var sb = new StringBuilder();
        sb.Append(trace.Header).Append('\n');
        sb.Append("# ").Append(columns[0].PadLeft(widths[0])).Append("  ").Append(columns[1].PadLeft(widths[1])).Append("  ")
            .Append(columns[2].PadRight(widths[2])).Append("  ").Append(columns[3].PadRight(widths[3])).Append("  ")
            .Append(columns[4].PadRight(widths[4])).Append("  what\n");
        foreach (var row in rows)
        {
            var line = new StringBuilder("  ")
                .Append(row.Seq.PadLeft(widths[0])).Append("  ")
                .Append(row.Time.PadLeft(widths[1])).Append("  ")
                .Append(row.Pcpu.PadRight(widths[2])).Append("  ")
                .Append(row.Vcpu.PadRight(widths[3])).Append("  ")
                .Append(row.Kind.PadRight(widths[4])).Append("  ")
                .Append(row.What);
            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }

        sb.Append(kept.Count.ToString(CultureInfo.InvariantCulture)).Append(" of ")
            .Append(trace.Events.Count.ToString(CultureInfo.InvariantCulture)).Append(trace.Events.Count == 1 ? " event\n" : " events\n");
        return sb.ToString();
    }
}
