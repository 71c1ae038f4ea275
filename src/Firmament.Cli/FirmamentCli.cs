using System.CommandLine;
using Firmament.Cli.Commands;

namespace Firmament.Cli;

/// <summary>The <c>firmament</c> command tree. Exit codes: 0 done, 1 a check failed, 2 bad input.</summary>
internal static class FirmamentCli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Firmament — an executable Arm FF-A platform: SPMC, hypervisor, endpoints, traces")
        {
            RunCommand.Create(output),
            DecodeCommand.Create(output, error),
            TestCommand.Create(output),
            TraceCommand.Create(output),
            ExploreCommand.Create(output, error),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
            {
                error.WriteLine("firmament: " + e.Message);
            }

            return CliError.ExitCode;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (CliError e)
        {
            error.WriteLine("firmament: " + e.Message);
            return CliError.ExitCode;
        }
        catch (Scenarios.PlatformFileException e)
        {
            error.WriteLine("firmament: " + e.Message);
            return CliError.ExitCode;
        }
    }
}
