using Firmament.Scenarios.Traces;

namespace Firmament.Scenarios;

/// <summary>
/// Exports of a run's trace (<see cref="Platform.Trace"/>, recorded when the recorder was enabled) for people: a
/// Chrome/Perfetto trace-event JSON file, a Mermaid sequence diagram, and plain text. Each is a function of the
/// recorded events and the platform's description only — the same platform and seed give byte-identical output.
/// </summary>
public static class TraceExport
{
    /// <summary>
    /// The Trace Event Format (JSON object with <c>traceEvents</c>) for ui.perfetto.dev and chrome://tracing: a track
    /// per pCPU with the vCPUs that held it and the switches between them; a process per partition with a track per
    /// vCPU holding its calls (call to return, decoded); instants for console lines, faults and interrupts; flows from
    /// a call that handed its pCPU to another vCPU to that vCPU's resumption. Times are virtual, in µs.
    /// </summary>
    public static string ToChromeJson(Platform platform) => ChromeTrace.Write(platform, TraceAnalysis.Of(platform));

    /// <summary>
    /// A Markdown file holding a Mermaid sequence diagram of the run: a participant per partition (grouped by world)
    /// plus the hypervisor and the SPMC; an arrow per call that switches vCPUs or crosses a world, per RX/TX or
    /// messaging call (to the partition manager, with its result); <c>-x</c> arrows for errors; discovery calls
    /// collapsed into notes; faults and interrupts as notes.
    /// </summary>
    public static string ToMermaid(Platform platform) => MermaidDiagram.Write(platform, TraceAnalysis.Of(platform));

    /// <summary>One line per recorded event: sequence, virtual time (µs), pCPU, vCPU, kind, and the decoded call or return.</summary>
    public static string ToText(Platform platform) => TextTrace.Write(platform, TraceAnalysis.Of(platform));
}
