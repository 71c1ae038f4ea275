using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>
/// Every SP manifest under fixtures/manifests loads as it is, with the fields the upstream file says.
/// UUID byte order: a manifest's uuid cells are the register words w1..w4 (Hafnium copies them into the words it
/// puts in FFA_PARTITION_INFO_GET's w1..w4, w1 carrying bytes 0..3 little-endian), so a UUID is Uuid.FromWords(cells).
/// </summary>
public class ManifestFixtureTests
{
    private const PartitionProperties Direct = PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests;
    private const PartitionProperties Indirect = PartitionProperties.SupportsIndirectMessages;
    private const PartitionProperties Req2 = PartitionProperties.ReceivesDirectRequests2 | PartitionProperties.SendsDirectRequests2;
    private const PartitionProperties Notifications = PartitionProperties.ReceivesNotifications;
    private const PartitionProperties VmMessages = PartitionProperties.InformedOfVmCreation | PartitionProperties.InformedOfVmDestruction;
    private const PartitionProperties A64 = PartitionProperties.AArch64;

    public static TheoryData<string> SpManifests =>
    [
        "tf-a-tests/cactus.dts", "tf-a-tests/cactus-secondary.dts", "tf-a-tests/cactus-tertiary.dts", "tf-a-tests/ivy-sel0.dts",
        "hafnium/partition_manifest_service_sp1.dts", "hafnium/partition_manifest_service_sp2.dts",
        "hafnium/partition_manifest_service_sp3.dts", "hafnium/partition_manifest_live_activate_first.dts",
        "optee/optee_sp_manifest.dts", "tf-a/optee_sp_manifest.dts", "tf-a/fvp_tsp_sp_manifest.dts", "tf-a/rdn2_stmm_sel0_manifest.dts",
    ];

    [Theory]
    [MemberData(nameof(SpManifests))]
    public void EverySpFixture_Loads_AndMakesAPartition(string fixture)
    {
        var manifest = Load(fixture);
        manifest.Services.ShouldNotBeEmpty();
        manifest.ExecutionContexts.ShouldBeGreaterThan(0);
        var config = manifest.ToPartitionConfig("sp", new EndpointId(0x8001));
        config.Kind.ShouldBe(PartitionKind.Sp);
        config.Uuids.ShouldBe(manifest.Uuids);
        config.VcpuCount.ShouldBe(manifest.ExecutionContexts);
        config.Version.ShouldBeLessThanOrEqualTo(FfaVersion.Latest);
    }

    [Fact]
    public void Cactus_UuidCellsAreRegisterWords_AndEveryFieldIsRead()
    {
        var m = Load("tf-a-tests/cactus.dts");
        m.Compatible.ShouldBe(ManifestLoader.Binding10);
        m.Description.ShouldBe("Base-1");
        m.Version.ShouldBe(new FfaVersion(1, 3));

        // <0x1e67b5b4 0xe14f904a 0x13fb1fb8 0xcbdae1da> are w1..w4; w1 holds bytes 0..3 little-endian, so the RFC 4122
        // text starts b4b5671e. The text "1e67b5b4-e14f-904a-13fb-1fb8cbdae1da" is the same words read as Hafnium
        // reads a v1.1 string (digits 0-7 = w1, …).
        var uuid = Uuid.FromWords(0x1e67b5b4, 0xe14f904a, 0x13fb1fb8, 0xcbdae1da);
        m.Uuids.ShouldBe([uuid]);
        uuid.ToString().ShouldBe("b4b5671e-4a90-4fe1-b81f-fb13dae1dacb");
        uuid.ToWords().ShouldBe((0x1e67b5b4u, 0xe14f904au, 0x13fb1fb8u, 0xcbdae1dau));
        ManifestLoader.TryParseServiceUuid("1e67b5b4-e14f-904a-13fb-1fb8cbdae1da", out var hafniumText).ShouldBeTrue();
        hafniumText.ShouldBe(uuid);

        m.DeclaredId.ShouldBe((ushort)1);
        m.Id.ShouldBe(new EndpointId(0x8001)); // an id without bit 15 is the SP's index: SP_ID(1)
        m.ExecutionContexts.ShouldBe(8);
        m.ExceptionLevel.ShouldBe(ExceptionLevel.SEl1);
        m.AArch64.ShouldBeTrue();
        m.LoadAddress.ShouldBe(0x7000000UL);
        m.EntrypointOffset.ShouldBe(0x2000UL);
        m.BootOrder.ShouldBe(0);
        m.Properties.ShouldBe(Direct | Indirect | Notifications | A64); // messaging-method <7>
        m.MemoryRegions.Select(static r => (r.Name, r.Address, r.PageCount, r.Attributes)).ShouldBe(
        [
            ("rx-buffer", 0x7700000UL, 1UL, 0x1u),
            ("tx-buffer", 0x7701000UL, 1UL, 0x3u),
            ("share-memory", 0x7500000UL, 1UL, 0x3u),
            ("smmuv3-memcpy-source", 0x7710000UL, 4UL, 0x3u),
            ("smmuv3-memcpy-destination", 0x7714000UL, 4UL, 0x3u),
            ("smmuv3-memcpy-ns-region", 0x90000000UL, 8UL, 0xbu),
        ]);
        m.MemoryRegions[0].Access.ShouldBe(Stage2Access.Read);
        m.MemoryRegions[5].IsNonSecure.ShouldBeTrue();
        m.MemoryRegions[5].Access.ShouldBe(Stage2Access.ReadWrite);
        m.DeviceRegions.Select(static r => (r.Name, r.Address, r.PageCount)).ShouldBe(
        [
            ("smmuv3-testengine", 0x2b500000UL, 32UL), ("sec_wdog", 0x2a490000UL, 32UL), ("espi_test_node", 0x1c130000UL, 1UL),
        ]);
        m.DeviceRegions[1].Interrupts.ShouldBe([new ManifestInterrupt(56, 0x900)]);
        m.DeviceRegions[2].Interrupts.ShouldBe([new ManifestInterrupt(5000, 0x900)]);
        m.RxTx.ShouldNotBeNull();
        (m.RxTx.Rx.Address, m.RxTx.Tx.Address, m.RxTx.PageCount).ShouldBe((0x7700000UL, 0x7701000UL, 1UL));
        m.Warnings.Count(static w => w.Contains("interrupts_property", StringComparison.Ordinal)).ShouldBe(2);
        m.Notes.ShouldContain(static n => n.Contains("asks for FF-A 1.3", StringComparison.Ordinal));
    }

    [Fact]
    public void Cactus_PartitionConfig_MapsRegionsAtTheirAddresses_WithAnImageRegionAndTheManifestBuffers()
    {
        var config = Load("tf-a-tests/cactus.dts").ToPartitionConfig("cactus", new EndpointId(0x8001));
        config.Memory[0].ShouldBe(new MemoryRegion("image", 0x7000000, SpManifest.DefaultImagePages, Stage2Access.All));
        config.Memory.Skip(1).Select(static r => (r.Name, r.Address, r.PageCount, r.Access)).ShouldBe(
        [
            ("rx-buffer", 0x7700000UL, 1UL, Stage2Access.Read),
            ("tx-buffer", 0x7701000UL, 1UL, Stage2Access.ReadWrite),
            ("share-memory", 0x7500000UL, 1UL, Stage2Access.ReadWrite),
            ("smmuv3-memcpy-source", 0x7710000UL, 4UL, Stage2Access.ReadWrite),
            ("smmuv3-memcpy-destination", 0x7714000UL, 4UL, Stage2Access.ReadWrite),
            ("smmuv3-memcpy-ns-region", 0x90000000UL, 8UL, Stage2Access.ReadWrite),
        ]);
        (config.RxAddress, config.TxAddress, config.RxTxPages).ShouldBe((0x7700000UL, 0x7701000UL, 1u));
        config.Version.ShouldBe(FfaVersion.V1_2); // 1.3 asked, served at Firmament's 1.2
        config.BootOrder.ShouldBe(0);
        config.ExceptionLevel.ShouldBe(ExceptionLevel.SEl1);
        config.Properties.ShouldBe(Direct | Indirect | Notifications | A64);
    }

    [Fact]
    public void CactusSecondary_DirectMessagingOnly_WithPhandleBuffers()
    {
        var m = Load("tf-a-tests/cactus-secondary.dts");
        m.Uuids.ShouldBe([Uuid.FromWords(0x092358d1, 0xb94723f0, 0x64447c82, 0xc88f57f5)]);
        m.Id.ShouldBe(new EndpointId(0x8002));
        m.ExecutionContexts.ShouldBe(8);
        m.Properties.ShouldBe(Direct | Notifications | A64);
        m.BootOrder.ShouldBe(1);
        m.MemoryRegions.Count.ShouldBe(3);
        m.DeviceRegions.ShouldBeEmpty();
        (m.RxTx!.Rx.Address, m.RxTx.Tx.Address).ShouldBe((0x7702000UL, 0x7703000UL));
        m.Warnings.ShouldBeEmpty();
    }

    [Fact]
    public void CactusTertiary_UpSp_OneCellAnd64BitAddresses_ImageSizedImageRegion()
    {
        var m = Load("tf-a-tests/cactus-tertiary.dts");
        m.Uuids.ShouldBe([Uuid.FromWords(0x735cb579, 0xb9448c1d, 0xe1619385, 0xd2d80a77)]);
        m.Id.ShouldBe(new EndpointId(0x8003));
        m.ExecutionContexts.ShouldBe(1);
        m.ImageSize.ShouldBe(0x300000UL);
        m.Properties.ShouldBe(Direct | Notifications | A64);
        m.MemoryRegions.Select(static r => (r.Name, r.Address, r.PageCount, r.Attributes)).ShouldBe(
        [
            ("share-memory", 0x7502000UL, 1UL, 0x3u),
            ("NS share memory", 0x0000880080001000UL, 1UL, 0xbu),
            ("shared-buff", 0xfd500000UL, 0x100UL, 0x3u),
            ("ns-comm", 0x80000000UL, 1UL, 0xbu), // base-address = <0x80000000>: one cell
            ("heap", 0xff100000UL, 7UL, 0x3u),
        ]);
        m.RxTx.ShouldBeNull();
        var config = m.ToPartitionConfig("tertiary", m.Id!.Value);
        config.Memory[0].ShouldBe(new MemoryRegion("image", 0x7200000, 0x300, Stage2Access.All));
        (config.RxAddress, config.TxAddress).ShouldBe((null, null));
    }

    [Fact]
    public void IvySel0_HasNoId_AndIsAnSel0UpPartition()
    {
        var m = Load("tf-a-tests/ivy-sel0.dts");
        m.DeclaredId.ShouldBeNull();
        m.Id.ShouldBeNull();
        m.Uuids.ShouldBe([Uuid.FromWords(0xd883baea, 0xaf4eafba, 0xfdf74481, 0xa744e5cb)]);
        m.ExceptionLevel.ShouldBe(ExceptionLevel.SEl0);
        m.ExecutionContexts.ShouldBe(1);
        m.Properties.ShouldBe(Direct | A64);
        m.BootOrder.ShouldBe(3);
        m.MemoryRegions.ShouldBeEmpty();
        m.Description.ShouldBe("ivy-sel0-fvp");
    }

    [Fact]
    public void HafniumSp1_TwoUuids_OneMessagingMethodForBoth_RelativeRegions()
    {
        var m = Load("hafnium/partition_manifest_service_sp1.dts");
        m.Description.ShouldBe("Secure Service1"); // debug_name
        m.Version.ShouldBe(FfaVersion.V1_2);
        var first = Uuid.FromWords(0xb4b5671e, 0x4a904fe1, 0xb81ffb13, 0xdae1dacb);
        m.Services.ShouldBe(
        [
            new ManifestService(first, Direct | Indirect | Req2),
            new ManifestService(Uuid.FromWords(0xfed46119, 0xb57c449f, 0xa852c15f, 0xd346b1fc), Direct | Indirect | Req2),
        ]);

        // Hafnium's sp1 words are cactus's words byte-swapped: in RFC 4122 text this is the string DefaultPlatform uses.
        first.ShouldBe(Uuid.Parse("1e67b5b4-e14f-904a-13fb-1fb8cbdae1da"));
        m.Id.ShouldBeNull();
        m.Properties.ShouldBe(Direct | Indirect | Req2 | VmMessages | Notifications | A64); // 0x607, vm-availability 3
        m.MemoryRegions.Select(static r => (r.Name, r.Address, r.Attributes, r.IsRelative)).ShouldBe(
        [
            ("test-memory-rw", 0x6780000UL, 0x3u, true), // load-address 0x6480000 + 0x300000
            ("test-memory-ro", 0x6880000UL, 0x1u, true),
            ("secure-memory", 0x7100000UL, 0x3u, false),
            ("ro-secure-memory", 0x7200000UL, 0x1u, false),
            ("ns-memory", 0x9001F000UL, 0xbu, false),
        ]);
        m.DeviceRegions.Select(static r => r.Name).ShouldBe(["uart1", "sec_wdog"]);
        m.BootOrder.ShouldBe(1);
    }

    [Fact]
    public void HafniumSp2_V11Services_StringUuidsReadAsHafniumDoes()
    {
        var m = Load("hafnium/partition_manifest_service_sp2.dts");
        m.Compatible.ShouldBe(ManifestLoader.Binding11);

        // "5d45882e-0000-f637-0000-a7200e8669dc" is the v1.1 spelling of the v1.0 cells <0x5d45882e 0xf637 0xa720
        // 0xe8669dc> that Hafnium's sp2 had before commit 3ad0c9dce843: both give the same register words.
        m.Services.ShouldBe(
        [
            new ManifestService(Uuid.FromWords(0x5d45882e, 0xf637, 0xa720, 0x0e8669dc), Direct | Indirect | Req2),
            new ManifestService(Uuid.FromWords(0x6e56993f, 0x0748, 0xb831, 0x0f977aed), Direct | Indirect | Req2),
        ]);
        m.Properties.ShouldBe(Direct | Indirect | Req2 | VmMessages | Notifications | A64);
        m.ExecutionContexts.ShouldBe(8);
        m.BootOrder.ShouldBe(2);
        m.DeviceRegions.Single().Interrupts.ShouldBe([new ManifestInterrupt(5000, 0x900)]);
    }

    [Fact]
    public void HafniumSp3_ShortCellUuid_IsFourWholeWords_AndMessagingIsPerUuid()
    {
        var m = Load("hafnium/partition_manifest_service_sp3.dts");

        // <0xcbd4482f 0xcbab 0x4dba 0x0738d>: four cells, each a 32-bit word however few digits it was written with.
        m.Services.ShouldBe(
        [
            new ManifestService(Uuid.FromWords(0xcbd4482f, 0x0000cbab, 0x00004dba, 0x0000738d), Indirect),
            new ManifestService(Uuid.FromWords(0x0ff35a12, 0xdae3432c, 0xa8191771, 0x61d7bba5), Direct | Indirect | Req2),
        ]);
        m.Properties.ShouldBe(Direct | Indirect | Req2 | Notifications | A64); // <0x4>, <0x607> OR-ed
        m.DeviceRegions.Select(static r => r.Interrupts.Count).ShouldBe([4, 4, 2]);
        m.DeviceRegions[2].Interrupts.ShouldBe([new ManifestInterrupt(5009, 0x900), new ManifestInterrupt(5010, 0x900)]);
        m.Warnings.Count.ShouldBe(3);
    }

    [Fact]
    public void LiveActivate_UnknownPropertiesTolerated_ImageUuidMatchesItsComment()
    {
        var m = Load("hafnium/partition_manifest_live_activate_first.dts");
        m.Version.ShouldBe(new FfaVersion(1, 3));
        m.ExecutionContexts.ShouldBe(1);
        m.Properties.ShouldBe(Direct | Indirect | VmMessages | Notifications | A64);

        // The file's own comment: cells <0x962a7bf0 0x174d471d 0xa686c89e 0x5c3e254e> are canonical f07b2a96-1d47-….
        m.ImageUuid.ShouldBe(Uuid.Parse("f07b2a96-1d47-4d17-9ec8-86a64e253e5c"));
        var region = m.MemoryRegions.Single();
        (region.Node, region.Name, region.Address, region.PageCount, region.Attributes, region.IsRelative)
            .ShouldBe(("/memory-regions/live-state-buffer", "live-state-buffer", 0x6780000UL, 1UL, 3u, false));
    }

    [Fact]
    public void OpteeFixtures_BothCopies()
    {
        var optee = Load("optee/optee_sp_manifest.dts");
        var uuid = Uuid.FromWords(0xe0786148, 0xe311f8e7, 0x02005ebc, 0x1bc5d5a5);
        (optee.Version, optee.Uuids.Single(), optee.Id, optee.LoadAddress, optee.EntrypointOffset)
            .ShouldBe((FfaVersion.V1_0, uuid, (EndpointId?)new EndpointId(0x8001), (ulong?)0xfd280000UL, (ulong?)0x4000UL));
        optee.Properties.ShouldBe(Direct | A64);
        optee.DeviceRegions.Single().Address.ShouldBe(0x2A410000UL);

        var tfa = Load("tf-a/optee_sp_manifest.dts");
        (tfa.Version, tfa.Uuids.Single(), tfa.LoadAddress).ShouldBe((FfaVersion.V1_1, uuid, (ulong?)0x6280000UL));
        tfa.DeviceRegions.Single().Interrupts.ShouldBe([new ManifestInterrupt(38, 0x900)]);
    }

    [Fact]
    public void TspManifest_GoesThroughCpp_ForItsDefines()
    {
        var m = Load("tf-a/fvp_tsp_sp_manifest.dts");
        m.ExceptionLevel.ShouldBe(ExceptionLevel.SEl1); // <S_EL1>, a #define
        m.Id.ShouldBe(new EndpointId(0x8001));
        m.Uuids.ShouldBe([Uuid.FromWords(0x6b43b460, 0x74a24b78, 0xade24502, 0x40682886)]);
        m.LoadAddress.ShouldBeNull();
        m.ToPartitionConfig("tsp", new EndpointId(0x8001)).Memory.ShouldBeEmpty(); // no load address: the platform places its RAM
        m.Notes.ShouldBeEmpty();
    }

    [Fact]
    public void Rdn2Stmm_MissingPlatformDefH_IsStubbed_WithANote()
    {
        var m = Load("tf-a/rdn2_stmm_sel0_manifest.dts");
        m.Notes.ShouldContain(static n => n.Contains("rdn2_stmm_sel0_manifest.dts:9: <platform_def.h> was not found; an empty stub stood in", StringComparison.Ordinal));
        m.ExceptionLevel.ShouldBe(ExceptionLevel.SEl0);
        m.Id.ShouldBe(new EndpointId(0x8001));
        m.LoadAddress.ShouldBe(0xFF200000UL); // two cells
        m.ImageSize.ShouldBe(0x280000UL);
        m.MemoryRegions.Select(static r => (r.Name, r.Address, r.PageCount, r.Attributes)).ShouldBe(
        [
            ("stmm_region", 0xff200000UL, 0x300UL, 0x5u), // SECURE_EXECUTE_RO, defined inside the root node
            ("shared-buff", 0xff500000UL, 0x100UL, 0x3u),
            ("ns-comm", 0xff600000UL, 0x30UL, 0xbu),
            ("heap", 0xff630000UL, 0x5d0UL, 0x3u),
        ]);
        m.DeviceRegions.Count.ShouldBe(6);
        m.DeviceRegions[5].Address.ShouldBe(0x1054000000UL);

        // stmm_region covers the load address: the manifest maps its image itself, so no image region is added.
        m.ToPartitionConfig("stmm", new EndpointId(0x8001)).Memory.Select(static r => r.Name).ShouldBe(["stmm_region", "shared-buff", "ns-comm", "heap"]);
    }

    [Fact]
    public void CoreManifest_El1Optee_IsRejectedAsACoreManifest_AtItsCompatibleLine()
    {
        var e = Should.Throw<PlatformFileException>(() => Load("tf-a/fvp_spmc_el1_optee_manifest.dts"));
        e.Line.ShouldBe(9);
        e.File.ShouldEndWith("fvp_spmc_el1_optee_manifest.dts");
        e.Reason.ShouldBe("/compatible: this is an SPMC core manifest (arm,ffa-core-manifest-1.0) (SPMC ID 0x8000; FF-A 1.1), not a partition manifest: "
            + "Firmament's SPMC is set up by the platform file (roles, personality); list each partition's own manifest under partitions: instead");
    }

    [Fact]
    public void CoreManifest_Fvp_GoesThroughCppWithItsDtsi_AndIsRejectedNamingItsPartitions()
    {
        var e = Should.Throw<PlatformFileException>(() => Load("tf-a/fvp_spmc_manifest.dts"));
        e.Line.ShouldBe(16);
        e.Reason.ShouldContain("SPMC core manifest (arm,ffa-core-manifest-1.0) (SPMC ID 0x8000; FF-A 1.3; partitions cactus-primary, cactus-secondary, cactus-tertiary, ivy)");
    }

    [Fact]
    public void Dtb_LoadsTheSameAsItsSource()
    {
        TestFiles.RequireTools();
        using var directory = new TempDirectory();
        var blob = DtsCompiler.Compile(TestFiles.Manifest("tf-a-tests/cactus.dts")).Blob;
        var fromDtb = ManifestLoader.Load(directory.Write("cactus.dtb", blob));
        var fromDts = Load("tf-a-tests/cactus.dts");
        fromDtb.ToPartitionConfig("c", new EndpointId(0x8001)).Memory.ShouldBe(fromDts.ToPartitionConfig("c", new EndpointId(0x8001)).Memory);
        fromDtb.Services.ShouldBe(fromDts.Services);
        fromDtb.Properties.ShouldBe(fromDts.Properties);
        (fromDtb.RxTx!.Rx.Address, fromDtb.RxTx.Tx.Address).ShouldBe((fromDts.RxTx!.Rx.Address, fromDts.RxTx.Tx.Address));
    }

    private static SpManifest Load(string fixture)
    {
        TestFiles.RequireTools();
        return ManifestLoader.Load(TestFiles.Manifest(fixture));
    }
}
