using Shouldly;
using Xunit;

namespace Firmament.Tests.Cli;

public class DecodeErrorTests
{
    [Theory]
    [InlineData("not a number", "decode", "0x8400007F", "banana")]
    [InlineData("too many registers", "decode", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18")]
    [InlineData("no registers given", "decode")]
    [InlineData("not a supported FF-A version", "decode", "--version", "2.0", "0x84000063")]
    [InlineData("does not fit a 16-bit HVC immediate", "decode", "--hvc", "0x10000", "0")]
    [InlineData("x0: '0x1FFFFFFFFFFFFFFFF' is not a number", "decode", "0x1FFFFFFFFFFFFFFFF")]
    public void Decode_BadInput_ExitsWith2AndOneLineReason(string reason, params string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);
        code.ShouldBe(2);
        output.ShouldBeEmpty();
        error.ShouldContain(reason);
        error.TrimEnd('\n').ShouldNotContain('\n');
    }

    [Fact]
    public void Decode_MissingDescriptorFile_ExitsWith2()
    {
        var (code, _, error) = CliRunner.Run("decode", "--descriptor", "/nonexistent/share.bin");
        code.ShouldBe(2);
        error.ShouldContain("/nonexistent/share.bin");
    }

    [Fact]
    public void UnknownOption_ExitsWith2()
    {
        var (code, _, error) = CliRunner.Run("decode", "--frobnicate", "0");
        code.ShouldBe(2);
        error.ShouldStartWith("firmament: ");
    }
}
