using Firmament.Scenarios;
using Firmament.Scenarios.Scripts;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Gunyah;

/// <summary>The platform file's gunyah: section and the scenario hypercall: step: bad input is a message with file and line.</summary>
public class PlatformSectionTests
{
    private const string Head = "roles: hypervisor\npcpus: 1\npartitions:\n  - { name: vm1, kind: vm }\n  - { name: vm2, kind: vm }\n";

    [Theory]
    [InlineData("gunyah:\n  primary: vm9\n", 7, "is not a VM")]
    [InlineData("gunyah:\n  msgqueues:\n    - { name: q, sender: vm1, receiver: vm1 }\n", 8, "sender and receiver are both vm1")]
    [InlineData("gunyah:\n  msgqueues:\n    - { name: q, sender: vm1, receiver: vm2, depth: 256 }\n", 8, "out of range")]
    [InlineData("gunyah:\n  doorbells:\n    - { name: rm-tx, senders: [vm1], receiver: vm2 }\n", 8, "reserved")]
    [InlineData("gunyah:\n  doorbells:\n    - { name: d, senders: [vm1], receiver: vm2, mode: sometimes }\n", 8, "is not interrupt")]
    [InlineData("gunyah:\n  images:\n    - { name: g, program: nope }\n", 8, "unknown program")]
    [InlineData("gunyah:\n  colour: blue\n", 7, "unknown key 'colour'")]
    public void BadGunyahSection_IsRefusedAtItsLine(string section, int line, string reason)
    {
        var e = Should.Throw<PlatformFileException>(() => PlatformFile.Parse(Head + section, "p.yaml"));
        e.Line.ShouldBe(line);
        e.Reason.ShouldContain(reason);
    }

    [Fact]
    public void GunyahSection_OnAKernelPlatform_IsRefused()
    {
        var text = "roles: kernel+spmc\npartitions:\n  - { name: k, kind: kernel }\n  - { name: sp1, kind: sp }\ngunyah: {}\n";
        Should.Throw<PlatformFileException>(() => PlatformFile.Parse(text, "p.yaml")).Reason.ShouldContain("needs the hypervisor");
    }

    [Fact]
    public void DefaultExample_HasTheBuiltInGunyahPart()
    {
        var loaded = PlatformLoader.Load(Firmament.Tests.Scenarios.TestFiles.Example("default.yaml")).Gunyah!;
        var builtIn = DefaultPlatform.Create().Gunyah!;
        loaded.Primary.ShouldBe(builtIn.Primary);
        loaded.Images.ShouldBe(builtIn.Images);
    }

    [Fact]
    public void HypercallStep_UnknownNameOrTooManyArgs_IsRefusedAtItsLine()
    {
        var platform = "platform:\n  roles: hypervisor\n  pcpus: 1\n  partitions:\n    - { name: vm1, kind: vm }\n  gunyah: {}\nscripted: [vm1]\nsteps:\n";
        Should.Throw<PlatformFileException>(() => ScenarioFile.Parse(platform + "  - hypercall: doorbell_ring\n    by: vm1\n", "s.yaml"))
            .Reason.ShouldContain("not a Gunyah hypercall");
        var e = Should.Throw<PlatformFileException>(() => ScenarioFile.Parse(platform + "  - hypercall: doorbell_send\n    by: vm1\n    args: [1, 2, 3]\n", "s.yaml"));
        e.Line.ShouldBe(11);
        e.Reason.ShouldContain("takes 2 inputs");
        Should.Throw<PlatformFileException>(() => ScenarioFile.Parse(platform + "  - hypercall: doorbell_send\n    by: vm1\n    expect: ERROR_NOPE\n", "s.yaml"))
            .Reason.ShouldContain("not a Gunyah error name");
    }
}
