using Firmament.Scenarios;
using Firmament.Tests.Cli;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>The example platform files load, build, boot and run to the end.</summary>
public class ExampleRunTests
{
    [Fact]
    public void DefaultExample_RunsLikeTheBuiltInDefault()
    {
        var fromFile = Run("default.yaml");
        var builtIn = Platform.Build(DefaultPlatform.Create());
        builtIn.Boot();
        builtIn.Run();
        fromFile.Console.Select(static l => (l.Time, l.Partition, l.Text)).ShouldBe(builtIn.Console.Select(static l => (l.Time, l.Partition, l.Text)));
    }

    [Fact]
    public void KernelExample_TheKernelTalksToTheSpmcDirectly()
    {
        var platform = Run("kernel-and-spmc.yaml");
        var lines = platform.Console.Select(static l => l.Text).ToList();
        Has(lines, "FF-A v1.2, I am 0x0000 (hypervisor); 2 devices:");
        Has(lines, "DIRECT_REQ to 0x8001: SUCCESS [0x1, 0x2, 0x3, 0x4, 0x5]");
        Has(lines, "asked 0x8002 to fault: ABORTED; asking again: ABORTED");
        Has(lines, "demo client done");
        platform.Partitions.Where(static p => p.IsAborted).Select(static p => p.Name).ShouldBe(["faulty"]);
    }

    [Fact]
    public void CactusExample_EverySpAnswersDirectRequests()
    {
        TestFiles.RequireTools();
        var platform = Run("cactus.yaml");
        var lines = platform.Console.Select(static l => l.Text).ToList();
        Has(lines, "FF-A v1.2, I am 0x0001 (VM); 5 devices:");
        foreach (var id in new[] { "0x8001", "0x8002", "0x8003", "0x8004" })
        {
            Has(lines, $"DIRECT_REQ to {id}: SUCCESS [0x1, 0x2, 0x3, 0x4, 0x5]");
        }

        // cactus's manifest offers messaging-method 7: no direct request 2, so the SPMC refuses one.
        lines.ShouldContain(static l => l.StartsWith("DIRECT_REQ2 to 0x8001 service b4b5671e-4a90-4fe1-b81f-fb13dae1dacb: DENIED", StringComparison.Ordinal));
        Has(lines, "demo client done");
        platform.Partitions.ShouldAllBe(static p => !p.IsAborted);
    }

    [Fact]
    public void Cli_RunsACactusPlatformFile_AndPrintsTheLoadersNotes()
    {
        TestFiles.RequireTools();
        var (code, output, error) = CliRunner.Run("run", TestFiles.Example("cactus.yaml"));
        error.ShouldBeEmpty();
        code.ShouldBe(0);
        output.ShouldContain("platform 'cactus'");
        output.ShouldContain("note: ");
        output.ShouldContain("asks for FF-A 1.3; Firmament implements 1.2 and serves it at 1.2");
        output.ShouldContain("DIRECT_REQ to 0x8004: SUCCESS");
    }

    [Fact]
    public void Cli_KeepsThePlatformFilesSeed_UnlessSeedIsGiven()
    {
        using var directory = new TempDirectory();
        var text = File.ReadAllText(TestFiles.Example("default.yaml")).Replace("seed: 0", "seed: 42", StringComparison.Ordinal);
        var path = directory.Write("seeded.yaml", text);
        CliRunner.Run("run", path).Output.ShouldContain("2 pCPUs, seed 42");
        CliRunner.Run("run", path, "--seed", "7").Output.ShouldContain("2 pCPUs, seed 7");
    }

    [Fact]
    public void Cli_GivenAManifest_ExplainsThatAPlatformFileListsIt()
    {
        var (code, output, error) = CliRunner.Run("run", TestFiles.Manifest("tf-a-tests/cactus.dts"));
        code.ShouldBe(2);
        output.ShouldBeEmpty();
        error.ShouldContain("cactus.dts: a partition manifest is not a platform: list it in a platform file");
    }

    [Fact]
    public void Cli_GivenABadPlatformFile_PrintsFileLineAndReason()
    {
        using var directory = new TempDirectory();
        var path = directory.Write("bad.yaml", "pcpus: 2\npartitions:\n  - { name: vm1, kind: vm, program: nope }\n");
        var (code, _, error) = CliRunner.Run("run", path);
        code.ShouldBe(2);
        error.ShouldStartWith($"firmament: {path}:3: unknown program 'nope' (known: demo-client, echo, faulty, gunyah-guest, gunyah-host, idle, mem-borrower, mem-lender, notify-receiver, notify-sender, server)");
    }

    private static void Has(List<string> lines, string line) => lines.ShouldContain(l => string.Equals(l, line, StringComparison.Ordinal));

    private static Platform Run(string example)
    {
        var platform = Platform.Build(PlatformLoader.Load(TestFiles.Example(example)));
        platform.Boot();
        platform.Run();
        return platform;
    }
}
