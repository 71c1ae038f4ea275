using Shouldly;
using Xunit;

namespace Firmament.Tests.Cli;

public class RunCommandTests
{
    [Fact]
    public void Run_WithoutAPlatform_RunsTheDefaultDemoToTheEnd()
    {
        var (code, output, error) = CliRunner.Run("run");
        code.ShouldBe(0);
        error.ShouldBeEmpty();
        output.ShouldContain("DIRECT_REQ to 0x8001: SUCCESS [0x1, 0x2, 0x3, 0x4, 0x5]");
        output.ShouldContain("misuse, a direct request to myself: INVALID_PARAMETERS");
        output.ShouldContain("asked 0x8002 to fault: ABORTED; asking again: ABORTED");
        output.ShouldContain("aborted: sp2:");
    }

    [Fact]
    public void Run_WithAMissingPlatformFile_ExitCode2()
    {
        var (code, output, error) = CliRunner.Run("run", "/nonexistent/platform.yaml");
        code.ShouldBe(2);
        output.ShouldBeEmpty();
        error.ShouldContain("/nonexistent/platform.yaml");
    }
}
