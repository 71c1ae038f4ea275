using System.Globalization;
using System.Text;
using System.Text.Json;
using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Scenarios.Traces;

/// <summary>
/// The Trace Event Format (JSON object form) that ui.perfetto.dev and chrome://tracing load.
/// <list type="bullet">
/// <item>Process 1, <c>pCPUs</c>: a thread per pCPU with an X slice for each stretch a vCPU held it (named after the
/// vCPU) and for each switch between two vCPUs (<c>world switch</c> when the worlds differ).</item>
/// <item>A process per partition (and <c>hypervisor</c> for its own vCPU): a thread per vCPU with an X slice per call,
/// from the call to its return, named by ABI, the decoded call and return in args (<c>error</c> names an FFA_ERROR);
/// thread instants for console lines and faults; process instants for interrupts.</item>
/// <item>Flows (<c>s</c> → <c>f</c>, one ID each) from a call that handed its pCPU to another vCPU to the return of the
/// call that vCPU was parked in: request → receiver, response → sender, RUN → runnee, MSG_WAIT/YIELD → runner.</item>
/// </list>
/// Timestamps are virtual: <c>ts</c> and <c>dur</c> in µs with ns decimals (chosen so Perfetto reads them back exactly). Events are written in time order, and at
/// equal times flow ends first, then instants, then slices (shortest first), then flow starts — so a viewer that binds
/// a flow to the slice open on its thread at its time (Perfetto, catapult) binds it to the call.
/// </summary>
internal static class ChromeTrace
{
    private const int PcpuPid = 1;

    public static string Write(Platform platform, TraceAnalysis analysis)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("displayTimeUnit", "ns");
            json.WriteStartObject("otherData");
            var d = platform.Description;
            json.WriteString("generator", "firmament");
            json.WriteString("platform", d.Name);
            json.WriteString("origin", d.Origin);
            json.WriteNumber("seed", d.Seed);
            json.WriteNumber("pcpus", d.Pcpus);
            json.WriteString("schedule", d.Strategy.ToString());
            json.WriteString("clock", "virtual time; ts and dur in microseconds");
            json.WriteNumber("events", analysis.Events.Count);
            json.WriteEndObject();
            json.WriteStartArray("traceEvents");
            WriteMetadata(json, analysis);
            foreach (var entry in Entries(analysis).OrderBy(static e => e.Time).ThenBy(static e => e.Order).ThenBy(static e => e.Tiebreak).ThenBy(static e => e.Index))
            {
                entry.Write(json);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Tid of a pCPU's thread.</summary>
    public static int PcpuTid(int pcpu) => pcpu + 1;

    private static void WriteMetadata(Utf8JsonWriter json, TraceAnalysis analysis)
    {
        foreach (var process in analysis.Processes)
        {
            Metadata(json, "process_name", process.Pid, null, "name", process.Name);
            Metadata(json, "process_sort_index", process.Pid, null, "sort_index", process.SortIndex);
        }

        for (var p = 0; p < analysis.PcpuCount; p++)
        {
            Metadata(json, "thread_name", PcpuPid, PcpuTid(p), "name", "pCPU" + p.ToString(CultureInfo.InvariantCulture));
            Metadata(json, "thread_sort_index", PcpuPid, PcpuTid(p), "sort_index", p);
        }

        foreach (var track in analysis.Tracks)
        {
            Metadata(json, "thread_name", track.Pid, track.Tid, "name", track.Name);
            Metadata(json, "thread_sort_index", track.Pid, track.Tid, "sort_index", track.Id.Index);
        }
    }

    private static void Metadata(Utf8JsonWriter json, string name, int pid, int? tid, string key, string value)
    {
        BeginMetadata(json, name, pid, tid);
        json.WriteString(key, value);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Metadata(Utf8JsonWriter json, string name, int pid, int? tid, string key, int value)
    {
        BeginMetadata(json, name, pid, tid);
        json.WriteNumber(key, value);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void BeginMetadata(Utf8JsonWriter json, string name, int pid, int? tid)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("ph", "M");
        json.WriteNumber("pid", pid);
        if (tid is { } t)
        {
            json.WriteNumber("tid", t);
        }

        json.WriteStartObject("args");
    }

    private static List<Entry> Entries(TraceAnalysis analysis)
    {
        var entries = new List<Entry>();
        foreach (var slice in analysis.PcpuSlices)
        {
            entries.Add(new Entry(slice.Start, Order.Slice, slice.End, entries.Count, json => PcpuSliceEvent(json, slice)));
        }

        foreach (var call in analysis.Calls)
        {
            entries.Add(new Entry(call.Start, Order.Slice, call.End, entries.Count, json => CallEvent(json, call)));
        }

        foreach (var handoff in analysis.Handoffs)
        {
            if (handoff.FlowId == 0 || handoff.Resumed?.Return is not { } arrival)
            {
                continue;
            }

            var from = handoff.From;
            var name = from.Description.Abi;
            entries.Add(new Entry(from.Call.Time, Order.FlowStart, 0, entries.Count, json => Flow(json, "s", name, handoff.FlowId, from.Call.Time, from.Vcpu)));
            entries.Add(new Entry(arrival.Time, Order.FlowEnd, 0, entries.Count, json => Flow(json, "f", name, handoff.FlowId, arrival.Time, handoff.To)));
        }

        foreach (var e in analysis.Events)
        {
            if (e.Kind is TraceKind.Log or TraceKind.Fault or TraceKind.Interrupt)
            {
                var track = analysis.Track(e.Vcpu);
                entries.Add(new Entry(e.Time, Order.Instant, 0, entries.Count, json => Instant(json, e, track)));
            }
        }

        return entries;
    }

    private static void PcpuSliceEvent(Utf8JsonWriter json, PcpuSlice slice)
    {
        var world = slice.From is { } from && from.Secure != slice.Vcpu.Secure;
        Begin(json, slice.IsSwitch ? (world ? "world switch" : "switch") : slice.Vcpu.Name, slice.IsSwitch ? "switch" : "vcpu", "X", slice.Start, PcpuPid, PcpuTid(slice.Pcpu));
        Microseconds(json, "dur", slice.End - slice.Start);
        json.WriteStartObject("args");
        if (slice.From is { } source)
        {
            json.WriteString("from", source.Name);
            json.WriteString("to", slice.Vcpu.Name);
        }
        else
        {
            json.WriteString("vcpu", slice.Vcpu.Name);
            json.WriteString("world", slice.Vcpu.Secure ? "secure" : "normal");
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void CallEvent(Utf8JsonWriter json, CallSpan call)
    {
        Begin(json, call.Description.Abi, "call", "X", call.Start, call.Vcpu.Pid, call.Vcpu.Tid);
        Microseconds(json, "dur", call.End - call.Start);
        if (call.IsError)
        {
            json.WriteString("cname", "terrible");
        }

        json.WriteStartObject("args");
        json.WriteNumber("seq", call.Call.Sequence);
        json.WriteNumber("pcpu", call.Call.Pcpu);
        if (call.Error is { } error)
        {
            json.WriteString("error", error);
        }

        Frame(json, "call", call.Description, call.Call.Frame);
        if (call.Return is { } ret && call.ReturnDescription is { } answer)
        {
            Frame(json, "return", answer, ret.Frame);
            if (ret.Pcpu != call.Call.Pcpu)
            {
                json.WriteNumber("return_pcpu", ret.Pcpu);
            }
        }
        else
        {
            json.WriteString("no_return", call.Unreturned);
        }

        if (call.Handoff is { } handoff)
        {
            json.WriteString("switched_to", handoff.To.Name);
        }

        if (call.ResumedBy is { } resumedBy)
        {
            json.WriteString("resumed_by", $"{resumedBy.From.Vcpu.Name} {resumedBy.From.Description.Abi}");
        }

        if (call.Backwards > 0)
        {
            json.WriteNumber("return_before_call_ns", call.Backwards);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Frame(Utf8JsonWriter json, string name, CallDescription description, in RegisterFrame frame)
    {
        json.WriteStartObject(name);
        json.WriteString("abi", description.Abi);
        foreach (var field in description.Fields)
        {
            json.WriteString(field.Name, FrameText.Value(field));
        }

        if (description.Warnings.Count > 0)
        {
            json.WriteStartArray("warnings");
            foreach (var warning in description.Warnings)
            {
                json.WriteStringValue(warning);
            }

            json.WriteEndArray();
        }

        json.WriteString("registers", Registers(frame));
        json.WriteEndObject();
    }

    /// <summary><c>x0..xN</c> in hex up to the last non-zero register (at least x0..x7).</summary>
    private static string Registers(in RegisterFrame frame)
    {
        var registers = frame.AsReadOnlySpan();
        var last = registers.Length - 1;
        while (last > 7 && registers[last] == 0)
        {
            last--;
        }

        var sb = new StringBuilder();
        for (var i = 0; i <= last; i++)
        {
            sb.Append(i == 0 ? string.Empty : " ").Append(FrameText.Hex(registers[i]));
        }

        return sb.ToString();
    }

    private static void Flow(Utf8JsonWriter json, string phase, string name, int id, ulong time, VcpuTrack track)
    {
        Begin(json, name, "flow", phase, time, track.Pid, track.Tid);
        json.WriteNumber("id", id);
        if (phase == "f")
        {
            json.WriteString("bp", "e");
        }

        json.WriteEndObject();
    }

    private static void Instant(Utf8JsonWriter json, TraceEvent e, VcpuTrack track)
    {
        var (name, category) = e.Kind switch
        {
            TraceKind.Fault => ("FAULT", "fault"),
            TraceKind.Interrupt => ("interrupt " + e.Value.ToString(CultureInfo.InvariantCulture), "interrupt"),
            _ => (e.Text ?? string.Empty, "console"),
        };
        Begin(json, name, category, "i", e.Time, track.Pid, track.Tid);

        // Interrupts arrive while the vCPU is parked in a call: a process instant leaves that call's slice alone.
        json.WriteString("s", e.Kind == TraceKind.Interrupt ? "p" : "t");
        json.WriteStartObject("args");
        json.WriteString("vcpu", track.Name);
        json.WriteNumber("seq", e.Sequence);
        switch (e.Kind)
        {
            case TraceKind.Fault:
                json.WriteString("report", e.Text);
                break;
            case TraceKind.Interrupt:
                json.WriteNumber("intid", e.Value);
                break;
            default:
                json.WriteString("text", e.Text);
                break;
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Begin(Utf8JsonWriter json, string name, string category, string phase, ulong time, int pid, int tid)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("cat", category);
        json.WriteString("ph", phase);
        Microseconds(json, "ts", time);
        json.WriteNumber("pid", pid);
        json.WriteNumber("tid", tid);
    }

    /// <summary>A virtual-ns time as a JSON number of µs (see <see cref="ToMicroseconds"/>).</summary>
    private static void Microseconds(Utf8JsonWriter json, string name, ulong ns) => json.WriteNumber(name, ToMicroseconds(ns));

    /// <summary>
    /// Virtual ns as the µs number to write: ns / 1000, unless that double times 1000 truncates to one ns less — which is
    /// how Perfetto reads a JSON number (<c>(int64)(ts * 1000.0)</c>), and happens for about one value in 170 (1.001 µs
    /// reads as 1000 ns) — then the next double up. Perfetto then reads every time exactly, so slices that meet
    /// end to start never overlap by a nanosecond (it would drop one). Written in the shortest round-trip form:
    /// <c>2.95</c>, or <c>1.0010000000000001</c> for the rare bumped value.
    /// </summary>
    internal static double ToMicroseconds(ulong ns)
    {
        var us = ns / 1000.0;
        while ((ulong)(us * 1000.0) < ns)
        {
            us = Math.BitIncrement(us);
        }

        return us;
    }

    private enum Order
    {
        FlowEnd = 0,
        Instant = 1,
        Slice = 2,
        FlowStart = 3,
    }

    /// <summary>One event to write, with its place in time order.</summary>
    private sealed record Entry(ulong Time, Order Order, ulong Tiebreak, int Index, Action<Utf8JsonWriter> Write);
}
