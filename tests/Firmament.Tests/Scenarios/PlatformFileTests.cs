using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

public class PlatformFileTests
{
    [Fact]
    public void DefaultExample_DescribesExactlyTheBuiltInDefault()
    {
        var loaded = PlatformLoader.Load(TestFiles.Example("default.yaml"));
        var builtIn = DefaultPlatform.Create();
        (loaded.Name, loaded.Roles, loaded.Personality, loaded.Pcpus, loaded.Seed)
            .ShouldBe((builtIn.Name, builtIn.Roles, builtIn.Personality, builtIn.Pcpus, builtIn.Seed));
        loaded.Origin.ShouldBe(TestFiles.Example("default.yaml"));
        loaded.Notes.ShouldBeEmpty();
        loaded.Partitions.Count.ShouldBe(builtIn.Partitions.Count);
        for (var i = 0; i < builtIn.Partitions.Count; i++)
        {
            var (a, b) = (loaded.Partitions[i], builtIn.Partitions[i]);
            (a.Name, a.Id, a.Kind, a.ExceptionLevel, a.VcpuCount, a.Properties, a.Version, a.RxTxPages, a.RxAddress, a.TxAddress, a.ProgramName, a.BootOrder, a.Program)
                .ShouldBe((b.Name, b.Id, b.Kind, b.ExceptionLevel, b.VcpuCount, b.Properties, b.Version, b.RxTxPages, b.RxAddress, b.TxAddress, b.ProgramName, b.BootOrder, b.Program));
            a.Uuids.ShouldBe(b.Uuids);
            a.Memory.ShouldBe(b.Memory);
            a.Origin.ShouldStartWith(TestFiles.Example("default.yaml") + ":");
        }
    }

    [Fact]
    public void KernelExample_OneKernelAtEndpointZero()
    {
        var d = PlatformLoader.Load(TestFiles.Example("kernel-and-spmc.yaml"));
        d.Roles.ShouldBe(PlatformRoles.KernelAndSpmc);
        d.Partitions.Select(static p => (p.Name, p.Id, p.Kind, p.ProgramName)).ShouldBe(
        [
            ("linux", EndpointId.Hypervisor, PartitionKind.Kernel, "demo-client"),
            ("echo", new EndpointId(0x8001), PartitionKind.Sp, "echo"),
            ("faulty", new EndpointId(0x8002), PartitionKind.Sp, "faulty"),
        ]);
        d.Partitions[0].Memory.ShouldBe([new MemoryRegion("ram", Platform.NormalRamBase, 256, Stage2Access.All)]);
    }

    [Fact]
    public void CactusExample_SpsFromTheirManifests_WithIdsAsTheFvpCoreManifestNumbersThem()
    {
        TestFiles.RequireTools();
        var d = PlatformLoader.Load(TestFiles.Example("cactus.yaml"));
        (d.Name, d.Pcpus, d.Personality.Name).ShouldBe(("cactus", 8, "hafnium"));
        d.Partitions.Select(static p => (p.Name, p.Id.Value, p.Kind, p.VcpuCount, p.ExceptionLevel, p.ProgramName)).ShouldBe(
        [
            ("vm1", (ushort)0x0001, PartitionKind.Vm, 1, ExceptionLevel.El1, "demo-client"),
            ("vm2", (ushort)0x0002, PartitionKind.Vm, 1, ExceptionLevel.El1, "server"),
            ("cactus", (ushort)0x8001, PartitionKind.Sp, 8, ExceptionLevel.SEl1, "echo"),
            ("cactus-secondary", (ushort)0x8002, PartitionKind.Sp, 8, ExceptionLevel.SEl1, "echo"),
            ("cactus-tertiary", (ushort)0x8003, PartitionKind.Sp, 1, ExceptionLevel.SEl1, "echo"),
            ("ivy", (ushort)0x8004, PartitionKind.Sp, 1, ExceptionLevel.SEl0, "echo"),
        ]);
        d.Partitions[2].Uuids.ShouldBe([Uuid.FromWords(0x1e67b5b4, 0xe14f904a, 0x13fb1fb8, 0xcbdae1da)]);
        d.Partitions[2].Origin.ShouldContain("cactus.dts");
        d.Notes.Count(static n => n.Contains("asks for FF-A 1.3", StringComparison.Ordinal)).ShouldBe(4);
    }

    [Fact]
    public void MissingIds_AreAllocated_VmsFrom1_SpsFrom0x8001_SkippingTakenOnes()
    {
        var d = PlatformFile.Parse(
            """
            partitions:
              - { name: a, kind: vm }
              - { name: b, kind: vm, id: 1 }
              - { name: c, kind: vm }
              - { name: s, kind: sp, id: 0x8001 }
              - { name: t, kind: sp }
            """,
            "/p.yaml");
        d.Partitions.Select(static p => (p.Name, p.Id.Value)).ShouldBe([("a", (ushort)2), ("b", (ushort)1), ("c", (ushort)3), ("s", (ushort)0x8001), ("t", (ushort)0x8002)]);
        d.Name.ShouldBe("p");
        (d.Roles, d.Pcpus, d.Personality.Name, d.Seed).ShouldBe((PlatformRoles.HypervisorAndSpmc, 2, "default", 0UL));
    }

    [Fact]
    public void PropertiesWord_ThenFlags_SetAndClearBits_AndNumbersTakeHexDecimalAndSeparators()
    {
        var d = PlatformFile.Parse(
            """
            name: "quoted name"
            roles: spmc + hypervisor
            personality: xen
            pcpus: 0x4
            seed: 1_000
            partitions:
              - name: vm
                kind: vm
                properties: 0x107
                direct-request-receive: false
                notifications: true
                vcpus: 4
                ffa-version: 1.1
                uuids: [[0x1e67b5b4, 0xe14f904a, 0x13fb1fb8, 0xcbdae1da]]
            """,
            "/x/p.yml");
        (d.Name, d.Roles, d.Personality.Name, d.Pcpus, d.Seed).ShouldBe(("quoted name", PlatformRoles.HypervisorAndSpmc, "xen", 4, 1000UL));
        var vm = d.Partitions.Single();
        vm.Properties.ShouldBe(PartitionProperties.SendsDirectRequests | PartitionProperties.SupportsIndirectMessages | PartitionProperties.ReceivesNotifications | PartitionProperties.AArch64);
        (vm.VcpuCount, vm.Version).ShouldBe((4, FfaVersion.V1_1));
        vm.Uuids.ShouldBe([Uuid.Parse("b4b5671e-4a90-4fe1-b81f-fb13dae1dacb")]); // the same words as cactus's cells
        vm.Program.ShouldBeNull();
        vm.Origin.ShouldBe("/x/p.yml:7");
    }

    [Fact]
    public void Memory_AnchorsAndAliases_AreShared()
    {
        var d = PlatformFile.Parse(
            """
            partitions:
              - name: a
                kind: vm
                memory: &ram
                  - { name: ram, base: 0x40000000, pages: 16, access: rx }
                  - { name: io, base: 0x50000000, pages: 1, access: r }
              - name: b
                kind: vm
                memory: *ram
            """,
            "/p.yaml");
        d.Partitions[1].Memory.ShouldBe(
        [
            new MemoryRegion("ram", 0x40000000, 16, Stage2Access.ReadExecute),
            new MemoryRegion("io", 0x50000000, 1, Stage2Access.Read),
        ]);
    }

    [Fact]
    public void AManifestSp_TakesOverridesForNameIdProgramVcpusBootOrderAndFlags()
    {
        TestFiles.RequireTools();
        var yaml = $"""
            partitions:
              - name: primary
                manifest: {TestFiles.Manifest("tf-a-tests/cactus.dts")}
                id: 0x8010
                vcpus: 1
                boot-order: 7
                program: idle
                notifications: false
                direct-request2-receive: true
            """;
        var sp = PlatformFile.Parse(yaml, "/p.yaml").Partitions.Single();
        (sp.Name, sp.Id, sp.VcpuCount, sp.BootOrder, sp.ProgramName).ShouldBe(("primary", new EndpointId(0x8010), 1, 7, "idle"));
        sp.Program.ShouldBe(SecurePartitions.Idle);
        sp.Properties.ShouldBe(PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests
            | PartitionProperties.SupportsIndirectMessages | PartitionProperties.AArch64 | PartitionProperties.ReceivesDirectRequests2);
        (sp.RxAddress, sp.TxAddress).ShouldBe((0x7700000UL, 0x7701000UL));
    }

    [Fact]
    public void IncludeDirs_AreRelativeToThePlatformFile()
    {
        TestFiles.RequireTools();
        using var directory = new TempDirectory();
        directory.Write("inc/sp.h", "#define MY_LEVEL 2\n");
        directory.Write("sp/sp.dts", """
            /dts-v1/;
            #include <sp.h>
            / {
            	compatible = "arm,ffa-manifest-1.0";
            	ffa-version = <0x00010002>;
            	uuid = <0x1 0x2 0x3 0x4>;
            	execution-ctx-count = <1>;
            	exception-level = <MY_LEVEL>;
            	execution-state = <0>;
            	messaging-method = <0x3>;
            };
            """);
        var yaml = directory.Write("p.yaml", "partitions:\n  - manifest: sp/sp.dts\n    include-dirs: [inc]\n");
        var sp = PlatformLoader.Load(yaml).Partitions.Single();
        (sp.Name, sp.ExceptionLevel, sp.Id, sp.BootOrder).ShouldBe(("sp", ExceptionLevel.SEl1, new EndpointId(0x8001), SpManifest.DefaultBootOrder));
    }

    /// <summary>Damaged platform text (seeded) is loaded or rejected with a PlatformFileException, never anything else.</summary>
    [Fact]
    public void DamagedPlatformText_IsLoadedOrRejected()
    {
        var text = File.ReadAllText(TestFiles.Example("default.yaml"));
        var alphabet = ":-[]{}&*!|>'\"#%@`,? \n\t0x1aZ";
        var random = new Random(99);
        for (var round = 0; round < 3000; round++)
        {
            var chars = text.ToCharArray();
            for (var hits = random.Next(1, 6); hits > 0; hits--)
            {
                chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
            }

            var damaged = new string(chars, 0, random.Next(chars.Length / 2, chars.Length + 1));
            try
            {
                PlatformFile.Parse(damaged, "/fuzz.yaml");
            }
            catch (PlatformFileException e)
            {
                e.Line.ShouldBeGreaterThan(0);
            }
        }
    }
}
