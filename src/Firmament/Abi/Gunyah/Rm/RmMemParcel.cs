using System.Buffers.Binary;

namespace Firmament.Abi.Gunyah.Rm;

/// <summary>A memory-parcel ACL entry's rights (valid sets: R, RX, RW, RWX).</summary>
[Flags]
public enum RmMemRights : byte
{
    None = 0,
    Execute = 1,
    Write = 2,
    Read = 4,
    ReadWrite = Read | Write,
    All = Read | Write | Execute,
}

/// <summary>How a parcel moves its pages (MEM_ACCEPT must name the parcel's).</summary>
public enum RmTransType : byte
{
    Donate = 0,
    Lend = 1,
    Share = 2,
}

/// <summary>MEM_ACCEPT flags. DONE is required (the RM refuses an accept without it: DENIED).</summary>
[Flags]
public enum RmAcceptFlags : byte
{
    None = 0,
    ValidateSanitized = 1,
    ValidateAclAttributes = 2,
    ValidateLabel = 4,
    MapOther = 8,
    MapContiguous = 16,
    Sanitize = 32,
    Done = 128,
}

/// <summary>One ACL entry: a VM and its rights.</summary>
public readonly record struct RmAclEntry(ushort Vmid, RmMemRights Rights);

/// <summary>One scatter-gather entry: an IPA range (page-aligned).</summary>
public readonly record struct RmSglEntry(ulong Ipa, ulong Size);

/// <summary>A MEM_SHARED notification as a recipient reads it (the owner's IPAs are not in it: sizes only).</summary>
public sealed record RmMemShared(uint Handle, byte MemType, RmTransType TransType, bool Sanitized, ushort Owner, uint Label, uint MemInfoTag, IReadOnlyList<RmAclEntry> Acl, IReadOnlyList<ulong> Sizes)
{
    /// <summary>Reads the notification's payload; false when it is too short for what it claims.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out RmMemShared shared)
    {
        shared = null!;
        if (payload.Length < 24)
        {
            return false;
        }

        var aclCount = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(payload[20..]), 512);
        var at = 24 + (aclCount * 4);
        if (payload.Length < at + 4)
        {
            return false;
        }

        var acl = new RmAclEntry[aclCount];
        for (var i = 0; i < aclCount; i++)
        {
            acl[i] = new RmAclEntry(BinaryPrimitives.ReadUInt16LittleEndian(payload[(24 + (i * 4))..]), (RmMemRights)payload[24 + (i * 4) + 2]);
        }

        var sizeCount = BinaryPrimitives.ReadUInt16LittleEndian(payload[at..]);
        if (payload.Length < at + 4 + (sizeCount * 8))
        {
            return false;
        }

        var sizes = new ulong[sizeCount];
        for (var i = 0; i < sizeCount; i++)
        {
            sizes[i] = BinaryPrimitives.ReadUInt64LittleEndian(payload[(at + 4 + (i * 8))..]);
        }

        shared = new RmMemShared(
            BinaryPrimitives.ReadUInt32LittleEndian(payload),
            payload[4],
            (RmTransType)payload[5],
            (payload[6] & 1) != 0,
            BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]),
            acl,
            sizes);
        return true;
    }
}
