using Firmament.Abi.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Emulation;

/// <summary>The platform file's <c>image:</c>: what it describes, and each refusal with the file and line.</summary>
public class ImagePlatformFileTests
{
    private static string Text(string image) => $"""
        name: emulated
        pcpus: 1
        partitions:
          - name: vm1
            kind: vm
            direct-request-send: true
            program: demo-client
          - name: echo
            kind: sp
            id: 0x8001
            direct-request-receive: true
            image: {image}
        """;

    private static string File(string name) => Path.Combine(Guests.Root, name);

    [Fact]
    public void AnImage_DefaultsToLoadingAtTheFirstRegion_AndEntersAtItsLoadAddress()
    {
        Guests.Image("echo-sp");
        var d = PlatformFile.Parse(Text("{ file: guests/build/echo-sp.bin, args: [1, 0x2] }"), File("p.yaml"));

        var image = d.Partitions[1].Image.ShouldNotBeNull();
        image.File.ShouldBe(Path.Combine(Guests.Root, "guests/build/echo-sp.bin"));
        image.LoadAddress.ShouldBe(Platform.DefaultSpRam);
        image.EntryPoint.ShouldBe(Platform.DefaultSpRam);
        image.Arguments.ShouldBe([1UL, 2UL]);
        d.Partitions[1].ProgramName.ShouldBe("echo-sp");
    }

    [Fact]
    public void APlatformFromAFile_RunsItsEmulatedSp()
    {
        Guests.Image("echo-sp");
        var platform = Rig.Run(PlatformFile.Parse(Text("{ file: guests/build/echo-sp.bin, load: 0x10000000, entry: 0x10000000 }"), File("p.yaml")));

        platform.Console.ShouldContain(l => l.Partition == "vm1" && l.Text.Contains("DIRECT_REQ to 0x8001: SUCCESS [0x1, 0x2, 0x3, 0x4, 0x5]", StringComparison.Ordinal));
        platform["echo"].Vcpus[0].State.ShouldBe(VcpuState.Waiting);
    }

    [Theory]
    [InlineData("{ load: 0x10000000 }", 12, "an image needs a file")]
    [InlineData("{ file: guests/build/nothing.bin }", 12, "does not exist (the sample guests are built with: make -C guests)")]
    [InlineData("{ file: guests/build/echo-sp.bin, load: 0x10000800 }", 12, "load 0x10000800 is not 4 KiB aligned")]
    [InlineData("{ file: guests/build/echo-sp.bin, entry: 0x10000002 }", 12, "entry 0x10000002 is not 4-byte aligned")]
    [InlineData("{ file: guests/build/echo-sp.bin, load: 0x20000000 }", 12, "does not lie inside one of the partition's memory regions")]
    [InlineData("{ file: guests/build/echo-sp.bin, entry: 0x10080000 }", 12, "does not lie inside one of the partition's memory regions")]
    [InlineData("{ file: guests/build/echo-sp.bin, args: [1, 2, 3, 4, 5, 6, 7, 8] }", 12, "8 args is more than 7 (x1..x7)")]
    [InlineData("{ file: guests/build/echo-sp.bin, base: 0 }", 12, "base")]
    public void ABadImage_IsRefusedWithTheFileAndLine(string image, int line, string reason)
    {
        Guests.Image("echo-sp");
        var error = Should.Throw<PlatformFileException>(() => PlatformFile.Parse(Text(image), File("p.yaml")));

        error.Line.ShouldBe(line);
        error.Message.ShouldContain(reason, Case.Sensitive);
        error.File.ShouldBe(File("p.yaml"));
    }

    [Fact]
    public void AProgramAndAnImage_AreRefused()
    {
        Guests.Image("echo-sp");
        var text = Text("{ file: guests/build/echo-sp.bin }") + "\n    program: echo\n";

        var error = Should.Throw<PlatformFileException>(() => PlatformFile.Parse(text, File("p.yaml")));

        error.Message.ShouldContain("has both a program and an image", Case.Sensitive);
    }
}
