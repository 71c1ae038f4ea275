using System.CommandLine;
using Firmament.Cli;

return FirmamentCli.Run(args, Console.Out, Console.Error);
