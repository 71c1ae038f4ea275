using Shouldly;
using Xunit;

namespace Firmament.Tests.Cli;

public class RunCommandTests
{
    [Fact]
    public void Run_WithoutAPlatform_ShowsTheDemoAndSaysWhatIsNotBuilt()
    {
        var (code, output, error) = CliRunner.Run("run");
        code.ShouldBe(0);
        error.ShouldBeEmpty();
        output.ShouldContain("Not built yet");
        output.ShouldContain("FFA_NOTIFICATION_BIND");
        output.ShouldContain("FFA_MSG_SEND_DIRECT_REQ");
    }

    [Fact]
    public void Run_WithAPlatformFile_IsNotSupportedYet_ExitCode2()
    {
        var (code, output, error) = CliRunner.Run("run", "platform.yaml");
        code.ShouldBe(2);
        output.ShouldBeEmpty();
        error.ShouldContain("not supported yet");
    }
}
