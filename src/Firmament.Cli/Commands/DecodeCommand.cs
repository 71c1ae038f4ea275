using System.CommandLine;
using Firmament.Abi;
using Firmament.Abi.Ffa;

namespace Firmament.Cli.Commands;

/// <summary>
/// <c>firmament decode x0 x1 …</c>: a register frame in words; <c>firmament decode --descriptor FILE</c>: a
/// descriptor's bytes in words. FF-A calls by default, Gunyah hypercalls when x0 is a vendor-hypervisor ID or
/// <c>--hvc</c> gives a native immediate.
/// </summary>
internal static class DecodeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var registers = new Argument<string[]>("registers")
        {
            Description = "x0 x1 … x17 in hex (0x…), binary (0b…) or decimal; missing registers are zero",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var caller = new Option<string>("--caller")
        {
            Description = "who made the call: vm, sp or hypervisor (changes how some fields read)",
            DefaultValueFactory = _ => "vm",
        };
        caller.AcceptOnlyFromAmong("vm", "sp", "hypervisor");
        var version = new Option<string>("--version")
        {
            Description = "the FF-A version the caller negotiated (1.0, 1.1, 1.2)",
            DefaultValueFactory = _ => "1.2",
        };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of text" };
        var hvc = new Option<string?>("--hvc")
        {
            Description = "decode as a native Gunyah hypercall with this HVC immediate (e.g. 0x601B); x0.. are its arguments",
        };
        var replyTo = new Option<string?>("--reply-to")
        {
            Description = "read an FFA_SUCCESS frame as the answer to this call (e.g. FFA_NOTIFICATION_INFO_GET)",
        };
        var descriptor = new Option<string?>("--descriptor")
        {
            Description = "decode the binary descriptor in this file ('-' for standard input) instead of registers",
        };
        var kind = new Option<string>("--kind")
        {
            Description = "descriptor kind: mtd, partinfo, indirect, relinquish, rxtx",
            DefaultValueFactory = _ => "mtd",
        };
        var shape = new Option<string?>("--shape")
        {
            Description = "what a memory transaction descriptor is for: send, retrieve-req, retrieve-resp, hyp-retrieve (default: inferred)",
        };

        var command = new Command("decode", "Decode an FF-A or Gunyah register frame, or an FF-A descriptor, into words")
        {
            registers, caller, version, json, hvc, replyTo, descriptor, kind, shape,
        };
        command.SetAction(parse =>
        {
            var ffaVersion = ParseVersion(parse.GetValue(version)!);
            var asJson = parse.GetValue(json);
            var descriptorPath = parse.GetValue(descriptor);
            if (descriptorPath is not null)
            {
                var tokens = parse.GetValue(registers) ?? [];
                if (tokens.Length > 0)
                {
                    throw new CliError("give either registers or --descriptor, not both");
                }

                return DescriptorOutput.Write(output, error, descriptorPath, ReadAll(descriptorPath), parse.GetValue(kind)!, parse.GetValue(shape), ffaVersion, asJson);
            }

            var frame = RegisterArguments.Parse(parse.GetValue(registers) ?? []);
            var hvcText = parse.GetValue(hvc);
            ushort? immediate = hvcText is null ? null : ParseImmediate(hvcText);
            var replyToText = parse.GetValue(replyTo);
            FfaFunction? answered = replyToText is null ? null : ParseFunction(replyToText);
            var description = AbiDescriber.Describe(frame, ParseCaller(parse.GetValue(caller)!), ffaVersion, immediate, answered);
            output.Write(asJson ? DescriptionWriter.Json(description) : DescriptionWriter.Text(description));
            return 0;
        });
        return command;
    }

    private static FfaVersion ParseVersion(string text) =>
        FfaVersion.TryParse(text, out var v) && v.Major == 1 && v.Minor <= FfaVersion.Latest.Minor
            ? v
            : throw new CliError($"--version: '{text}' is not a supported FF-A version (1.0, 1.1 or 1.2)");

    private static CallerKind ParseCaller(string text) => text switch
    {
        "sp" => CallerKind.Sp,
        "hypervisor" => CallerKind.Hypervisor,
        _ => CallerKind.Vm,
    };

    private static FfaFunction ParseFunction(string text) =>
        FfaFunctions.TryParseName(text, out var info, out _)
            ? info.Function
            : throw new CliError($"--reply-to: '{text}' is not an FF-A function name (e.g. FFA_PARTITION_INFO_GET)");

    private static ushort ParseImmediate(string text)
    {
        var value = RegisterArguments.ParseValue(text, "--hvc");
        return value <= ushort.MaxValue ? (ushort)value : throw new CliError($"--hvc: '{text}' does not fit a 16-bit HVC immediate");
    }

    private static byte[] ReadAll(string path)
    {
        try
        {
            if (path == "-")
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                stdin.CopyTo(buffer);
                return buffer.ToArray();
            }

            return File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new CliError($"{path}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliError($"{path}: {e.Message}");
        }
    }
}
