using System.CommandLine;
using System.Globalization;
using Firmament.Abi.Ffa;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Cli.Commands;

/// <summary>
/// <c>firmament run [PLATFORM]</c>: boots a platform (the built-in default without a file), runs it until nothing is
/// left to run, prints what the endpoints logged, and ends with a summary.
/// </summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output)
    {
        var platform = new Argument<string?>("platform")
        {
            Description = "a platform file (YAML); without one, the built-in default demo runs",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var seed = new Option<ulong?>("--seed") { Description = "the seed for every scheduling choice (same seed, same run); default: the platform file's" };
        var trace = new Option<string?>("--trace") { Description = "write a Chrome/Perfetto trace-event JSON file" };
        var mermaid = new Option<string?>("--mermaid") { Description = "write a Mermaid sequence diagram (Markdown)" };
        var text = new Option<string?>("--trace-text") { Description = "write the trace as text, one line per event (read it with firmament trace)" };
        var personality = new Option<string?>("--personality")
        {
            Description = $"answer as this implementation ({string.Join(", ", Personality.All.Select(static p => p.Name))}); default: the platform file's",
        };
        var command = new Command("run", "Boot a platform and run it (default: the built-in demo)") { platform, seed, trace, mermaid, text, personality };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(platform);
            var description = file is null ? EmulatedDemo.AddTo(DefaultPlatform.Create()) : PlatformLoader.Load(file);
            if (parse.GetValue(seed) is { } chosen)
            {
                description = description with { Seed = chosen };
            }

            if (parse.GetValue(personality) is { } name)
            {
                description = description with
                {
                    Personality = Personality.TryGet(name, out var chosenPersonality)
                        ? chosenPersonality
                        : throw new CliError($"unknown personality '{name}' (known: {string.Join(", ", Personality.All.Select(static p => p.Name))})"),
                };
            }

            var recorder = new TraceRecorder { Enabled = true };
            var running = Platform.Build(description, recorder);
            running.Boot();
            running.Run();
            Report(output, running);
            if (parse.GetValue(trace) is { } tracePath)
            {
                File.WriteAllText(tracePath, TraceExport.ToChromeJson(running));
                output.WriteLine($"trace: {tracePath} (open in ui.perfetto.dev or chrome://tracing)");
            }

            if (parse.GetValue(mermaid) is { } mermaidPath)
            {
                File.WriteAllText(mermaidPath, TraceExport.ToMermaid(running));
                output.WriteLine($"sequence diagram: {mermaidPath}");
            }

            if (parse.GetValue(text) is { } textPath)
            {
                File.WriteAllText(textPath, TraceExport.ToText(running));
                output.WriteLine($"text trace: {textPath} (read it with firmament trace)");
            }

            return 0;
        });
        return command;
    }

    private static void Report(TextWriter output, Platform platform)
    {
        var d = platform.Description;
        output.WriteLine($"Firmament — platform '{d.Name}' ({d.Origin}): {Roles(d.Roles)}, {d.Pcpus} pCPUs, seed {d.Seed}{(d.Personality == Personality.Default ? string.Empty : $", personality {d.Personality.Name}")}");
        var width = platform.Partitions.Max(static p => p.Name.Length);
        foreach (var partition in platform.Partitions)
        {
            var c = partition.Config;
            output.WriteLine($"  {c.Name.PadRight(width)}  {FfaDescriber.FormatEndpoint(c.Id),-12}  {c.Kind,-6} {c.VcpuCount} vCPU  {c.ProgramName}");
        }

        foreach (var note in d.Notes)
        {
            output.WriteLine($"  note: {note}");
        }

        output.WriteLine();
        foreach (var line in platform.Console)
        {
            output.WriteLine($"{Us(line.Time),12}  {line.Partition.PadRight(width)}  {line.Text}");
        }

        output.WriteLine();
        Summary(output, platform);
    }

    private static void Summary(TextWriter output, Platform platform)
    {
        var managers = new List<PartitionManager>();
        if (platform.Hypervisor is { } hypervisor)
        {
            managers.Add(hypervisor);
        }

        if (platform.Spmc is { } spmc)
        {
            managers.Add(spmc);
        }

        output.WriteLine("calls by ABI" + string.Concat(managers.Select(m => $"  {m.RoleName,10}")));
        for (var i = 0; i < FfaFunctions.All.Count; i++)
        {
            var counts = managers.Select(m => m.CallsByFunction[i]).ToList();
            if (counts.Any(static c => c > 0))
            {
                output.WriteLine($"  {FfaFunctions.All[i].Name,-34}" + string.Concat(counts.Select(static c => $"  {c,10}")));
            }
        }

        output.WriteLine("errors returned" + string.Concat(managers.Select(m => $"  {m.RoleName,10}")));
        for (var code = 1; code <= 10; code++)
        {
            var counts = managers.Select(m => m.ErrorsByCode[code]).ToList();
            if (counts.Any(static c => c > 0))
            {
                output.WriteLine($"  {FfaErrors.Name(-code),-31}" + string.Concat(counts.Select(static c => $"  {c,10}")));
            }
        }

        var scheduler = platform.Scheduler;
        output.WriteLine($"pCPU switches {scheduler.Switches}, resumes {scheduler.Steps}, virtual time {Us(scheduler.Now)}");
        foreach (var partition in platform.Partitions.Where(static p => p.IsAborted))
        {
            output.WriteLine($"aborted: {partition.Name}: {partition.AbortReason}");
        }
    }

    private static string Roles(PlatformRoles roles) => roles switch
    {
        PlatformRoles.HypervisorAndSpmc => "hypervisor + SPMC",
        PlatformRoles.KernelAndSpmc => "OS kernel + SPMC (no hypervisor)",
        _ => "hypervisor only",
    };

    private static string Us(ulong ns) => (ns / 1000.0).ToString("0.000", CultureInfo.InvariantCulture) + " µs";
}
