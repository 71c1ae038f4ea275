using System.CommandLine;
using System.Globalization;
using Firmament.Scenarios.Traces;

namespace Firmament.Cli.Commands;

/// <summary>
/// <c>firmament trace FILE</c>: reads a text trace (<c>firmament run --trace-text</c>) and prints its header and the
/// events the filters keep, in aligned columns, then how many of how many. A file that is missing or not a text trace
/// is exit code 2 with the file, the line and the reason.
/// </summary>
internal static class TraceCommand
{
    public static Command Create(TextWriter output)
    {
        var file = new Argument<string>("file") { Description = "a text trace written by firmament run --trace-text" };
        var endpoint = new Option<string[]>("--endpoint")
        {
            Description = "keep the events of this partition's vCPUs (vm1, or one vCPU: \"sp1 vCPU1\"), or of calls and returns naming this endpoint ID (0x8001); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var abi = new Option<string[]>("--abi") { Description = "keep calls of this ABI and their returns, and returns that are it (FFA_MSG_WAIT, msg_wait, FFA_ERROR); repeatable" };
        var kind = new Option<string[]>("--kind") { Description = $"keep events of this kind ({string.Join("|", TraceTextReader.Kinds)}); repeatable" };
        var from = new Option<string?>("--from") { Description = "keep events at or after this virtual time, in µs (12.5)" };
        var to = new Option<string?>("--to") { Description = "keep events at or before this virtual time, in µs" };
        var errors = new Option<bool>("--errors") { Description = "keep only calls and returns carrying FFA_ERROR, and faults" };
        var command = new Command("trace", "Print a saved text trace, filtered") { file, endpoint, abi, kind, from, to, errors };
        command.SetAction(parse =>
        {
            var kinds = new List<TraceTextKind>();
            foreach (var name in parse.GetValue(kind) ?? [])
            {
                kinds.Add(TraceTextReader.TryParseKind(name, out var k)
                    ? k
                    : throw new CliError($"--kind '{name}' is not one of {string.Join(", ", TraceTextReader.Kinds)}"));
            }

            var filter = new TraceTextFilter
            {
                Endpoints = parse.GetValue(endpoint) ?? [],
                Abis = parse.GetValue(abi) ?? [],
                Kinds = kinds,
                From = Microseconds(parse.GetValue(from), "--from"),
                To = Microseconds(parse.GetValue(to), "--to"),
                Errors = parse.GetValue(errors),
            };
            if (filter.From > filter.To)
            {
                throw new CliError($"--from {parse.GetValue(from)} is after --to {parse.GetValue(to)}");
            }

            var path = parse.GetValue(file)!;
            if (!TraceTextReader.TryRead(path, out var trace, out var error))
            {
                throw new CliError(error!.ToString());
            }

            output.Write(TraceTextView.Write(trace, filter));
            return 0;
        });
        return command;
    }

    /// <summary>A time in µs as typed (<c>12</c>, <c>12.5</c>, <c>12.345</c>), in ns.</summary>
    private static ulong? Microseconds(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }

        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var us) || us > ulong.MaxValue / 1000m)
        {
            throw new CliError($"{option} '{text}' is not a time in µs (12, 12.5)");
        }

        return (ulong)decimal.Round(us * 1000m, MidpointRounding.AwayFromZero);
    }
}
