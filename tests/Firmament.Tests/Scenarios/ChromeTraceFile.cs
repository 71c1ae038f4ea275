using System.Text.Json;

namespace Firmament.Tests.Scenarios;

/// <summary>One event of a Trace Event Format file, times converted back to ns the way Perfetto converts them.</summary>
internal sealed record ChromeEvent(string Ph, string Name, string? Cat, long Ts, long Dur, int Pid, int Tid, JsonElement Json)
{
    public long End => Ts + Dur;

    public string? Arg(string name) =>
        Json.TryGetProperty("args", out var args) && args.TryGetProperty(name, out var value) ? value.ToString() : null;

    public JsonElement Args => Json.GetProperty("args");
}

/// <summary>
/// A Chrome/Perfetto trace-event JSON file read back with System.Text.Json, and checked against the rules of the
/// format as the viewers read it: every event has ph/name/pid (and ts/tid unless metadata), X slices a non-negative
/// dur, instants a scope, flows an id (flow ends bp "e"); M events name processes and threads; every thread used is
/// named; slices on one thread nest and never partly overlap; events come in time order (so a viewer binding a flow
/// to the slice open on its thread finds the right one); every flow start has one flow end with its name and
/// category, later, each bound to a slice on its thread.
/// </summary>
internal sealed class ChromeTraceFile
{
    private readonly Dictionary<ChromeEvent, ChromeEvent> _bindings = [];

    private ChromeTraceFile(JsonDocument document)
    {
        Document = document;
    }

    public JsonDocument Document { get; }

    public List<ChromeEvent> Events { get; } = [];

    public Dictionary<int, string> ProcessNames { get; } = [];

    public Dictionary<(int Pid, int Tid), string> ThreadNames { get; } = [];

    public List<string> Errors { get; } = [];

    public IEnumerable<ChromeEvent> Slices => Events.Where(static e => e.Ph == "X");

    public static ChromeTraceFile Parse(string json)
    {
        var file = new ChromeTraceFile(JsonDocument.Parse(json));
        file.Read();
        file.Check();
        return file;
    }

    /// <summary>The (pid, tid) of the thread with this name.</summary>
    public (int Pid, int Tid) Thread(string name) => ThreadNames.Single(t => t.Value == name).Key;

    public IEnumerable<ChromeEvent> On(string thread)
    {
        var (pid, tid) = Thread(thread);
        return Events.Where(e => e.Ph != "M" && e.Pid == pid && e.Tid == tid);
    }

    /// <summary>
    /// The slice a flow event binds to, read the way Perfetto's JSON importer does: in file order, per thread, a
    /// stack of slices (X, and thread-scoped instants as zero-length slices) where a new slice first pops those that
    /// ended before it (or at its start, unless both are zero-length); a flow event binds to the top of the stack.
    /// </summary>
    public ChromeEvent? BoundSlice(ChromeEvent flow) => _bindings.GetValueOrDefault(flow);

    private void Bind()
    {
        var stacks = new Dictionary<(int, int), List<ChromeEvent>>();
        foreach (var e in Events)
        {
            if (e.Ph == "M" || (e.Ph == "i" && String(e.Json, "s") != "t"))
            {
                continue;
            }

            if (!stacks.TryGetValue((e.Pid, e.Tid), out var stack))
            {
                stacks[(e.Pid, e.Tid)] = stack = [];
            }

            if (e.Ph is "s" or "f")
            {
                if (stack.Count > 0)
                {
                    _bindings[e] = stack[^1];
                }

                continue;
            }

            while (stack.Count > 0 && (stack[^1].End < e.Ts || (stack[^1].End == e.Ts && !(stack[^1].Dur == 0 && e.Dur == 0))))
            {
                stack.RemoveAt(stack.Count - 1);
            }

            stack.Add(e);
        }
    }

    private void Read()
    {
        var root = Document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("traceEvents", out var events) || events.ValueKind != JsonValueKind.Array)
        {
            Errors.Add("the root is not an object with a traceEvents array");
            return;
        }

        var index = 0;
        foreach (var e in events.EnumerateArray())
        {
            var where = $"event {index++}";
            var ph = String(e, "ph");
            var name = String(e, "name");
            if (ph is null || name is null || !e.TryGetProperty("pid", out var pid) || pid.ValueKind != JsonValueKind.Number)
            {
                Errors.Add($"{where}: ph, name and pid are required");
                continue;
            }

            var tid = e.TryGetProperty("tid", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : -1;
            if (ph == "M")
            {
                Metadata(where, e, name, pid.GetInt32(), tid);
                Events.Add(new ChromeEvent(ph, name, null, 0, 0, pid.GetInt32(), tid, e));
                continue;
            }

            var ts = Time(where, e, "ts");
            var dur = ph == "X" ? Time(where, e, "dur") : 0;
            if (tid < 0)
            {
                Errors.Add($"{where}: tid is required");
            }

            switch (ph)
            {
                case "X":
                    break;
                case "i":
                    if (String(e, "s") is not ("t" or "p" or "g"))
                    {
                        Errors.Add($"{where}: an instant needs a scope s of t, p or g");
                    }

                    break;
                case "s":
                case "f":
                    if (!e.TryGetProperty("id", out _))
                    {
                        Errors.Add($"{where}: a flow event needs an id");
                    }

                    if (ph == "f" && String(e, "bp") != "e")
                    {
                        Errors.Add($"{where}: flow ends here bind to the enclosing slice (bp e)");
                    }

                    break;
                default:
                    Errors.Add($"{where}: unexpected phase {ph}");
                    break;
            }

            Events.Add(new ChromeEvent(ph, name, String(e, "cat"), ts, dur, pid.GetInt32(), tid, e));
        }
    }

    private void Metadata(string where, JsonElement e, string name, int pid, int tid)
    {
        if (!e.TryGetProperty("args", out var args))
        {
            Errors.Add($"{where}: metadata without args");
            return;
        }

        switch (name)
        {
            case "process_name" when String(args, "name") is { } process:
                ProcessNames[pid] = process;
                break;
            case "thread_name" when String(args, "name") is { } thread && tid >= 0:
                if (!ThreadNames.TryAdd((pid, tid), thread))
                {
                    Errors.Add($"{where}: thread {pid}/{tid} named twice");
                }

                break;
            case "process_sort_index" or "thread_sort_index" when args.TryGetProperty("sort_index", out var i) && i.ValueKind == JsonValueKind.Number:
                break;
            default:
                Errors.Add($"{where}: malformed metadata {name}");
                break;
        }
    }

    private void Check()
    {
        Bind();
        long last = 0;
        foreach (var e in Events.Where(static e => e.Ph != "M"))
        {
            if (e.Ts < last)
            {
                Errors.Add($"{e.Name} at {e.Ts} ns comes after an event at {last} ns");
            }

            last = Math.Max(last, e.Ts);
            if (!ThreadNames.ContainsKey((e.Pid, e.Tid)))
            {
                Errors.Add($"{e.Name}: thread {e.Pid}/{e.Tid} has no thread_name");
            }

            if (!ProcessNames.ContainsKey(e.Pid))
            {
                Errors.Add($"{e.Name}: process {e.Pid} has no process_name");
            }
        }

        foreach (var thread in Slices.GroupBy(static s => (s.Pid, s.Tid)))
        {
            var open = new Stack<ChromeEvent>();
            foreach (var slice in thread.OrderBy(static s => s.Ts).ThenByDescending(static s => s.Dur))
            {
                while (open.Count > 0 && open.Peek().End <= slice.Ts)
                {
                    open.Pop();
                }

                if (open.Count > 0 && slice.End > open.Peek().End)
                {
                    Errors.Add($"{ThreadNames.GetValueOrDefault(thread.Key)}: {slice.Name} [{slice.Ts}, {slice.End}] partly overlaps {open.Peek().Name} [{open.Peek().Ts}, {open.Peek().End}]");
                }

                open.Push(slice);
            }
        }

        foreach (var flow in Events.Where(static e => e.Ph is "s" or "f").GroupBy(static e => e.Json.GetProperty("id").ToString(), StringComparer.Ordinal))
        {
            var starts = flow.Where(static e => e.Ph == "s").ToList();
            var ends = flow.Where(static e => e.Ph == "f").ToList();
            if (starts.Count != 1 || ends.Count != 1)
            {
                Errors.Add($"flow {flow.Key}: {starts.Count} starts and {ends.Count} ends");
                continue;
            }

            var (s, f) = (starts[0], ends[0]);
            if (s.Name != f.Name || s.Cat != f.Cat || f.Ts < s.Ts)
            {
                Errors.Add($"flow {flow.Key}: start and end differ in name or category, or the end comes first");
            }

            if (BoundSlice(s) is null || BoundSlice(f) is null)
            {
                Errors.Add($"flow {flow.Key}: an end is not inside a slice on its thread");
            }
        }
    }

    /// <summary>A time in ns as Perfetto reads it (<c>(int64)(µs * 1000.0)</c>), which must be the ns the number means.</summary>
    private long Time(string where, JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number)
        {
            Errors.Add($"{where}: {name} must be a number");
            return 0;
        }

        var exact = value.GetDecimal() * 1000;
        var ns = decimal.Round(exact);
        var perfetto = (long)(value.GetDouble() * 1000.0);
        if (ns < 0 || Math.Abs(exact - ns) >= 0.001m || perfetto != ns)
        {
            Errors.Add($"{where}: {name} {value} is negative, finer than a nanosecond, or read by Perfetto as {perfetto} ns");
        }

        return (long)ns;
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
