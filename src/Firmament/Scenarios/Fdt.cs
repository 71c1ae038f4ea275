using System.Buffers.Binary;
using System.Text;

namespace Firmament.Scenarios;

/// <summary>
/// A flattened device tree (DTB) read into a small tree of nodes and properties: what partition manifests compile to.
/// The blob is untrusted: every offset and length is checked before it is used, and anything malformed (bad magic, a
/// block outside the blob, a token the format does not define, a name without its NUL, a property outside a node, an
/// unbalanced tree, nesting deeper than <see cref="MaxDepth"/>) is a <see cref="PlatformFileException"/> naming the byte
/// offset and the node path — never another exception.
/// Reads versions 16 and 17 (and any later version that declares itself readable as 17). Ignores the memory
/// reservation block and the boot CPU field: manifests do not use them.
/// </summary>
public sealed class Fdt
{
    public const uint Magic = 0xD00D_FEED;

    /// <summary>Deepest nesting accepted (the root is depth 1). Manifests use 3; libfdt-based loaders stop near 32.</summary>
    public const int MaxDepth = 64;

    private const int HeaderSize = 40;
    private const int HeaderSizeV16 = 36;
    private const uint TokenBeginNode = 1;
    private const uint TokenEndNode = 2;
    private const uint TokenProp = 3;
    private const uint TokenNop = 4;
    private const uint TokenEnd = 9;

    private readonly Dictionary<uint, FdtNode> _phandles;

    private Fdt(string source, uint version, FdtNode root, Dictionary<uint, FdtNode> phandles)
    {
        Source = source;
        Version = version;
        Root = root;
        _phandles = phandles;
    }

    /// <summary>The file the blob came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The blob's format version (17 from dtc).</summary>
    public uint Version { get; }

    public FdtNode Root { get; }

    /// <summary>The node whose <c>phandle</c> (or legacy <c>linux,phandle</c>) property is <paramref name="phandle"/>.</summary>
    public bool TryGetNodeByPhandle(uint phandle, out FdtNode node) => _phandles.TryGetValue(phandle, out node!);

    /// <summary>The node at an absolute path such as <c>/memory-regions/rx-buffer</c>, or null.</summary>
    public FdtNode? Find(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] != '/')
        {
            return null;
        }

        var node = Root;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (node.Child(part) is not { } child)
            {
                return null;
            }

            node = child;
        }

        return node;
    }

    /// <summary>Reads a blob; a malformed one is a <see cref="PlatformFileException"/> for <paramref name="source"/>.</summary>
    public static Fdt Parse(ReadOnlySpan<byte> blob, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new Reader(blob, source).Read();
    }

    /// <summary>Reads a .dtb file (at most <see cref="PlatformLoader.MaxFileBytes"/> bytes).</summary>
    public static Fdt Load(string path) => Parse(PlatformLoader.ReadBytes(path), path);

    private ref struct Reader(ReadOnlySpan<byte> blob, string source)
    {
        private readonly ReadOnlySpan<byte> _blob = blob;
        private readonly string _source = source;

        public Fdt Read()
        {
            if (_blob.Length < HeaderSizeV16)
            {
                throw Fail(0, null, $"{_blob.Length} bytes is too short for a device tree header ({HeaderSize} bytes)");
            }

            var magic = U32(0);
            if (magic != Magic)
            {
                throw Fail(0, null, $"bad magic 0x{magic:x8} (a device tree blob starts with 0x{Magic:x8})");
            }

            var totalSize = U32(4);
            var offStruct = U32(8);
            var offStrings = U32(12);
            var version = U32(20);
            var lastCompatible = U32(24);
            var sizeStrings = U32(32);
            if (version < 16)
            {
                throw Fail(20, null, $"version {version} is too old (16 and 17 are read)");
            }

            if (lastCompatible > 17)
            {
                throw Fail(24, null, $"version {version} is only readable by readers of version {lastCompatible} (this one reads 17)");
            }

            var headerSize = version >= 17 ? HeaderSize : HeaderSizeV16;
            if (totalSize < headerSize || totalSize > (uint)_blob.Length)
            {
                throw Fail(4, null, $"total size {totalSize} does not fit the blob ({_blob.Length} bytes, header {headerSize})");
            }

            uint sizeStruct;
            if (version >= 17)
            {
                if (_blob.Length < HeaderSize)
                {
                    throw Fail(0, null, $"{_blob.Length} bytes is too short for a version 17 header ({HeaderSize} bytes)");
                }

                sizeStruct = U32(36);
            }
            else
            {
                sizeStruct = offStruct <= totalSize ? totalSize - offStruct : 0;
            }

            CheckBlock(8, "structure block", offStruct, sizeStruct, totalSize, headerSize);
            CheckBlock(12, "strings block", offStrings, sizeStrings, totalSize, headerSize);
            if (offStruct % 4 != 0)
            {
                throw Fail(8, null, $"structure block offset 0x{offStruct:x} is not 4-byte aligned");
            }

            var strings = _blob.Slice((int)offStrings, (int)sizeStrings);
            var structure = _blob.Slice(0, (int)(offStruct + sizeStruct));
            return ReadStructure(structure, (int)offStruct, strings, (int)offStrings, version);
        }

        private Fdt ReadStructure(ReadOnlySpan<byte> structure, int pos, ReadOnlySpan<byte> strings, int stringsBase, uint version)
        {
            var stack = new List<FdtNode>();
            var phandles = new Dictionary<uint, FdtNode>();
            FdtNode? root = null;
            while (true)
            {
                if (pos > structure.Length - 4)
                {
                    throw Fail(pos, Top(stack), "the structure block ends without an FDT_END token");
                }

                var token = BinaryPrimitives.ReadUInt32BigEndian(structure[pos..]);
                var tokenAt = pos;
                pos += 4;
                switch (token)
                {
                    case TokenNop:
                        break;

                    case TokenBeginNode:
                    {
                        var rest = structure[pos..];
                        var nul = rest.IndexOf((byte)0);
                        if (nul < 0)
                        {
                            throw Fail(pos, Top(stack), "a node name runs past the end of the structure block (no NUL)");
                        }

                        var name = rest[..nul];
                        if (stack.Count == 0)
                        {
                            if (root is not null)
                            {
                                throw Fail(tokenAt, "/", "a second root node");
                            }

                            if (name.Length != 0)
                            {
                                throw Fail(tokenAt, null, $"the root node has a name ('{Printable(name)}'); it must be empty");
                            }
                        }
                        else if (!IsName(name, allowAt: true))
                        {
                            throw Fail(pos, Top(stack), $"node name '{Printable(name)}' is empty or has characters a device tree name cannot have");
                        }

                        if (stack.Count >= MaxDepth)
                        {
                            throw Fail(tokenAt, Top(stack), $"nodes nest deeper than {MaxDepth}");
                        }

                        var parent = stack.Count > 0 ? stack[^1] : null;
                        var node = new FdtNode(Encoding.ASCII.GetString(name), parent);
                        if (parent is not null)
                        {
                            if (parent.Child(node.Name) is not null)
                            {
                                throw Fail(tokenAt, node.Path, "a second node with this path");
                            }

                            parent.AddChild(node);
                        }
                        else
                        {
                            root = node;
                        }

                        stack.Add(node);
                        pos = Align(pos + nul + 1);
                        break;
                    }

                    case TokenEndNode:
                        if (stack.Count == 0)
                        {
                            throw Fail(tokenAt, null, "FDT_END_NODE without a node to end");
                        }

                        stack.RemoveAt(stack.Count - 1);
                        break;

                    case TokenProp:
                    {
                        if (stack.Count == 0)
                        {
                            throw Fail(tokenAt, null, "a property outside any node");
                        }

                        var node = stack[^1];
                        if (pos > structure.Length - 8)
                        {
                            throw Fail(pos, node.Path, "a property header runs past the end of the structure block");
                        }

                        var length = BinaryPrimitives.ReadUInt32BigEndian(structure[pos..]);
                        var nameOffset = BinaryPrimitives.ReadUInt32BigEndian(structure[(pos + 4)..]);
                        pos += 8;
                        if (length > (uint)(structure.Length - pos))
                        {
                            throw Fail(pos - 8, node.Path, $"a property value of {length} bytes runs past the end of the structure block");
                        }

                        var name = PropertyName(strings, stringsBase, nameOffset, pos - 4, node.Path);
                        if (node.Property(name) is not null)
                        {
                            throw Fail(tokenAt, node.Path, $"a second property '{name}'");
                        }

                        var property = new FdtProperty(name, structure.Slice(pos, (int)length).ToArray(), node);
                        node.AddProperty(property);
                        if (name is "phandle" or "linux,phandle")
                        {
                            if (!property.TryGetU32(out var phandle) || phandle is 0 or 0xFFFF_FFFF)
                            {
                                throw Fail(pos, node.Path, $"'{name}' must be one cell other than 0 and 0xffffffff");
                            }

                            if (phandles.TryGetValue(phandle, out var other) && !ReferenceEquals(other, node))
                            {
                                throw Fail(pos, node.Path, $"phandle 0x{phandle:x} is also {other.Path}'s");
                            }

                            phandles[phandle] = node;
                        }

                        pos = Align(pos + (int)length);
                        break;
                    }

                    case TokenEnd:
                        if (stack.Count > 0)
                        {
                            throw Fail(tokenAt, Top(stack), "FDT_END inside an unfinished node");
                        }

                        if (root is null)
                        {
                            throw Fail(tokenAt, null, "the tree has no root node");
                        }

                        return new Fdt(_source, version, root, phandles);

                    default:
                        throw Fail(tokenAt, Top(stack), $"unknown token 0x{token:x8}");
                }

                if (pos > structure.Length)
                {
                    throw Fail(structure.Length, Top(stack), "a name or value runs past the end of the structure block");
                }
            }
        }

        private readonly string PropertyName(ReadOnlySpan<byte> strings, int stringsBase, uint nameOffset, int at, string path)
        {
            if (nameOffset >= (uint)strings.Length)
            {
                throw Fail(at, path, $"property name offset 0x{nameOffset:x} is outside the strings block ({strings.Length} bytes at 0x{stringsBase:x})");
            }

            var rest = strings[(int)nameOffset..];
            var nul = rest.IndexOf((byte)0);
            if (nul < 0)
            {
                throw Fail(at, path, $"property name at strings offset 0x{nameOffset:x} runs past the end of the strings block");
            }

            var name = rest[..nul];
            if (!IsName(name, allowAt: false) && !(name.Length > 0 && name[0] == (byte)'#' && IsName(name[1..], allowAt: false)))
            {
                throw Fail(at, path, $"property name '{Printable(name)}' is empty or has characters a device tree name cannot have");
            }

            return Encoding.ASCII.GetString(name);
        }

        private readonly void CheckBlock(int field, string what, uint offset, uint size, uint totalSize, int headerSize)
        {
            if (offset < headerSize || offset > totalSize || size > totalSize - offset)
            {
                throw Fail(field, null, $"the {what} (0x{offset:x}, {size} bytes) lies outside the blob's {totalSize} bytes");
            }
        }

        private readonly uint U32(int offset) => BinaryPrimitives.ReadUInt32BigEndian(_blob[offset..]);

        private readonly PlatformFileException Fail(int offset, string? path, string reason) =>
            new(_source, 0, $"malformed device tree blob at offset 0x{offset:x}{(path is null ? string.Empty : $" (in {path})")}: {reason}");

        private static string? Top(List<FdtNode> stack) => stack.Count > 0 ? stack[^1].Path : null;

        private static int Align(int pos) => (int)(((long)pos + 3) & ~3L);

        /// <summary>Node and property names: letters, digits and , . _ + - (node names also @); dtc enforces the same set.</summary>
        private static bool IsName(ReadOnlySpan<byte> name, bool allowAt)
        {
            if (name.IsEmpty)
            {
                return false;
            }

            foreach (var b in name)
            {
                var ok = b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                    or (byte)',' or (byte)'.' or (byte)'_' or (byte)'+' or (byte)'-' or (byte)'?' or (byte)'#'
                    || (allowAt && b == (byte)'@');
                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        private static string Printable(ReadOnlySpan<byte> bytes)
        {
            var text = new StringBuilder();
            foreach (var b in bytes[..Math.Min(bytes.Length, 40)])
            {
                text.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
            }

            return bytes.Length > 40 ? text + "…" : text.ToString();
        }
    }
}

/// <summary>A device tree node: its name (with any unit address), its path, properties and child nodes, in blob order.</summary>
public sealed class FdtNode
{
    private readonly List<FdtProperty> _properties = [];
    private readonly List<FdtNode> _children = [];

    internal FdtNode(string name, FdtNode? parent)
    {
        Name = name;
        Parent = parent;
        Path = parent is null ? "/" : parent.Parent is null ? "/" + name : parent.Path + "/" + name;
    }

    /// <summary>The node name, e.g. <c>rx-buffer</c> or <c>memory@0</c>; empty for the root.</summary>
    public string Name { get; }

    /// <summary>The absolute path, e.g. <c>/memory-regions/rx-buffer</c>.</summary>
    public string Path { get; }

    public FdtNode? Parent { get; }

    public IReadOnlyList<FdtProperty> Properties => _properties;

    public IReadOnlyList<FdtNode> Children => _children;

    public FdtProperty? Property(string name)
    {
        foreach (var property in _properties)
        {
            if (string.Equals(property.Name, name, StringComparison.Ordinal))
            {
                return property;
            }
        }

        return null;
    }

    public bool Has(string property) => Property(property) is not null;

    public FdtNode? Child(string name)
    {
        foreach (var child in _children)
        {
            if (string.Equals(child.Name, name, StringComparison.Ordinal))
            {
                return child;
            }
        }

        return null;
    }

    /// <summary>True when the node's <c>compatible</c> string list contains <paramref name="compatible"/>.</summary>
    public bool IsCompatible(string compatible) =>
        Property("compatible") is { } property && property.TryGetStrings(out var list) && list.Contains(compatible, StringComparer.Ordinal);

    internal void AddProperty(FdtProperty property) => _properties.Add(property);

    internal void AddChild(FdtNode child) => _children.Add(child);

    public override string ToString() => Path;
}

/// <summary>
/// A property: its name and raw value bytes, with typed readings that say whether the bytes have that shape
/// (big-endian cells, NUL-terminated strings) instead of throwing.
/// </summary>
public sealed class FdtProperty
{
    private readonly byte[] _value;

    internal FdtProperty(string name, byte[] value, FdtNode node)
    {
        Name = name;
        _value = value;
        Node = node;
    }

    public string Name { get; }

    public FdtNode Node { get; }

    public ReadOnlySpan<byte> Value => _value;

    public int Length => _value.Length;

    /// <summary>A property with no value (a boolean flag such as <c>notification-support;</c>).</summary>
    public bool IsEmpty => _value.Length == 0;

    /// <summary>Where it is, for messages: <c>/memory-regions/rx-buffer/pages-count</c>.</summary>
    public string Path => Node.Parent is null ? "/" + Name : Node.Path + "/" + Name;

    /// <summary>Exactly one 32-bit cell.</summary>
    public bool TryGetU32(out uint value)
    {
        value = 0;
        if (_value.Length != 4)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(_value);
        return true;
    }

    /// <summary>One cell, or two cells read as a 64-bit number (high cell first), as manifests write addresses.</summary>
    public bool TryGetNumber(out ulong value)
    {
        value = 0;
        switch (_value.Length)
        {
            case 4:
                value = BinaryPrimitives.ReadUInt32BigEndian(_value);
                return true;
            case 8:
                value = BinaryPrimitives.ReadUInt64BigEndian(_value);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Every 32-bit cell; false when the length is not a multiple of 4.</summary>
    public bool TryGetCells(out uint[] cells)
    {
        cells = [];
        if (_value.Length % 4 != 0)
        {
            return false;
        }

        cells = new uint[_value.Length / 4];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = BinaryPrimitives.ReadUInt32BigEndian(_value.AsSpan(4 * i));
        }

        return true;
    }

    /// <summary>Pairs of cells read as 64-bit numbers (high cell first); false unless the length is a multiple of 8.</summary>
    public bool TryGetU64s(out ulong[] values)
    {
        values = [];
        if (_value.Length % 8 != 0)
        {
            return false;
        }

        values = new ulong[_value.Length / 8];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt64BigEndian(_value.AsSpan(8 * i));
        }

        return true;
    }

    /// <summary>One NUL-terminated string with no NUL inside.</summary>
    public bool TryGetString(out string value)
    {
        value = string.Empty;
        if (!TryGetStrings(out var list) || list.Length != 1)
        {
            return false;
        }

        value = list[0];
        return true;
    }

    /// <summary>A string list: one or more NUL-terminated strings back to back.</summary>
    public bool TryGetStrings(out string[] values)
    {
        values = [];
        if (_value.Length == 0 || _value[^1] != 0)
        {
            return false;
        }

        var parts = new List<string>();
        var span = _value.AsSpan(0, _value.Length - 1);
        while (true)
        {
            var nul = span.IndexOf((byte)0);
            var part = nul < 0 ? span : span[..nul];
            if (!IsText(part))
            {
                return false;
            }

            parts.Add(Encoding.UTF8.GetString(part));
            if (nul < 0)
            {
                break;
            }

            span = span[(nul + 1)..];
        }

        values = [.. parts];
        return true;
    }

    /// <summary>A phandle reference (one cell) resolved to its node in <paramref name="tree"/>.</summary>
    public bool TryGetPhandleTarget(Fdt tree, out FdtNode target)
    {
        ArgumentNullException.ThrowIfNull(tree);
        target = null!;
        return TryGetU32(out var phandle) && tree.TryGetNodeByPhandle(phandle, out target);
    }

    /// <summary>The value as dtc would print it, shortened: cells, a string, or bytes — for messages.</summary>
    public string Describe()
    {
        if (_value.Length == 0)
        {
            return "empty";
        }

        if (TryGetStrings(out var strings))
        {
            return string.Join(", ", strings.Select(static s => $"\"{s}\""));
        }

        if (TryGetCells(out var cells))
        {
            var shown = string.Join(' ', cells.Take(8).Select(static c => $"0x{c:x}"));
            return $"<{shown}{(cells.Length > 8 ? " …" : string.Empty)}>";
        }

        return $"[{Convert.ToHexStringLower(_value.AsSpan(0, Math.Min(_value.Length, 16)))}{(_value.Length > 16 ? "…" : string.Empty)}] ({_value.Length} bytes)";
    }

    private static bool IsText(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b < 0x20 && b != (byte)'\t' && b != (byte)'\n' && b != (byte)'\r')
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString() => $"{Path} = {Describe()}";
}
