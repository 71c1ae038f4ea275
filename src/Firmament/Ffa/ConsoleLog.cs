using System.Text;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Machine;

namespace Firmament.Ffa;

// Console: FFA_CONSOLE_LOG (v1.2, SMC32 up to 24 characters in w2..w7, SMC64 up to 128 in x2..x17).
// - Each manager serves it for its own endpoints (as Hafnium's SPMC does for SPs): characters collect per endpoint
//   and every completed line goes to ConsoleSink. Text after the last newline waits for the next call.
// - A count above the convention's limit, or set bits past the count, is INVALID_PARAMETERS (nothing collected).
// - Limit: no console buffer is forwarded between worlds; lines are not capped at a length.
public abstract partial class PartitionManager
{
    private readonly Dictionary<EndpointId, StringBuilder> _consoleLines = [];

    /// <summary>Where complete console lines go: the vCPU that logged, and the line without its newline.</summary>
    public Action<Vcpu, string>? ConsoleSink { get; set; }

    private void RegisterConsole() => Register(FfaFunction.ConsoleLog, HandleConsoleLog);

    private CallOutcome HandleConsoleLog(in FfaCaller caller, ref RegisterFrame frame)
    {
        if (!Abi.Ffa.Calls.ConsoleLog.TryDecode(frame, out var call, out _))
        {
            return Fail(ref frame, FfaError.InvalidParameters);
        }

        if (!_consoleLines.TryGetValue(caller.Id, out var line))
        {
            _consoleLines[caller.Id] = line = new StringBuilder();
        }

        foreach (var c in Encoding.UTF8.GetString(call.Text.AsSpan()))
        {
            if (c == '\n')
            {
                ConsoleSink?.Invoke(caller.Vcpu, line.ToString());
                line.Clear();
            }
            else if (c != '\r')
            {
                line.Append(c);
            }
        }

        return Succeed(ref frame);
    }
}
