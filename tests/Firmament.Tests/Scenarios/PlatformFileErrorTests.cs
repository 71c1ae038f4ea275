using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>Every check a platform file gets, each failing at the line that is wrong, with nothing returned.</summary>
public class PlatformFileErrorTests
{
    private const string Vm = "  - { name: vm1, kind: vm, program: demo-client }";
    private const string Sp = "  - { name: sp1, kind: sp, uuids: [b4b5671e-4a90-4fe1-b81f-fb13dae1dacb], program: echo }";

    public static TheoryData<string, int, string> Errors => new()
    {
        // YAML itself
        { "name: [unclosed\npartitions: []\n", 1, "not valid YAML" },
        { "name: a\n  bad: indentation\n", 2, "not valid YAML" },
        { "name: \"unterminated\npartitions: []\n", 1, "not valid YAML" },
        { "name: a\n---\nname: b\n", 2, "a platform file is one YAML document" },
        { "", 1, "the file is empty" },
        { "- a\n- b\n", 1, "the platform file must be a mapping (key: value lines), not a list" },
        { "name: a\nname: b\n", 2, "'name' is given twice" },
        { "name: a\n? [x]\n: y\n", 2, "a mapping key must be a plain word, not a list" },
        { "name: *nothing\n", 1, "alias *nothing names no anchor defined before it" },
        { "name: [[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]\n", 1, "nesting deeper than 16 levels" },

        // top level
        { "nmae: x\npartitions:\n" + Vm + "\n", 1, "unknown key 'nmae' in the platform file (known: name, roles, personality, pcpus, seed, partitions, gunyah)" },
        { "roles: hypervisor+kernel\npartitions:\n" + Vm + "\n", 1, "roles 'hypervisor+kernel' is not one of hypervisor+spmc, kernel+spmc, hypervisor" },
        { "personality: linux\npartitions:\n" + Vm + "\n", 1, "unknown personality 'linux' (known: default, hafnium, optee, el3-spmc, xen, pkvm)" },
        { "pcpus: 0\npartitions:\n" + Vm + "\n", 1, "pcpus 0 is out of range (1..64)" },
        { "pcpus: 65\npartitions:\n" + Vm + "\n", 1, "pcpus 65 is out of range (1..64)" },
        { "pcpus: \"2\"\npartitions:\n" + Vm + "\n", 1, "pcpus must be a number (decimal or 0x hex), not the string \"2\"" },
        { "pcpus: two\npartitions:\n" + Vm + "\n", 1, "pcpus must be a number (decimal or 0x hex), not 'two'" },
        { "seed: -1\npartitions:\n" + Vm + "\n", 1, "seed must be a number" },
        { "name: x\n", 1, "partitions is missing: a platform needs at least one partition" },
        { "name: x\npartitions: []\n", 2, "partitions is empty" },
        { "name: x\npartitions: vm1\n", 2, "partitions must be a list, not 'vm1'" },
        { "name: [a]\npartitions:\n" + Vm + "\n", 1, "name must be a word or string, not a list" },

        // one partition
        { "partitions:\n  - vm1\n", 2, "a partition must be a mapping (key: value lines), not 'vm1'" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    colour: blue\n", 4, "unknown key 'colour' in a partition (known: name, kind, id," },
        { "partitions:\n  - kind: vm\n", 2, "a partition needs a name" },
        { "partitions:\n  - name: vm1\n", 2, "partition 'vm1' needs a kind (vm, sp or kernel)" },
        { "partitions:\n  - name: vm1\n    kind: guest\n", 3, "kind 'guest' is not vm, sp or kernel" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    id: 0x8001\n", 4, "VM 'vm1' has ID 0x8001; a VM's ID is 0x0001..0x7ffe (bit 15 clear)" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    id: 0x10000\n", 4, "id 0x10000 is out of range (0..65535)" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    id: 5\n", 4, "SP 'sp1' has ID 0x0005; an SP's ID has bit 15 set (0x8001..0xfffe; 0x8000 is the SPMC)" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    id: 0x8000\n", 4, "SP 'sp1' has ID 0x8000" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    id: 0xffff\n", 4, "SP 'sp1' has ID 0xFFFF" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    uuids: [not-a-uuid]\n", 4, "'not-a-uuid' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    uuids:\n      - 00000000-0000-0000-0000-000000000000\n", 5, "the Nil UUID cannot name a partition" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    uuids: [b4b5671e-4a90-4fe1-b81f-fb13dae1dacb, [0x1e67b5b4, 0xe14f904a, 0x13fb1fb8, 0xcbdae1da]]\n", 4, "UUID b4b5671e-4a90-4fe1-b81f-fb13dae1dacb is listed twice" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    uuids: [[1, 2, 3]]\n", 4, "a UUID as words is [w1, w2, w3, w4], not 3 numbers" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    uuids: b4b5671e-4a90-4fe1-b81f-fb13dae1dacb\n", 4, "uuids must be a list" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    exception-level: el2\n", 4, "exception-level 'el2' is not el1, s-el0 or s-el1" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    exception-level: el1\n", 4, "an SP runs at s-el0 or s-el1, not el1" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    exception-level: s-el1\n", 4, "a VM runs at el1, not s-el1" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    vcpus: 0\n", 4, "vcpus 0 is out of range (1..2)" },
        { "pcpus: 2\npartitions:\n  - name: vm1\n    kind: vm\n    vcpus: 3\n", 5, "vcpus 3 is out of range (1..2)" },
        { "pcpus: 4\npartitions:\n  - name: sp1\n    kind: sp\n    vcpus: 3\n", 5, "SP 'sp1' has 3 vCPUs; an SP is UP (1 vCPU) or MP with one vCPU per pCPU (4)" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    exception-level: s-el0\n    vcpus: 2\n", 5, "SP 'sp1' runs at S-EL0, which has exactly one vCPU, not 2" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    rxtx-pages: 0\n", 4, "rxtx-pages 0 is out of range (1..16)" },
        { "personality: xen\npartitions:\n  - name: vm1\n    kind: vm\n    rxtx-pages: 2\n", 5, "rxtx-pages 2 is out of range (1..1)" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    ffa-version: \"2.0\"\n", 4, "ffa-version '2.0' is not one Firmament implements (1.0 to 1.2)" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    ffa-version: 1.3\n", 4, "ffa-version '1.3' is not one Firmament implements" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    properties: 0x10\n", 4, "properties 0x10 sets bits outside 0x7cf (bits 4-5, the ID type, are the SPMC's)" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    ffa-version: \"1.1\"\n    direct-request2-send: true\n", 5, "direct request 2 needs FF-A v1.2; partition 'vm1' is v1.1" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    notifications: yes\n", 4, "notifications must be true or false, not 'yes'" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    program: echoo\n", 4, "unknown program 'echoo' (known: demo-client, echo, faulty, gunyah-guest, gunyah-host, idle, mem-borrower, mem-lender, notify-receiver, notify-sender, server)" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    boot-order: 70000\n", 4, "boot-order 70000 is out of range (0..65535)" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    include-dirs: [x]\n", 4, "include-dirs only applies to a partition with a manifest" },

        // memory
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory: 4\n", 4, "memory must be a list, not '4'" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - ram\n", 5, "a memory region must be a mapping" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - { name: ram, base: 0x40000000, pages: 1, size: 4096 }\n", 5, "unknown key 'size' in a memory region (known: name, base, pages, access)" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - { name: ram, pages: 1 }\n", 5, "memory region 'ram' needs a base address" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - { name: ram, base: 0x40000800, pages: 1 }\n", 5, "base 0x40000800 is not 4 KiB aligned" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - { name: ram, base: 0x40000000, pages: 0 }\n", 5, "pages 0 is out of range" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - { name: ram, base: 0x40000000, pages: 1, access: wx }\n", 5, "access 'wx' is not r, rw, rx or rwx" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - { name: ram, base: 0x40000000, pages: 1 }\n      - { name: ram, base: 0x50000000, pages: 1 }\n", 6, "memory region 'ram' is given twice" },
        { "partitions:\n  - name: vm1\n    kind: vm\n    memory:\n      - { name: a, base: 0x40000000, pages: 16 }\n      - { name: b, base: 0x4000f000, pages: 1 }\n", 4, "partition 'vm1': memory regions 'a' (0x40000000, 16 pages) and 'b' (0x4000f000) overlap" },
        { "roles: kernel+spmc\npartitions:\n  - name: os\n    kind: kernel\n    memory: [{ name: ram, base: 0x40000000, pages: 16 }]\n", 5, "the kernel's memory region 'ram' (0x40000000, 16 pages) is outside normal RAM" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    memory: [{ name: big, base: 0x10000000, pages: 50000 }]\n", 1, "the SPs need 50002 pages of secure RAM; there are 40960" },
        { "partitions:\n  - name: sp1\n    kind: sp\n    memory: [{ name: a, base: 0x7000000, pages: 16 }]\n  - name: sp2\n    kind: sp\n    memory: [{ name: b, base: 0x7008000, pages: 1 }]\n", 7, "SP 'sp2' region 'b' (0x7008000) overlaps SP 'sp1' region 'a' (0x7000000..0x7010000); an SP's regions are physical memory" },

        // the platform as a whole
        { "partitions:\n" + Vm + "\n  - name: vm1\n    kind: vm\n", 3, "partition name 'vm1' is also the name at line 2" },
        { "partitions:\n  - { name: a, kind: vm, id: 3 }\n  - { name: b, kind: vm, id: 3 }\n", 3, "ID 0x0003 of 'b' is also 'a''s (line 2); give one an id:" },
        { "partitions:\n  - { name: a, kind: sp, boot-order: 1 }\n  - { name: b, kind: sp, boot-order: 1 }\n", 3, "boot-order 1 of 'b' is also 'a''s; SPs boot in a definite order" },
        { "roles: kernel+spmc\npartitions:\n" + Vm + "\n", 3, "partition 'vm1' is a VM, but roles kernel+spmc has no hypervisor to run VMs" },
        { "roles: hypervisor\npartitions:\n" + Sp + "\n", 3, "partition 'sp1' is an SP, but roles hypervisor has no SPMC" },
        { "partitions:\n  - { name: os, kind: kernel }\n", 2, "partition 'os' is a kernel, which only roles kernel+spmc has" },
        { "roles: kernel+spmc\npartitions:\n" + Sp + "\n", 1, "roles kernel+spmc needs one partition of kind kernel (the OS, endpoint 0)" },
        { "roles: kernel+spmc\npartitions:\n  - { name: a, kind: kernel }\n  - { name: b, kind: kernel }\n", 4, "roles kernel+spmc has exactly one kernel; 'a' is already it" },
        { "roles: kernel+spmc\npartitions:\n  - { name: os, kind: kernel, id: 3 }\n", 3, "the kernel is endpoint 0, not 0x0003" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void AnError_IsReportedAtItsLine(string yaml, int line, string expected)
    {
        var e = Should.Throw<PlatformFileException>(() => PlatformFile.Parse(yaml, "/platforms/p.yaml"));
        e.File.ShouldBe("/platforms/p.yaml");
        e.Line.ShouldBe(line);
        e.Reason.ShouldContain(expected);
        e.Message.ShouldStartWith($"/platforms/p.yaml:{line}: ");
    }

    public static TheoryData<string, int, string> ManifestErrors => new()
    {
        { "  - manifest: {cactus}\n    uuids: [b4b5671e-4a90-4fe1-b81f-fb13dae1dacb]\n", 4, "'uuids' comes from the manifest; a platform file may only set name, id, vcpus, boot-order, program, properties," },
        { "  - manifest: {cactus}\n    memory: []\n", 4, "'memory' comes from the manifest" },
        { "  - manifest: {cactus}\n    kind: vm\n", 4, "a partition with a manifest is an SP (kind: sp)" },
        { "  - manifest: cactus.txt\n", 3, "manifest 'cactus.txt' is not a .dts or .dtb file" },
        { "  - manifest: nowhere.dts\n", 3, "does not exist" },
        { "  - manifest: {cactus}\n    vcpus: 3\n", 4, "SP 'cactus' has 3 vCPUs; an SP is UP (1 vCPU) or MP with one vCPU per pCPU (8)" },
        { "  - manifest: {cactus}\n  - manifest: {optee}\n", 4, "ID 0x8001 (from " },
        { "  - manifest: {cactus}\n  - manifest: {secondary}\n    boot-order: 0\n", 5, "boot-order 0 of 'cactus-secondary' is also 'cactus''s" },
        { "  - manifest: {cactus}\n  - name: other\n    manifest: {cactus}\n    id: 0x8009\n    boot-order: 9\n", 4, "SP 'other' region 'image' (0x7000000) overlaps SP 'cactus' region 'image'" },
    };

    [Theory]
    [MemberData(nameof(ManifestErrors))]
    public void ManifestPartitionErrors_AreReportedAtTheirLine(string partitions, int line, string expected)
    {
        TestFiles.RequireTools();
        var yaml = "pcpus: 8\npartitions:\n" + partitions
            .Replace("{cactus}", TestFiles.Manifest("tf-a-tests/cactus.dts"), StringComparison.Ordinal)
            .Replace("{optee}", TestFiles.Manifest("optee/optee_sp_manifest.dts"), StringComparison.Ordinal)
            .Replace("{secondary}", TestFiles.Manifest("tf-a-tests/cactus-secondary.dts"), StringComparison.Ordinal);
        var e = Should.Throw<PlatformFileException>(() => PlatformFile.Parse(yaml, Path.Combine(TestFiles.Root, "p.yaml")));
        e.Line.ShouldBe(line);
        e.Reason.ShouldContain(expected);
    }

    [Fact]
    public void AnMpManifestSp_OnTooFewPcpus_SaysWhereItsCountCameFrom()
    {
        TestFiles.RequireTools();
        var yaml = $"pcpus: 2\npartitions:\n  - manifest: {TestFiles.Manifest("tf-a-tests/cactus.dts")}\n";
        var e = Should.Throw<PlatformFileException>(() => PlatformFile.Parse(yaml, "/p.yaml"));
        (e.Line, e.Reason).ShouldBe((3, "SP 'cactus' has 8 vCPUs (execution-ctx-count in its manifest); an SP is UP (1 vCPU) or MP with one vCPU per pCPU (2) — set pcpus: 8, or vcpus: for this partition"));
    }

    [Fact]
    public void AnErrorInsideAManifest_NamesTheManifestFileAndLine()
    {
        TestFiles.RequireTools();
        using var directory = new TempDirectory();
        directory.Write("sp/bad.dts", "/dts-v1/;\n/ {\n\tcompatible = \"arm,ffa-manifest-1.0\";\n\tffa-version = <0x10002>;\n\tuuid = <1 2 3>;\n};\n");
        var yaml = directory.Write("p.yaml", "partitions:\n  - manifest: sp/bad.dts\n");
        var e = Should.Throw<PlatformFileException>(() => PlatformLoader.Load(yaml));
        e.File.ShouldBe(Path.Combine(directory.Path, "sp", "bad.dts"));
        (e.Line, e.Reason).ShouldBe((5, "/uuid: uuid has 3 cells; each UUID is four cells <w1 w2 w3 w4> (a short entry cannot be told apart from the next one)"
            + $" (the manifest of the partition at {yaml}:2)"));
    }

    [Fact]
    public void PlatformLoader_RejectsManifestsAndOtherFiles_WithAMessage()
    {
        TestFiles.RequireTools();
        var manifest = Should.Throw<PlatformFileException>(() => PlatformLoader.Load(TestFiles.Manifest("tf-a-tests/cactus.dts")));
        manifest.Reason.ShouldBe("a partition manifest is not a platform: list it in a platform file (partitions: - manifest: cactus.dts) together with the VMs or kernel that use it; examples/cactus.yaml shows how");
        Should.Throw<PlatformFileException>(() => PlatformLoader.Load("/tmp/platform.json")).Reason.ShouldBe("'.json' is not a platform file type (a platform file is .yaml or .yml)");
        Should.Throw<PlatformFileException>(() => PlatformLoader.Load("/nonexistent/p.yaml")).Reason.ShouldStartWith("no such file");
        Should.Throw<PlatformFileException>(() => PlatformLoader.Load("/nonexistent/sp.dts")).Reason.ShouldBe("no such file");
    }
}
