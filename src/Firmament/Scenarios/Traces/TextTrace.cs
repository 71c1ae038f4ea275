using System.Globalization;
using System.Text;
using Firmament.Machine;

namespace Firmament.Scenarios.Traces;

/// <summary>
/// The trace as text, one line per recorded event in recording order:
/// <c>seq  time(µs)  pCPU  vCPU  kind  what</c>, calls and returns decoded (a success read as the answer to its call).
/// Times are each pCPU's own clock, so lines from different pCPUs may step back in time.
/// </summary>
internal static class TextTrace
{
    public static string Write(Platform platform, TraceAnalysis analysis)
    {
        var d = platform.Description;
        var sb = new StringBuilder();
        sb.Append("# Firmament trace: platform '").Append(d.Name).Append("' (").Append(d.Origin).Append("), ")
            .Append(d.Pcpus).Append(" pCPUs, seed ").Append(d.Seed).Append(", ").Append(d.Strategy).Append(" schedule, ")
            .Append(analysis.Events.Count).Append(" events\n");
        sb.Append("#  seq     time µs  pCPU   vCPU              kind    what\n");
        var width = 16;
        foreach (var track in analysis.Tracks)
        {
            width = Math.Max(width, track.Name.Length);
        }

        foreach (var e in analysis.Events)
        {
            var track = analysis.Track(e.Vcpu);
            sb.Append(e.Sequence.ToString(CultureInfo.InvariantCulture).PadLeft(6))
                .Append(FrameText.Microseconds(e.Time).PadLeft(12)).Append("  ")
                .Append((e.Pcpu >= 0 ? "pCPU" + e.Pcpu.ToString(CultureInfo.InvariantCulture) : "-").PadRight(6)).Append(' ')
                .Append(track.Name.PadRight(width)).Append("  ")
                .Append(Kind(e.Kind).PadRight(7)).Append(' ')
                .Append(What(analysis, e, track)).Append('\n');
        }

        return sb.ToString();
    }

    private static string Kind(TraceKind kind) => kind switch
    {
        TraceKind.Call => "call",
        TraceKind.Return => "return",
        TraceKind.Switch => "switch",
        TraceKind.State => "state",
        TraceKind.Interrupt => "irq",
        TraceKind.Fault => "FAULT",
        _ => "log",
    };

    private static string What(TraceAnalysis analysis, in TraceEvent e, VcpuTrack track)
    {
        switch (e.Kind)
        {
            case TraceKind.Call:
                return FrameText.Line(analysis.CallOf.TryGetValue(e.Sequence, out var call) ? call.Description : TraceAnalysis.Describe(track, e.Frame));
            case TraceKind.Return:
                return FrameText.Line(analysis.CallOf.TryGetValue(e.Sequence, out var span) && span.ReturnDescription is { } r ? r : TraceAnalysis.Describe(track, e.Frame));
            case TraceKind.Switch:
                var from = analysis.Track(e.Peer);
                return $"from {from.Name}{(from.Secure != track.Secure ? " (world switch)" : string.Empty)}";
            case TraceKind.State:
                return ((VcpuState)e.Value).ToString();
            case TraceKind.Interrupt:
                return $"INTID {e.Value} pending";
            default:
                return e.Text ?? string.Empty;
        }
    }
}
