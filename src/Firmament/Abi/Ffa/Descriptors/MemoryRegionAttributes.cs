namespace Firmament.Abi.Ffa.Descriptors;

/// <summary>Memory region attributes bits 1:0.</summary>
public enum Shareability : byte
{
    NonShareable = 0,
    Reserved = 1,
    OuterShareable = 2,
    InnerShareable = 3,
}

/// <summary>Memory region attributes bits 3:2 for normal memory.</summary>
public enum Cacheability : byte
{
    Reserved0 = 0,
    NonCacheable = 1,
    Reserved2 = 2,
    WriteBack = 3,
}

/// <summary>Memory region attributes bits 3:2 for device memory (Arm's gathering/reordering/early-ack letters).</summary>
public enum DeviceMemoryType : byte
{
    nGnRnE = 0,
    nGnRE = 1,
    nGRE = 2,
    GRE = 3,
}

/// <summary>Memory region attributes bits 5:4.</summary>
public enum MemoryType : byte
{
    NotSpecified = 0,
    Device = 1,
    Normal = 2,
    Reserved = 3,
}

/// <summary>
/// Memory region attributes of a memory transaction: u8 at offset 2 in the v1.0 header, u16 in v1.1+. Bits 1:0
/// shareability, 3:2 cacheability (normal) or device type (device), 5:4 memory type, 6 NS (v1.1, only in a retrieve
/// response), the rest MBZ. Normal, write-back, inner shareable is <c>0x2F</c>.
/// </summary>
public readonly record struct MemoryRegionAttributes(ushort Value)
{
    /// <summary>Bit 6: the memory is non-secure (set by the SPMC in a retrieve response to a secure borrower).</summary>
    public const ushort NonSecureBit = 1 << 6;

    /// <summary>Bits that must be zero in a v1.1+ header (15:7).</summary>
    public const ushort MbzMaskV1_1 = 0xFF80;

    /// <summary>Bits that must be zero in a v1.0 header (7:6 of the u8 field; its upper byte is the reserved byte 3).</summary>
    public const ushort MbzMaskV1_0 = 0xFFC0;

    public static MemoryRegionAttributes NotSpecified => default;

    public Shareability Shareability => (Shareability)(Value & 3);

    public Cacheability Cacheability => (Cacheability)((Value >> 2) & 3);

    public DeviceMemoryType DeviceType => (DeviceMemoryType)((Value >> 2) & 3);

    public MemoryType Type => (MemoryType)((Value >> 4) & 3);

    public bool NonSecure => (Value & NonSecureBit) != 0;

    public static MemoryRegionAttributes Normal(Cacheability cacheability, Shareability shareability) =>
        new((ushort)(((uint)MemoryType.Normal << 4) | (((uint)cacheability & 3) << 2) | ((uint)shareability & 3)));

    public static MemoryRegionAttributes Device(DeviceMemoryType type) =>
        new((ushort)(((uint)MemoryType.Device << 4) | (((uint)type & 3) << 2)));

    public MemoryRegionAttributes WithNonSecure(bool nonSecure) =>
        new((ushort)(nonSecure ? Value | NonSecureBit : Value & ~NonSecureBit));

    /// <summary>The MBZ bits of this field for a layout and shape (NS is MBZ in a send and a retrieve request).</summary>
    public static ushort MbzMask(FfaVersion layout, MtdShape shape)
    {
        var mask = DescriptorLayout.Of(layout) == LayoutGeneration.V1_0 ? MbzMaskV1_0 : MbzMaskV1_1;
        return shape is MtdShape.Send or MtdShape.RetrieveRequest ? (ushort)(mask | NonSecureBit) : mask;
    }

    /// <summary><c>normal, write-back, inner shareable</c>; <c>device nGnRnE</c>; <c>not specified</c>.</summary>
    public override string ToString()
    {
        var text = Type switch
        {
            MemoryType.NotSpecified => "not specified",
            MemoryType.Device => $"device {DeviceType}",
            MemoryType.Normal => $"normal, {CacheabilityText(Cacheability)}, {ShareabilityText(Shareability)}",
            _ => "reserved memory type",
        };
        if (NonSecure)
        {
            text += ", NS";
        }

        var mbz = Value & MbzMaskV1_1;
        return mbz != 0 ? $"{text}, MBZ bits 0x{mbz:X}" : text;
    }

    private static string CacheabilityText(Cacheability c) => c switch
    {
        Cacheability.NonCacheable => "non-cacheable",
        Cacheability.WriteBack => "write-back",
        _ => $"reserved cacheability {(int)c}",
    };

    private static string ShareabilityText(Shareability s) => s switch
    {
        Shareability.NonShareable => "non-shareable",
        Shareability.OuterShareable => "outer shareable",
        Shareability.InnerShareable => "inner shareable",
        _ => "reserved shareability",
    };
}

/// <summary>EMAD permissions bits 1:0.</summary>
public enum DataAccess : byte
{
    NotSpecified = 0,
    ReadOnly = 1,
    ReadWrite = 2,
    Reserved = 3,
}

/// <summary>EMAD permissions bits 3:2.</summary>
public enum InstructionAccess : byte
{
    NotSpecified = 0,
    NotExecutable = 1,
    Executable = 2,
    Reserved = 3,
}

/// <summary>
/// Memory access permissions (byte 2 of an EMAD): data access bits 1:0, instruction access bits 3:2, bits 7:4
/// reserved. RO = 0x1, RW = 0x2, NX = 0x4, X = 0x8.
/// </summary>
public readonly record struct MemoryAccessPermissions(byte Value)
{
    /// <summary>Bits 7:4.</summary>
    public const byte MbzMask = 0xF0;

    public DataAccess Data => (DataAccess)(Value & 3);

    public InstructionAccess Instruction => (InstructionAccess)((Value >> 2) & 3);

    public static MemoryAccessPermissions Of(DataAccess data, InstructionAccess instruction) =>
        new((byte)((((uint)instruction & 3) << 2) | ((uint)data & 3)));

    /// <summary><c>RW, NX</c>; <c>RO, X</c>; <c>data unspecified, instruction unspecified</c>.</summary>
    public override string ToString()
    {
        var data = Data switch
        {
            DataAccess.ReadOnly => "RO",
            DataAccess.ReadWrite => "RW",
            DataAccess.NotSpecified => "data unspecified",
            _ => "data reserved",
        };
        var instruction = Instruction switch
        {
            InstructionAccess.NotExecutable => "NX",
            InstructionAccess.Executable => "X",
            InstructionAccess.NotSpecified => "instruction unspecified",
            _ => "instruction reserved",
        };
        var mbz = Value & MbzMask;
        return mbz != 0 ? $"{data}, {instruction}, MBZ bits 0x{mbz:X}" : $"{data}, {instruction}";
    }
}

/// <summary>
/// EMAD flags (byte 3 of an EMAD): bit 0 marks a non-retrieval borrower, meaningful only in a retrieve request or
/// response with several borrowers (MBZ in a send); bits 7:1 MBZ.
/// </summary>
public readonly record struct EmadFlags(byte Value)
{
    public const byte NonRetrievalBorrowerBit = 1;

    public bool NonRetrievalBorrower => (Value & NonRetrievalBorrowerBit) != 0;

    public static EmadFlags None => default;

    public static byte MbzMask(MtdShape shape) => shape == MtdShape.Send ? (byte)0xFF : (byte)0xFE;

    public override string ToString() => Value switch
    {
        0 => "none",
        NonRetrievalBorrowerBit => "non-retrieval borrower",
        _ => NonRetrievalBorrower ? $"non-retrieval borrower, MBZ bits 0x{Value & 0xFE:X}" : $"MBZ bits 0x{Value:X}",
    };
}

/// <summary>Transaction type, flags bits 4:3 of a retrieve request (expected) or response (actual).</summary>
public enum MemoryTransactionType : byte
{
    Unspecified = 0,
    Share = 1,
    Lend = 2,
    Donate = 3,
}

/// <summary>
/// The flags word at offset 4 of a memory transaction descriptor. What each bit means depends on the
/// <see cref="MtdShape"/>:
/// send — bit 0 zero memory before mapping in the receiver, bit 1 time slicing;
/// retrieve request — bit 0 zero before retrieval, bit 1 time slicing, bit 2 zero after relinquish, bits 4:3
/// expected transaction type, bits 8:5 alignment hint (2^n pages) valid with bit 9, bit 10 (v1.2) bypass the
/// multiple-borrower check;
/// retrieve response — bits 4:0 as granted (bit 0 zeroed, bit 2 zero after relinquish, bits 4:3 the type).
/// Every other bit is MBZ.
/// </summary>
public readonly record struct MemoryTransactionFlags(uint Value)
{
    public const uint ZeroMemoryBit = 1u << 0;
    public const uint TimeSliceBit = 1u << 1;
    public const uint ZeroAfterRelinquishBit = 1u << 2;
    public const uint AlignmentHintValidBit = 1u << 9;
    public const uint BypassMultipleBorrowerCheckBit = 1u << 10;

    public static MemoryTransactionFlags None => default;

    /// <summary>Bit 0: zero the memory (before mapping for a send; before retrieval in a request).</summary>
    public bool ZeroMemory => (Value & ZeroMemoryBit) != 0;

    /// <summary>Bit 1: the operation may be time-sliced.</summary>
    public bool TimeSlice => (Value & TimeSliceBit) != 0;

    /// <summary>Bit 2 (retrieve request and response): zero the memory after relinquish.</summary>
    public bool ZeroAfterRelinquish => (Value & ZeroAfterRelinquishBit) != 0;

    /// <summary>Bits 4:3 (retrieve request and response).</summary>
    public MemoryTransactionType TransactionType => (MemoryTransactionType)((Value >> 3) & 3);

    /// <summary>Bits 8:5 (retrieve request): alignment hint, as the log2 of a page count.</summary>
    public int AlignmentHint => (int)((Value >> 5) & 0xF);

    /// <summary>Bit 9 (retrieve request): <see cref="AlignmentHint"/> is valid.</summary>
    public bool AlignmentHintValid => (Value & AlignmentHintValidBit) != 0;

    /// <summary>Bit 10 (v1.2 retrieve request): bypass the multiple-borrower check.</summary>
    public bool BypassMultipleBorrowerCheck => (Value & BypassMultipleBorrowerCheckBit) != 0;

    public static MemoryTransactionFlags ForSend(bool zeroMemory = false, bool timeSlice = false) =>
        new((zeroMemory ? ZeroMemoryBit : 0) | (timeSlice ? TimeSliceBit : 0));

    public static MemoryTransactionFlags ForRetrieveRequest(
        MemoryTransactionType type = MemoryTransactionType.Unspecified,
        bool zeroBeforeRetrieve = false,
        bool timeSlice = false,
        bool zeroAfterRelinquish = false,
        int? alignmentHint = null,
        bool bypassMultipleBorrowerCheck = false)
    {
        var value = (zeroBeforeRetrieve ? ZeroMemoryBit : 0)
            | (timeSlice ? TimeSliceBit : 0)
            | (zeroAfterRelinquish ? ZeroAfterRelinquishBit : 0)
            | (((uint)type & 3) << 3)
            | (bypassMultipleBorrowerCheck ? BypassMultipleBorrowerCheckBit : 0);
        if (alignmentHint is { } hint)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(hint, nameof(alignmentHint));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(hint, 15, nameof(alignmentHint));
            value |= ((uint)hint << 5) | AlignmentHintValidBit;
        }

        return new MemoryTransactionFlags(value);
    }

    public static MemoryTransactionFlags ForRetrieveResponse(
        MemoryTransactionType type, bool zeroed = false, bool zeroAfterRelinquish = false) =>
        new((zeroed ? ZeroMemoryBit : 0) | (zeroAfterRelinquish ? ZeroAfterRelinquishBit : 0) | (((uint)type & 3) << 3));

    /// <summary>
    /// The MBZ bits for a shape and layout: send 31:2, retrieve request 31:10 (31:11 from v1.2, which adds the bypass
    /// bit), retrieve response 31:5. A hypervisor retrieve request follows the retrieve request rule.
    /// </summary>
    public static uint MbzMask(MtdShape shape, FfaVersion layout) => shape switch
    {
        MtdShape.Send => ~0x3u,
        MtdShape.RetrieveResponse => ~0x1Fu,
        _ => DescriptorLayout.Of(layout) >= LayoutGeneration.V1_2 ? ~0x7FFu : ~0x3FFu,
    };

    /// <summary>
    /// The flags in words, read with the meanings of <paramref name="shape"/>; MBZ bits are those of
    /// <paramref name="layout"/> (the newest layout when not given).
    /// </summary>
    public string Describe(MtdShape shape, FfaVersion? layout = null)
    {
        var parts = new List<string>();
        switch (shape)
        {
            case MtdShape.Send:
                if (ZeroMemory)
                {
                    parts.Add("zero memory");
                }

                if (TimeSlice)
                {
                    parts.Add("time-sliced");
                }

                break;
            case MtdShape.RetrieveResponse:
                if (ZeroMemory)
                {
                    parts.Add("zeroed before retrieve");
                }

                if (ZeroAfterRelinquish)
                {
                    parts.Add("zero after relinquish");
                }

                parts.Add($"type {TypeText(TransactionType)}");
                break;
            default:
                if (ZeroMemory)
                {
                    parts.Add("zero before retrieve");
                }

                if (TimeSlice)
                {
                    parts.Add("time-sliced");
                }

                if (ZeroAfterRelinquish)
                {
                    parts.Add("zero after relinquish");
                }

                parts.Add($"expects {TypeText(TransactionType)}");
                if (AlignmentHintValid)
                {
                    parts.Add($"alignment hint 2^{AlignmentHint} pages");
                }

                if (BypassMultipleBorrowerCheck)
                {
                    parts.Add("bypass multiple-borrower check");
                }

                break;
        }

        var mbz = Value & MbzMask(shape, layout ?? FfaVersion.Latest);
        if (mbz != 0)
        {
            parts.Add($"MBZ bits 0x{mbz:X}");
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private static string TypeText(MemoryTransactionType type) => type switch
    {
        MemoryTransactionType.Share => "share",
        MemoryTransactionType.Lend => "lend",
        MemoryTransactionType.Donate => "donate",
        _ => "any type",
    };
}
