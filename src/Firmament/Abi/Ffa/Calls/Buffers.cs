using System.Runtime.CompilerServices;

namespace Firmament.Abi.Ffa.Calls;

// Fixed-size storage for the calls that carry more than a few scalars. Each is wrapped by a public readonly type
// that gives it value equality; none is exposed as is.

[InlineArray(DirectMessage2Payload.Count)]
internal struct Words14
{
    private ulong _element;
}

[InlineArray(PartitionInfoRegsDescriptors.Count)]
internal struct Words15
{
    private ulong _element;
}

[InlineArray(ConsoleLogText.MaxLength)]
internal struct Bytes128
{
    private byte _element;
}

[InlineArray(NotificationInfoLists.IdRegisters)]
internal struct Words5
{
    private ulong _element;
}

[InlineArray(NotificationInfoList.MaxVcpus)]
internal struct Ids3
{
    private ushort _element;
}

/// <summary>Hash codes over spans, for the value types that wrap fixed-size storage.</summary>
internal static class SpanHash
{
    public static int Of<T>(ReadOnlySpan<T> values)
    {
        var hash = default(HashCode);
        foreach (var value in values)
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }
}
