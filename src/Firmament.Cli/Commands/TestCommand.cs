using System.CommandLine;
using Firmament.Scenarios;
using Firmament.Scenarios.Scripts;

namespace Firmament.Cli.Commands;

/// <summary>
/// <c>firmament test PATH…</c>: runs scenario files (or every *.yaml under folders), each under the personalities it
/// names, and reports each result; exit 0 only when every scenario passes (1 on a failure, 2 when a file cannot be
/// read or run as written).
/// </summary>
internal static class TestCommand
{
    public static Command Create(TextWriter output)
    {
        var paths = new Argument<string[]>("paths") { Description = "scenario files or folders", Arity = ArgumentArity.OneOrMore };
        var junit = new Option<string?>("--junit") { Description = "also write a JUnit XML report" };
        var json = new Option<bool>("--json") { Description = "print a JSON report instead of text" };
        var filter = new Option<string?>("--filter") { Description = "run only scenarios whose name, file or personality contains this text" };
        var command = new Command("test", "Run scenario files and check every expectation") { paths, junit, json, filter };
        command.SetAction(parse =>
        {
            var results = new List<ScenarioResult>();
            var errors = new List<ScenarioLoadError>();
            var wanted = parse.GetValue(filter);
            foreach (var file in ScenarioReports.Files(parse.GetValue(paths) ?? []))
            {
                Scenario scenario;
                try
                {
                    scenario = ScenarioFile.Load(file);
                }
                catch (PlatformFileException e)
                {
                    errors.Add(new ScenarioLoadError(file, e.Message));
                    continue;
                }

                foreach (var personality in scenario.Personalities)
                {
                    var id = $"{scenario.Name} [{personality.Name}] {file}";
                    if (wanted is null || id.Contains(wanted, StringComparison.OrdinalIgnoreCase))
                    {
                        results.Add(ScenarioRunner.Run(scenario, personality));
                    }
                }
            }

            output.Write(parse.GetValue(json) ? ScenarioReports.Json(results, errors) : ScenarioReports.Text(results, errors));
            if (parse.GetValue(junit) is { } junitPath)
            {
                File.WriteAllText(junitPath, ScenarioReports.JUnit(results, errors));
            }

            var (_, failed, erred) = ScenarioReports.Count(results, errors);
            return erred > 0 ? CliError.ExitCode : failed > 0 ? 1 : 0;
        });
        return command;
    }
}
