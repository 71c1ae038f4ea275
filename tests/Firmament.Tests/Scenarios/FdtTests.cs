using System.Buffers.Binary;
using System.Text;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

public class FdtTests
{
    private const string Source = """
        /dts-v1/;
        / {
            compatible = "arm,ffa-manifest-1.0", "vendor,extra";
            #address-cells = <2>;
            one = <0x12345678>;
            two = <0x00000001 0x80000000>;
            cells = <1 2 3>, <4>;
            text = "hello";
            flag;
            bytes = [de ad be ef 01];
            ref = <&target>;
            pair = /bits/ 64 <0x1122334455667788 0x99>;
            node@1000 {
                target: child {
                    value = <7>;
                };
            };
            empty { };
        };
        """;

    [Fact]
    public void DtcOutput_ReadsIntoTheTree()
    {
        var tree = Fdt.Parse(TestFiles.CompileDts(Source), "x.dtb");
        tree.Version.ShouldBe(17u);
        tree.Source.ShouldBe("x.dtb");
        var root = tree.Root;
        (root.Name, root.Path, root.Parent).ShouldBe((string.Empty, "/", (FdtNode?)null));
        root.Children.Select(static c => c.Path).ShouldBe(["/node@1000", "/empty"]);
        root.Child("node@1000")!.Child("child")!.Path.ShouldBe("/node@1000/child");
        root.IsCompatible("vendor,extra").ShouldBeTrue();
        root.IsCompatible("vendor").ShouldBeFalse();

        root.Property("compatible")!.TryGetStrings(out var compatible).ShouldBeTrue();
        compatible.ShouldBe(["arm,ffa-manifest-1.0", "vendor,extra"]);
        root.Property("#address-cells")!.TryGetU32(out var cells).ShouldBeTrue();
        cells.ShouldBe(2u);
        root.Property("one")!.TryGetU32(out var one).ShouldBeTrue();
        one.ShouldBe(0x12345678u);
        root.Property("one")!.TryGetNumber(out var oneNumber).ShouldBeTrue();
        oneNumber.ShouldBe(0x12345678UL);
        root.Property("two")!.TryGetNumber(out var two).ShouldBeTrue();
        two.ShouldBe(0x1_8000_0000UL);
        root.Property("two")!.TryGetU32(out _).ShouldBeFalse();
        root.Property("cells")!.TryGetCells(out var list).ShouldBeTrue();
        list.ShouldBe([1u, 2u, 3u, 4u]);
        root.Property("cells")!.TryGetNumber(out _).ShouldBeFalse();
        root.Property("text")!.TryGetString(out var text).ShouldBeTrue();
        text.ShouldBe("hello");
        root.Property("text")!.TryGetU32(out _).ShouldBeFalse();
        root.Property("compatible")!.TryGetString(out _).ShouldBeFalse(); // a list of two is not one string
        root.Property("flag")!.IsEmpty.ShouldBeTrue();
        root.Property("bytes")!.Value.ToArray().ShouldBe(new byte[] { 0xde, 0xad, 0xbe, 0xef, 0x01 });
        root.Property("bytes")!.TryGetCells(out _).ShouldBeFalse();
        root.Property("bytes")!.TryGetStrings(out _).ShouldBeFalse();
        root.Property("pair")!.TryGetU64s(out var pair).ShouldBeTrue();
        pair.ShouldBe([0x1122334455667788UL, 0x99UL]);

        root.Property("ref")!.TryGetPhandleTarget(tree, out var target).ShouldBeTrue();
        target.Path.ShouldBe("/node@1000/child");
        target.Property("value")!.Path.ShouldBe("/node@1000/child/value");
        tree.Find("/node@1000/child").ShouldBeSameAs(target);
        tree.Find("/").ShouldBeSameAs(root);
        tree.Find("/missing").ShouldBeNull();
        tree.Find("relative").ShouldBeNull();
        root.Property("text")!.Describe().ShouldBe("\"hello\"");
        root.Property("cells")!.Describe().ShouldBe("<0x1 0x2 0x3 0x4>");
        root.Property("bytes")!.Describe().ShouldBe("[deadbeef01] (5 bytes)");
        root.Property("flag")!.Describe().ShouldBe("empty");
    }

    [Fact]
    public void HandBuiltBlob_WithNopsAndVersion16_Reads()
    {
        var blob = new BlobWriter().Begin("").Nop().Prop("a", Cell(5)).Begin("n").Nop().End().End().Finish(version: 16);
        var tree = Fdt.Parse(blob, "b");
        tree.Version.ShouldBe(16u);
        tree.Root.Property("a")!.TryGetU32(out var a).ShouldBeTrue();
        a.ShouldBe(5u);
        tree.Root.Child("n").ShouldNotBeNull();
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "offset 0x0: 8 bytes is too short for a device tree header", new byte[8] },
        { "offset 0x0: bad magic 0x00000000", new byte[64] },
        { "offset 0x14: version 15 is too old", new BlobWriter().Begin("").End().Finish(version: 15) },
        { "offset 0x18: version 18 is only readable by readers of version 18", new BlobWriter().Begin("").End().Finish(version: 18, lastCompatible: 18) },
        { "offset 0x4: total size 4096 does not fit the blob", new BlobWriter().Begin("").End().Finish(totalSize: 4096) },
        { "offset 0x8: the structure block (0x38, 4000 bytes) lies outside", new BlobWriter().Begin("").End().Finish(structSize: 4000) },
        { "offset 0xc: the strings block", new BlobWriter().Begin("").End().Finish(stringsOffset: 0x7000_0000) },
        { "(in /): unknown token 0x00000007", new BlobWriter().Begin("").Token(7).End().Finish() },
        { "a property outside any node", new BlobWriter().Prop("a", Cell(1)).Finish() },
        { "FDT_END_NODE without a node to end", new BlobWriter().End().Finish() },
        { "(in /): FDT_END inside an unfinished node", new BlobWriter().Begin("").Finish() },
        { "the tree has no root node", new BlobWriter().Finish() },
        { "(in /): a second root node", new BlobWriter().Begin("").End().Begin("").End().Finish() },
        { "the root node has a name ('x')", new BlobWriter().Begin("x").End().Finish() },
        { "(in /): node name 'a b' is empty or has characters", new BlobWriter().Begin("").Begin("a b").End().End().Finish() },
        { "(in /n): a second node with this path", new BlobWriter().Begin("").Begin("n").End().Begin("n").End().End().Finish() },
        { "(in /): a second property 'a'", new BlobWriter().Begin("").Prop("a", Cell(1)).Prop("a", Cell(2)).End().Finish() },
        { "(in /): property name offset 0x100 is outside the strings block", new BlobWriter().Begin("").PropAt(0x100, Cell(1)).End().Finish() },
        { "(in /): a property value of 4096 bytes runs past the end", new BlobWriter().Begin("").PropLength("a", 4096).End().Finish() },
        { "(in /): 'phandle' must be one cell other than 0", new BlobWriter().Begin("").Prop("phandle", Cell(0)).End().Finish() },
        { "(in /b): phandle 0x1 is also /a's", new BlobWriter().Begin("").Begin("a").Prop("phandle", Cell(1)).End().Begin("b").Prop("phandle", Cell(1)).End().End().Finish() },
        { "the structure block ends without an FDT_END token", new BlobWriter().Begin("").End().Finish(withEnd: false) },
        { $"nodes nest deeper than {Fdt.MaxDepth}", Nested(Fdt.MaxDepth + 1) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedBlob_IsAPlatformFileException_NamingOffsetAndNode(string expected, byte[] blob)
    {
        var e = Should.Throw<PlatformFileException>(() => Fdt.Parse(blob, "bad.dtb"));
        (e.File, e.Line).ShouldBe(("bad.dtb", 0));
        e.Reason.ShouldStartWith("malformed device tree blob at ");
        e.Reason.ShouldContain(expected);
    }

    [Fact]
    public void NestingAtTheLimit_IsRead()
    {
        var tree = Fdt.Parse(Nested(Fdt.MaxDepth), "deep.dtb");
        var depth = 1;
        for (var node = tree.Root; node.Children.Count > 0; node = node.Children[0])
        {
            depth++;
        }

        depth.ShouldBe(Fdt.MaxDepth);
    }

    /// <summary>Every truncation of a real blob is an answer: a tree or a PlatformFileException, never another exception.</summary>
    [Fact]
    public void EveryTruncation_IsReadOrRejected()
    {
        var blob = TestFiles.CompileDts(Source);
        for (var length = 0; length < blob.Length; length++)
        {
            ParseOrReject(blob.AsSpan(0, length).ToArray());
        }
    }

    /// <summary>Every byte of a real blob set to a few telling values, then random multi-byte damage (seeded).</summary>
    [Fact]
    public void Corruption_IsReadOrRejected()
    {
        var blob = TestFiles.CompileDts(Source);
        byte[] values = [0x00, 0x01, 0x02, 0x03, 0x04, 0x09, 0x7F, 0x80, 0xFF];
        for (var i = 0; i < blob.Length; i++)
        {
            foreach (var value in values)
            {
                var copy = (byte[])blob.Clone();
                copy[i] = value;
                ParseOrReject(copy);
            }
        }

        var random = new Random(1234);
        for (var round = 0; round < 5000; round++)
        {
            var copy = (byte[])blob.Clone();
            for (var hits = random.Next(1, 8); hits > 0; hits--)
            {
                copy[random.Next(copy.Length)] = (byte)random.Next(256);
            }

            ParseOrReject(copy);
        }
    }

    private static void ParseOrReject(byte[] blob)
    {
        try
        {
            var tree = Fdt.Parse(blob, "fuzz.dtb");
            foreach (var node in Walk(tree.Root))
            {
                foreach (var property in node.Properties)
                {
                    property.Describe();
                    property.TryGetStrings(out _);
                    property.TryGetPhandleTarget(tree, out _);
                }
            }
        }
        catch (PlatformFileException e)
        {
            e.Reason.ShouldStartWith("malformed device tree blob at offset 0x");
        }
    }

    private static IEnumerable<FdtNode> Walk(FdtNode node)
    {
        yield return node;
        foreach (var child in node.Children)
        {
            foreach (var descendant in Walk(child))
            {
                yield return descendant;
            }
        }
    }

    private static byte[] Nested(int depth)
    {
        var writer = new BlobWriter().Begin("");
        for (var i = 1; i < depth; i++)
        {
            writer.Begin("n");
        }

        for (var i = 0; i < depth; i++)
        {
            writer.End();
        }

        return writer.Finish();
    }

    private static byte[] Cell(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>Writes a blob token by token, with header fields that can be made wrong on purpose.</summary>
    private sealed class BlobWriter
    {
        private readonly List<byte> _structure = [];
        private readonly List<byte> _strings = [];

        public BlobWriter Token(uint token)
        {
            Word(token);
            return this;
        }

        public BlobWriter Begin(string name)
        {
            Word(1);
            _structure.AddRange(Encoding.ASCII.GetBytes(name));
            _structure.Add(0);
            Pad();
            return this;
        }

        public BlobWriter End() => Token(2);

        public BlobWriter Nop() => Token(4);

        public BlobWriter Prop(string name, byte[] value) => PropAt(NameOffset(name), value);

        public BlobWriter PropAt(uint nameOffset, byte[] value)
        {
            Word(3);
            Word((uint)value.Length);
            Word(nameOffset);
            _structure.AddRange(value);
            Pad();
            return this;
        }

        public BlobWriter PropLength(string name, uint length)
        {
            Word(3);
            Word(length);
            Word(NameOffset(name));
            return this;
        }

        public byte[] Finish(uint version = 17, uint lastCompatible = 16, uint? totalSize = null, uint? structSize = null, uint? stringsOffset = null, bool withEnd = true)
        {
            if (withEnd)
            {
                Word(9);
            }

            const int header = 40;
            var reserve = header;
            var structOffset = reserve + 16; // an empty memory reservation block (one zero pair)
            var stringsAt = structOffset + _structure.Count;
            var total = stringsAt + _strings.Count;
            var blob = new byte[total];
            void Put(int at, uint value) => BinaryPrimitives.WriteUInt32BigEndian(blob.AsSpan(at), value);
            Put(0, Fdt.Magic);
            Put(4, totalSize ?? (uint)total);
            Put(8, (uint)structOffset);
            Put(12, stringsOffset ?? (uint)stringsAt);
            Put(16, (uint)reserve);
            Put(20, version);
            Put(24, lastCompatible);
            Put(28, 0);
            Put(32, (uint)_strings.Count);
            Put(36, structSize ?? (uint)_structure.Count);
            _structure.CopyTo(blob, structOffset);
            _strings.CopyTo(blob, stringsAt);
            return blob;
        }

        private uint NameOffset(string name)
        {
            var offset = (uint)_strings.Count;
            _strings.AddRange(Encoding.ASCII.GetBytes(name));
            _strings.Add(0);
            return offset;
        }

        private void Word(uint value)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
            _structure.AddRange(bytes.ToArray());
        }

        private void Pad()
        {
            while (_structure.Count % 4 != 0)
            {
                _structure.Add(0);
            }
        }
    }
}
