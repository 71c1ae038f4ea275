namespace Firmament.Cli;

/// <summary>Bad input from the user: printed as one line, exit code 2.</summary>
internal sealed class CliError(string message) : Exception(message)
{
    public const int ExitCode = 2;
}
