using System.CommandLine;
using Firmament.Abi;
using Firmament.Abi.Ffa;

namespace Firmament.Cli.Commands;

/// <summary>
/// <c>firmament run [PLATFORM]</c>. The partition managers are not built yet, so the default demo shows what is:
/// the ABI layer, walking one FF-A conversation frame by frame as the decoder reads it.
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
        var command = new Command("run", "Run a platform and its demo (default: the built-in demo)") { platform };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(platform);
            if (file is not null)
            {
                throw new CliError($"{file}: running platform files is not supported yet: the platform (machine, SPMC, hypervisor) is not built");
            }

            Demo(output);
            return 0;
        });
        return command;
    }

    private static void Demo(TextWriter output)
    {
        output.WriteLine("Firmament — an executable Arm FF-A platform");
        output.WriteLine();
        output.WriteLine("Built so far: the ABI layer (FF-A v1.0/v1.1/v1.2 calls, returns and descriptors; Gunyah hypercalls and RM RPC).");
        output.WriteLine("Not built yet: the machine, the SPMC, the hypervisor, endpoints — so nothing runs; below, one conversation");
        output.WriteLine("between a VM (0x0001) and an SP (0x8001) is shown as the frames it would exchange, each decoded.");
        output.WriteLine();

        foreach (var (who, frame, caller) in Conversation())
        {
            output.WriteLine($"── {who}");
            output.Write(DescriptionWriter.Text(AbiDescriber.Describe(frame, caller, FfaVersion.V1_2, null)));
            output.WriteLine();
        }

        output.WriteLine($"FF-A functions known: {FfaFunctions.All.Count} (0x{FfaFunctions.First:X2}..0x{FfaFunctions.Last:X2}). Try: firmament decode 0x8400007F 0x80010001 0 0x3");
    }

    private static IEnumerable<(string Who, RegisterFrame Frame, CallerKind Caller)> Conversation()
    {
        uint Id(FfaFunction f) => FfaFunctions.Id32(f);
        const ulong vm = 0x0001;
        const ulong sp = 0x8001;
        yield return ("VM asks for v1.2", RegisterFrame.Of(Id(FfaFunction.Version), 0x10002), CallerKind.Vm);
        yield return ("VM asks which interrupt is the NPI", RegisterFrame.Of(Id(FfaFunction.Features), 0x1), CallerKind.Vm);
        yield return ("VM binds notifications 0 and 1 to the SP as sender", RegisterFrame.Of(Id(FfaFunction.NotificationBind), (sp << 16) | vm, 0, 0x3), CallerKind.Vm);
        yield return ("SP sets notification 1 for the VM", RegisterFrame.Of(Id(FfaFunction.NotificationSet), (sp << 16) | vm, 0, 0x2), CallerKind.Sp);
        yield return ("VM gets its SP-sourced notifications", RegisterFrame.Of(Id(FfaFunction.NotificationGet), vm, 0x1), CallerKind.Vm);
        yield return ("VM sends a direct request to the SP", RegisterFrame.Of(FfaFunctions.Id64(FfaFunction.MsgSendDirectReq), (vm << 16) | sp, 0, 0xCAFE), CallerKind.Vm);
        yield return ("a misuse: SP sets a notification for itself", RegisterFrame.Of(Id(FfaFunction.NotificationSet), (sp << 16) | sp, 0x00050000, 0x1), CallerKind.Sp);
        yield return ("the answer to that", RegisterFrame.Of(Id(FfaFunction.Error), 0, unchecked((uint)(int)FfaError.InvalidParameters)), CallerKind.Sp);
    }
}
