using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Emulation;

/// <summary>FFA_CONSOLE_LOG as both managers serve it: characters collect into lines per endpoint.</summary>
public class ConsoleLogTests
{
    [Fact]
    public void ConsoleLog_CollectsCharactersIntoLines_InBothConventions()
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                answers.Add(await c.Call(Rig.Id32(FfaFunction.ConsoleLog), 3, 0x6968_00 | 'h', 0));
                answers.Add(await c.Call(Rig.Id32(FfaFunction.ConsoleLog), 2, 0x0A21));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.ConsoleLog), 9, 0x6F6C_6C65_6820_6F6E, 0x0A));
            }),
            Rig.Sp("sp1", 0x8001, async c =>
            {
                await c.Call(Rig.Id64(FfaFunction.ConsoleLog), 4, 0x0A70_7321);
                await c.Call(Rig.Id32(FfaFunction.MsgWait));
            }));

        answers.ShouldAllBe(a => a.W(0) == Rig.Id32(FfaFunction.Success));
        platform.Console.Where(static l => l.Partition == "vm1").Select(static l => l.Text).ShouldBe(["hhi!", "no hello"]);
        platform.Console.Where(static l => l.Partition == "sp1").Select(static l => l.Text).ShouldBe(["!sp"]);
    }

    [Fact]
    public void ConsoleLog_WithTooManyCharacters_IsInvalidParameters_AndLogsNothing()
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(Rig.Vm("vm1", 1, async c =>
        {
            answers.Add(await c.Call(Rig.Id32(FfaFunction.ConsoleLog), 25, 0x41));
            answers.Add(await c.Call(Rig.Id32(FfaFunction.ConsoleLog), 1, 0x4141));
            answers.Add(await c.Call(Rig.Id32(FfaFunction.ConsoleLog), 1, 0x0A));
        }));

        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.InvalidParameters);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.InvalidParameters);
        Rig.ErrorOf(answers[2]).ShouldBeNull();
        platform.Console.Select(static l => l.Text).ShouldBe([string.Empty]);
    }
}
