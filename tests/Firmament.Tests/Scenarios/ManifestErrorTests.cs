using Firmament.Abi;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>Each way a manifest can be wrong gives a PlatformFileException at the file and line where it was written.</summary>
public class ManifestErrorTests
{
    /// <summary>A minimal valid manifest; line numbers below count from its first line (line 1 is /dts-v1/;).</summary>
    private static readonly string[] Valid =
    [
        "/dts-v1/;",                                                  // 1
        "/ {",                                                        // 2
        "\tcompatible = \"arm,ffa-manifest-1.0\";",                   // 3
        "\tffa-version = <0x00010002>;",                              // 4
        "\tuuid = <0x1 0x2 0x3 0x4>;",                                // 5
        "\texecution-ctx-count = <1>;",                               // 6
        "\texception-level = <2>;",                                   // 7
        "\texecution-state = <0>;",                                   // 8
        "\tmessaging-method = <0x3>;",                                // 9
        "\tload-address = <0x7000000>;",                              // 10
        "\tmemory-regions {",                                         // 11
        "\t\tcompatible = \"arm,ffa-manifest-memory-regions\";",      // 12
        "\t\tregion0: ram {",                                         // 13
        "\t\t\tbase-address = <0x0 0x7200000>;",                      // 14
        "\t\t\tpages-count = <2>;",                                   // 15
        "\t\t\tattributes = <0x3>;",                                  // 16
        "\t\t};",                                                     // 17
        "\t};",                                                       // 18
        "};",                                                         // 19
    ];

    [Fact]
    public void TheTemplate_Loads()
    {
        var m = Load(Valid);
        m.Uuids.ShouldBe([Uuid.FromWords(1, 2, 3, 4)]);
        m.Properties.ShouldBe(PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests | PartitionProperties.AArch64);
    }

    public static TheoryData<int, string, int, string> PropertyErrors => new()
    {
        { 3, "\tcompatible = \"arm,ffa-manifest-2.0\";", 3, "/compatible: binding 'arm,ffa-manifest-2.0' is not supported" },
        { 3, "\tcompatible = \"vendor,thing\";", 3, "is not an FF-A partition manifest" },
        { 3, "\tcompatible = <1>;", 3, "compatible must be a string list" },
        { 4, "\tffa-version = <0x00020000>;", 4, "/ffa-version: ffa-version 0x00020000 is not an FF-A v1.x version" },
        { 4, "\tffa-version = <0x80010000>;", 4, "is not an FF-A v1.x version" },
        { 4, "\tffa-version = \"v1.2\";", 4, "ffa-version must be one 32-bit cell, not \"v1.2\"" },
        { 5, "\tuuid = <0x1 0x2 0x3>;", 5, "/uuid: uuid has 3 cells; each UUID is four cells <w1 w2 w3 w4>" },
        { 5, "\tuuid = <0x1 0x2 0x3 0x4>, <0x5 0x6 0x7 0x8 0x9>;", 5, "uuid has 9 cells" },
        { 5, "\tuuid = <0 0 0 0>;", 5, "the Nil UUID (all zero) cannot name a partition's service" },
        { 5, "\tuuid = <0x1 0x2 0x3 0x4>, <0x1 0x2 0x3 0x4>;", 5, "is listed twice" },
        { 5, "\tuuid = \"b4b5671e-4a90-4fe1-b81f-fb13dae1dacb\";", 5, "uuid must be 32-bit cells" },
        { 6, "\texecution-ctx-count = <0>;", 6, "execution-ctx-count 0 is out of range" },
        { 7, "\texception-level = <0>;", 7, "exception-level 0 is EL1, a normal-world (VM) level" },
        { 7, "\texception-level = <5>;", 7, "exception-level 5 is not supported" },
        { 8, "\texecution-state = <2>;", 8, "execution-state 2 is not valid" },
        { 9, "\tmessaging-method = <0x8>;", 9, "messaging-method 0x8 is not valid" },
        { 9, "\tmessaging-method = <0>;", 9, "messaging-method 0x0 is not valid" },
        { 9, "\tmessaging-method = <0x3>, <0x3>;", 9, "messaging-method has 2 entries for 1 UUIDs" },
        { 10, "\tload-address = <0x0 0x0 0x7000000>;", 10, "load-address must be one cell or two" },
        { 14, "\t\t\tbase-address = <0x0 0x7200800>;", 14, "/memory-regions/ram/base-address: address 0x7200800 is not 4 KiB aligned" },
        { 14, "\t\t\tload-address-relative-offset = <0x100000>; base-address = <0x7200000>;", 14, "base-address or load-address-relative-offset, not both" },
        { 15, "\t\t\tpages-count = <0>;", 15, "/memory-regions/ram/pages-count: pages-count is 0" },
        { 16, "\t\t\tattributes = <0x7>;", 16, "attributes 0x7: a memory region is read-only (0x1), read-write (0x3) or read-execute (0x5)" },
        { 16, "\t\t\tattributes = <0x2>;", 16, "attributes 0x2" },
        { 16, "\t\t\tattributes = <0x13>;", 16, "attributes 0x13 has bits other than" },
        { 12, "\t\tcompatible = \"arm,something-else\";", 12, "memory-regions must be compatible = \"arm,ffa-manifest-memory-regions\"" },
    };

    [Theory]
    [MemberData(nameof(PropertyErrors))]
    public void ABadProperty_IsReportedAtItsLine(int replaceLine, string text, int expectedLine, string expected)
    {
        var lines = (string[])Valid.Clone();
        lines[replaceLine - 1] = text;
        var e = Fails(lines);
        e.Line.ShouldBe(expectedLine);
        e.Reason.ShouldContain(expected);
    }

    public static TheoryData<int, string> MissingProperties => new()
    {
        { 4, "ffa-version is missing" },
        { 5, "uuid is missing" },
        { 6, "execution-ctx-count is missing" },
        { 7, "exception-level is missing" },
        { 8, "execution-state is missing" },
        { 9, "messaging-method is missing" },
        { 15, "pages-count is missing" },
        { 16, "attributes is missing" },
    };

    /// <summary>A missing property is reported at the line of the node that should have had it.</summary>
    [Theory]
    [MemberData(nameof(MissingProperties))]
    public void AMissingProperty_IsReportedAtItsNode(int removeLine, string expected)
    {
        var lines = Valid.Where((_, i) => i != removeLine - 1).ToArray();
        var e = Fails(lines);
        e.Reason.ShouldContain(expected);
        e.Line.ShouldBe(removeLine >= 14 ? 13 : 2);
    }

    [Fact]
    public void ARelativeRegion_WithoutALoadAddress_IsAnError()
    {
        var lines = Valid.Where((_, i) => i != 9).ToArray();
        lines[12] = "\t\t\tload-address-relative-offset = <0x100000>;";
        var e = Fails(lines);
        e.Line.ShouldBe(13);
        e.Reason.ShouldContain("load-address-relative-offset needs the manifest's load-address");
    }

    [Fact]
    public void Sel0_WithSeveralContexts_IsAnError()
    {
        var lines = (string[])Valid.Clone();
        lines[5] = "\texecution-ctx-count = <4>;";
        lines[6] = "\texception-level = <1>;";
        var e = Fails(lines);
        (e.Line, e.Reason).ShouldBe((6, "/execution-ctx-count: an S-EL0 partition has exactly one execution context, not 4"));
    }

    [Fact]
    public void DirectRequest2_BeforeV12_IsAnError()
    {
        var lines = (string[])Valid.Clone();
        lines[3] = "\tffa-version = <0x00010001>;";
        lines[8] = "\tmessaging-method = <0x607>;";
        var e = Fails(lines);
        (e.Line, e.Reason).ShouldBe((9, "/messaging-method: direct request 2 (bits 9, 10) needs FF-A v1.2 or later; ffa-version is 1.1"));
    }

    [Fact]
    public void TheSpmcId_AsAnId_IsAnError()
    {
        var lines = Valid.Take(9).Append("\tid = <0x8000>;").Concat(Valid.Skip(9)).ToArray();
        var e = Fails(lines);
        (e.Line, e.Reason).ShouldBe((10, "/id: id 0x8000 would be the SPMC's own ID (0x8000); an SP's ID is 0x8001 or above (or its index 1, 2, …)"));
    }

    [Fact]
    public void AFlagWithAValue_IsAnError()
    {
        var lines = Valid.Take(9).Append("\tnotification-support = <1>;").Concat(Valid.Skip(9)).ToArray();
        var e = Fails(lines);
        (e.Line, e.Reason).ShouldBe((10, "/notification-support: notification-support is a flag and takes no value (it has <0x1>)"));
    }

    [Fact]
    public void VmAvailability_UnknownBits_IsAnError()
    {
        var lines = Valid.Take(9).Append("\tvm-availability-messages = <0x4>;").Concat(Valid.Skip(9)).ToArray();
        Fails(lines).Reason.ShouldContain("vm-availability-messages 0x4 has bits other than 0 (VM created) and 1 (VM destroyed)");
    }

    [Fact]
    public void RxTx_PointingOutsideMemoryRegions_OrUnequal_IsAnError()
    {
        string[] Manifest(string rx, string tx) =>
        [
            .. Valid.Take(10),
            "\trx_tx-info {", "\t\tcompatible = \"arm,ffa-manifest-rx_tx-buffer\";", $"\t\trx-buffer = {rx};", $"\t\ttx-buffer = {tx};", "\t};",
            "\tother: not-a-region { };",
            "\tmemory-regions {",
            "\t\tcompatible = \"arm,ffa-manifest-memory-regions\";",
            "\t\trx: rx { base-address = <0x7300000>; pages-count = <1>; attributes = <0x1>; };",
            "\t\ttx: tx { base-address = <0x7301000>; pages-count = <2>; attributes = <0x3>; };",
            "\t};",
            "};",
        ];

        var unequal = Fails(Manifest("<&rx>", "<&tx>"));
        (unequal.Line, unequal.Reason).ShouldBe((14, "/rx_tx-info/tx-buffer: the RX buffer (1 pages) and the TX buffer (2 pages) differ in size"));
        var same = Fails(Manifest("<&rx>", "<&rx>"));
        same.Reason.ShouldContain("rx-buffer and tx-buffer are the same region (/memory-regions/rx)");
        var elsewhere = Fails(Manifest("<&other>", "<&tx>"));
        (elsewhere.Line, elsewhere.Reason).ShouldBe((13, "/rx_tx-info/rx-buffer: rx-buffer points at /not-a-region, which is not a memory region"));
        var notPhandle = Fails(Manifest("<0x77>", "<&tx>"));
        notPhandle.Reason.ShouldContain("rx-buffer must be a phandle to a memory-regions node, not <0x77>");
    }

    [Fact]
    public void V11_WithoutServices_OrWithABadUuidString_IsAnError()
    {
        string[] V11(params string[] services) =>
        [
            "/dts-v1/;", "/ {", "\tcompatible = \"arm,ffa-manifest-1.1\";", "\tffa-version = <0x00010002>;",
            "\texecution-ctx-count = <1>;", "\texception-level = <2>;", "\texecution-state = <0>;",
            .. services,
            "};",
        ];

        Fails(V11()).Reason.ShouldBe("/: arm,ffa-manifest-1.1 needs a services node (compatible = \"arm,ffa-manifest-services\") with one child per service");
        var bad = Fails(V11("\tservices {", "\t\tcompatible = \"arm,ffa-manifest-services\";", "\t\ts0 {", "\t\t\tuuid = \"not-a-uuid\";", "\t\t\tmessaging-method = <3>;", "\t\t};", "\t};"));
        (bad.Line, bad.Reason).ShouldBe((11, "/services/s0/uuid: uuid must be a canonical UUID string, not \"not-a-uuid\""));
        var loaded = Load(V11("\tservices {", "\t\tcompatible = \"arm,ffa-manifest-services\";", "\t\ts0 {", "\t\t\tuuid = \"00112233-4455-6677-8899-aabbccddeeff\";", "\t\t\tmessaging-method = <3>;", "\t\t};", "\t};"));
        loaded.Uuids.ShouldBe([Uuid.FromWords(0x00112233, 0x44556677, 0x8899aabb, 0xccddeeff)]);
    }

    [Fact]
    public void ADtcSyntaxError_IsReportedAtItsFileAndLine()
    {
        var lines = (string[])Valid.Clone();
        lines[6] = "\texception-level = <2;";
        var e = Fails(lines);
        e.Line.ShouldBe(7);
        e.File.ShouldEndWith("sp.dts");
        e.Reason.ShouldStartWith("dtc: syntax error");
    }

    /// <summary>dtc locates a dangling reference at the node that holds it (here the root, line 2).</summary>
    [Fact]
    public void ADtcReferenceError_IsReportedAtTheLineDtcGives()
    {
        var lines = (string[])Valid.Clone();
        lines[9] = "\tload-address = <&nowhere>;";
        var e = Fails(lines);
        e.Line.ShouldBe(2);
        e.Reason.ShouldContain("Reference to non-existent node or label \"nowhere\"");
    }

    [Fact]
    public void ThroughCpp_ErrorsStillNameTheOriginalLine()
    {
        var lines = (string[])Valid.Clone();
        lines[0] = "/dts-v1/; /* uses cpp */";
        lines[1] = "#define LEVEL 2\n/ {"; // line 2 becomes two lines
        lines[6] = "\texception-level = <LEVEL;";
        var e = Fails(lines);
        (e.Line, e.Reason).ShouldBe((8, "dtc: syntax error"));

        lines[6] = "\texception-level = <LEVEL>;";
        lines[8] = "\tmessaging-method = <0x40>;";
        var semantic = Fails(lines);
        (semantic.Line, semantic.Reason).ShouldBe((10, "/messaging-method: messaging-method 0x40 is not valid: it must be non-zero with only bits 0, 1, 2, 9, 10 (0x607) set"));
    }

    [Fact]
    public void AMissingInclude_IsReportedAtTheIncludeLine()
    {
        var lines = (string[])Valid.Clone();
        lines[1] = "#include \"missing.dtsi\"\n/ {";
        var e = Fails(lines);
        (e.Line, e.Reason).ShouldBe((2, "cpp: missing.dtsi: No such file or directory"));
    }

    [Fact]
    public void AnErrorInAnIncludedFile_NamesThatFile()
    {
        TestFiles.RequireTools();
        using var directory = new TempDirectory();
        directory.Write("inc/regions.dtsi", "\t\tbad { base-address = <0x7300000>; pages-count = <0>; attributes = <1>; };\n");
        var lines = Valid.Take(17).Append("#include \"regions.dtsi\"").Concat(Valid.Skip(17)).ToArray();
        var path = directory.Write("sp.dts", string.Join('\n', lines) + "\n");
        var e = Should.Throw<PlatformFileException>(() => ManifestLoader.Load(path, [Path.Combine(directory.Path, "inc")]));
        e.File.ShouldEndWith("regions.dtsi");
        (e.Line, e.Reason).ShouldBe((1, "/memory-regions/bad/pages-count: pages-count is 0; a region has at least one page"));
    }

    [Fact]
    public void PlatformDefH_WhenAMacroFromItIsNeeded_SaysTheStubWasUsed()
    {
        var lines = (string[])Valid.Clone();
        lines[1] = "#include <platform_def.h>\n/ {";
        lines[9] = "\tload-address = <PLAT_SP_LOAD_ADDRESS>;";
        var e = Fails(lines);
        e.Line.ShouldBe(11);
        e.Reason.ShouldStartWith("dtc: syntax error (note: <platform_def.h> was missing and an empty stub stood in for it");
    }

    [Fact]
    public void ABlobThatIsNotAManifest_OrAnUnknownExtension_IsRejected()
    {
        TestFiles.RequireTools();
        using var directory = new TempDirectory();
        var junk = directory.Write("junk.dtb", new byte[64]);
        Should.Throw<PlatformFileException>(() => ManifestLoader.Load(junk)).Reason.ShouldStartWith("malformed device tree blob at offset 0x0: bad magic");
        var text = directory.Write("sp.txt", "hello");
        Should.Throw<PlatformFileException>(() => ManifestLoader.Load(text)).Reason.ShouldBe("'.txt' is not a manifest file type (a partition manifest is .dts or .dtb)");
        Should.Throw<PlatformFileException>(() => ManifestLoader.Load(Path.Combine(directory.Path, "none.dts"))).Reason.ShouldBe("no such file");
    }

    [Fact]
    public void AnErrorInADtb_NamesTheNodePath_WithoutALine()
    {
        TestFiles.RequireTools();
        var lines = (string[])Valid.Clone();
        lines[14] = "\t\t\tpages-count = <0>;";
        using var directory = new TempDirectory();
        var blob = DtsCompiler.Compile(directory.Write("sp.dts", string.Join('\n', lines) + "\n")).Blob;
        var path = directory.Write("sp.dtb", blob);
        var e = Should.Throw<PlatformFileException>(() => ManifestLoader.Load(path));
        (e.File, e.Line, e.Reason).ShouldBe((path, 0, "/memory-regions/ram/pages-count: pages-count is 0; a region has at least one page"));
    }

    [Fact]
    public void AManifestPathStartingWithADash_IsPassedAsAFile_NotAnOption()
    {
        DtsCompiler.AsFileArgument("-o.dts").ShouldBe("./-o.dts");
        DtsCompiler.AsFileArgument("sp/-o.dts").ShouldBe("sp/-o.dts");
        DtsCompiler.AsFileArgument("/abs/sp.dts").ShouldBe("/abs/sp.dts");
    }

    private static SpManifest Load(string[] lines)
    {
        TestFiles.RequireTools();
        using var directory = new TempDirectory();
        return ManifestLoader.Load(directory.Write("sp.dts", string.Join('\n', lines) + "\n"));
    }

    private static PlatformFileException Fails(string[] lines)
    {
        TestFiles.RequireTools();
        using var directory = new TempDirectory();
        var path = directory.Write("sp.dts", string.Join('\n', lines) + "\n");
        var e = Should.Throw<PlatformFileException>(() => ManifestLoader.Load(path));
        e.File.ShouldEndWith(".dts");
        return e;
    }
}
