using System.Runtime.CompilerServices;
using Firmament.Scenarios;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Emulation;

public class DemoTests
{
    /// <summary>
    /// The demo's golden files (run and trace output) describe the managed demo, on every machine: the CLI tests run
    /// it without the emulated VM, which exists only where the emulator loads. This test covers that VM.
    /// </summary>
    [ModuleInitializer]
#pragma warning disable CA2255 // A test assembly's own setting: the goldens must not depend on the machine.
    internal static void ManagedDemoForGoldens() => Environment.SetEnvironmentVariable(EmulatedDemo.OptOutVariable, "off");
#pragma warning restore CA2255

    [Fact]
    public void TheDemo_WithTheEmulator_RunsAnEmulatedVm_ThatPingsTheEchoSp()
    {
        Guests.Image("ping-vm");
        var demo = EmulatedDemo.With(DefaultPlatform.Create());

        demo.Partitions[^1].Name.ShouldBe("vm4");
        demo.Partitions[^1].Image.ShouldNotBeNull();
        demo.Notes.ShouldContain(n => n.StartsWith("vm4 is AArch64 machine code under emulation", StringComparison.Ordinal));
        var platform = Rig.Run(demo);
        platform.Console.ShouldContain(l => l.Partition == "vm4" && l.Text == "ping: 3 of 3 echoed by 0x8001");
        platform["vm4"].IsAborted.ShouldBeFalse();
    }

    [Fact]
    public void TheDemo_ForGoldens_IsTheManagedOneExactly()
    {
        var demo = EmulatedDemo.AddTo(DefaultPlatform.Create());

        demo.Partitions.Select(static p => p.Name).ShouldBe(["vm1", "vm2", "sp1", "sp2", "host"]);
        demo.Notes.ShouldBeEmpty();
    }
}
