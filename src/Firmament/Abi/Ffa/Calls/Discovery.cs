namespace Firmament.Abi.Ffa.Calls;

// Discovery: FFA_VERSION, FFA_FEATURES, FFA_ID_GET, FFA_SPM_ID_GET, FFA_PARTITION_INFO_GET, FFA_PARTITION_INFO_GET_REGS.
// Their answers (VERSION's bare w0, and the SUCCESS views) are in Returns.cs.
// Limits, stated once:
// - VERSION is read as v1.2 defines it: w2 (v1.3's query flags) is MBZ.
// - FEATURES input properties are kept as a raw word: v1.2 defines them only for FFA_MEM_RETRIEVE_REQ (bit 1).
// - Every register an ABI does not use (up to w7/x7) is MBZ here, which is what makes decode-then-encode exact.

/// <summary>
/// FFA_VERSION (SMC32 only): w1 = the caller's version (bit 31 MBZ). Named <c>VersionCall</c> rather than
/// <c>Version</c> so that it never collides with <see cref="System.Version"/>.
/// </summary>
public readonly record struct VersionCall(FfaVersion Requested) : IFfaMessage<VersionCall>
{
    public static FfaFunction Abi => FfaFunction.Version;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out VersionCall value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.Version, out violation)
            || !Wire.Word(frame, 1, FfaVersion.MbzBit, false, out violation)
            || !Wire.Unused(frame, 2, false, out violation))
        {
            return false;
        }

        FfaVersion.TryDecode(frame.W(1), out var requested);
        value = new VersionCall(requested);
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.AtMost(Requested.Major, 0x7FFF, nameof(Requested));
        Wire.Begin(ref frame, FfaFunction.Version, false);
        frame[1] = Requested.Encode();
    }
}

/// <summary>FFA_FEATURES feature IDs (w1 with bit 31 clear).</summary>
public enum FfaFeature : byte
{
    /// <summary>NPI: the notification pending interrupt's ID (virtual instances).</summary>
    NotificationPendingInterrupt = 1,

    /// <summary>SRI: the schedule receiver interrupt's ID (the normal-world scheduler).</summary>
    ScheduleReceiverInterrupt = 2,

    /// <summary>MEI: the managed exit interrupt's ID (SPs).</summary>
    ManagedExitInterrupt = 3,
}

/// <summary>
/// What FFA_FEATURES asks about, as w1 carries it: a function ID (bit 31 set) or a feature ID (bit 31 clear,
/// bits 30:8 MBZ, bits 7:0 the feature).
/// </summary>
public readonly record struct FeatureQuery(uint Value)
{
    /// <summary>Bits that must be zero in a feature ID.</summary>
    public const uint FeatureIdMbz = 0x7FFF_FF00;

    /// <summary>Bit 31 clear: a feature ID rather than a function ID.</summary>
    public bool IsFeature => (Value & FunctionId.FastBit) == 0;

    /// <summary>The feature asked about (meaningful when <see cref="IsFeature"/>).</summary>
    public FfaFeature Feature => (FfaFeature)(byte)Value;

    /// <summary>The function asked about (meaningful when not <see cref="IsFeature"/>).</summary>
    public FunctionId Function => new(Value);

    public static FeatureQuery Of(FfaFunction function, bool is64 = false) => new(Wire.Id(function, is64));

    public static FeatureQuery Of(FfaFeature feature) => new((uint)feature);

    public override string ToString() => IsFeature ? $"feature {(byte)Value}" : Function.ToString();
}

/// <summary>
/// FFA_FEATURES (SMC32 only): w1 = function or feature ID, w2 = input properties (MBZ for a feature ID).
/// </summary>
public readonly record struct Features(FeatureQuery Query, uint InputProperties) : IFfaMessage<Features>
{
    /// <summary>FFA_MEM_RETRIEVE_REQ input property: the caller understands the NS bit in memory attributes.</summary>
    public const uint NsBitHandling = 1u << 1;

    public static FfaFunction Abi => FfaFunction.Features;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out Features value, out AbiViolation violation)
    {
        value = default;
        var query = new FeatureQuery(frame.W(1));
        if (!Wire.Is32(frame, FfaFunction.Features, out violation)
            || (query.IsFeature
                && (!Wire.Word(frame, 1, FeatureQuery.FeatureIdMbz, false, out violation)
                    || !Wire.Word(frame, 2, uint.MaxValue, false, out violation)))
            || !Wire.Unused(frame, 3, false, out violation))
        {
            return false;
        }

        value = new Features(query, frame.W(2));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        if (Query.IsFeature)
        {
            Wire.Only(Query.Value, 0xFF, nameof(Query));
            Wire.Only(InputProperties, 0, nameof(InputProperties));
        }

        Wire.Begin(ref frame, FfaFunction.Features, false);
        frame[1] = Query.Value;
        frame[2] = InputProperties;
    }
}

/// <summary>FFA_ID_GET (SMC32 only): no arguments; the answer is <see cref="IdGetSuccess"/>.</summary>
public readonly record struct IdGet : IFfaMessage<IdGet>
{
    public static FfaFunction Abi => FfaFunction.IdGet;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out IdGet value, out AbiViolation violation)
    {
        value = default;
        return Wire.Is32(frame, FfaFunction.IdGet, out violation) && Wire.Unused(frame, 1, false, out violation);
    }

    public void Encode(ref RegisterFrame frame) => Wire.Begin(ref frame, FfaFunction.IdGet, false);
}

/// <summary>FFA_SPM_ID_GET (v1.1, SMC32 only): no arguments; the answer is <see cref="IdGetSuccess"/>.</summary>
public readonly record struct SpmIdGet : IFfaMessage<SpmIdGet>
{
    public static FfaFunction Abi => FfaFunction.SpmIdGet;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out SpmIdGet value, out AbiViolation violation)
    {
        value = default;
        return Wire.Is32(frame, FfaFunction.SpmIdGet, out violation) && Wire.Unused(frame, 1, false, out violation);
    }

    public void Encode(ref RegisterFrame frame) => Wire.Begin(ref frame, FfaFunction.SpmIdGet, false);
}

/// <summary>FFA_PARTITION_INFO_GET flags (w5).</summary>
[Flags]
public enum PartitionInfoGetFlags : uint
{
    None = 0,

    /// <summary>Bit 0 (v1.1): return only the count; nothing is written and the RX buffer is not acquired.</summary>
    CountOnly = 1,
}

/// <summary>
/// FFA_PARTITION_INFO_GET (SMC32 only): w1..w4 = the UUID (byte 0 in w1 bits 7:0; Nil = all partitions),
/// w5 = flags (bit 0 count only; bits 31:1 MBZ).
/// </summary>
public readonly record struct PartitionInfoGet(Uuid Uuid, PartitionInfoGetFlags Flags) : IFfaMessage<PartitionInfoGet>
{
    /// <summary>Bits of w5 that must be zero.</summary>
    public const uint FlagsMbz = ~(uint)PartitionInfoGetFlags.CountOnly;

    public static FfaFunction Abi => FfaFunction.PartitionInfoGet;

    public static CallConventions Conventions => CallConventions.Smc32;

    public static bool TryDecode(in RegisterFrame frame, out PartitionInfoGet value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is32(frame, FfaFunction.PartitionInfoGet, out violation)
            || !Wire.Word(frame, 5, FlagsMbz, false, out violation)
            || !Wire.Unused(frame, 6, false, out violation))
        {
            return false;
        }

        value = new PartitionInfoGet(
            Uuid.FromWords(frame.W(1), frame.W(2), frame.W(3), frame.W(4)),
            (PartitionInfoGetFlags)frame.W(5));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Only((uint)Flags, ~FlagsMbz, nameof(Flags));
        Wire.Begin(ref frame, FfaFunction.PartitionInfoGet, false);
        var (w1, w2, w3, w4) = Uuid.ToWords();
        frame[1] = w1;
        frame[2] = w2;
        frame[3] = w3;
        frame[4] = w4;
        frame[5] = (uint)Flags;
    }
}

/// <summary>
/// FFA_PARTITION_INFO_GET_REGS (v1.2, SMC64 only): x1/x2 = the UUID (byte 0 in x1 bits 7:0), x3 = start index in
/// bits 15:0 and information tag in bits 31:16 (bits 63:32 MBZ). The answer is <see cref="PartitionInfoGetRegsSuccess"/>.
/// </summary>
public readonly record struct PartitionInfoGetRegs(Uuid Uuid, ushort StartIndex, ushort Tag) : IFfaMessage<PartitionInfoGetRegs>
{
    public static FfaFunction Abi => FfaFunction.PartitionInfoGetRegs;

    public static CallConventions Conventions => CallConventions.Smc64;

    public static bool TryDecode(in RegisterFrame frame, out PartitionInfoGetRegs value, out AbiViolation violation)
    {
        value = default;
        if (!Wire.Is64(frame, FfaFunction.PartitionInfoGetRegs, out violation)
            || !Wire.Word(frame, 3, 0, true, out violation)
            || !Wire.Unused(frame, 4, true, out violation))
        {
            return false;
        }

        var x3 = frame.W(3);
        value = new PartitionInfoGetRegs(new Uuid(Wire.X(frame, 1), Wire.X(frame, 2)), Halves.Low(x3), Halves.High(x3));
        return true;
    }

    public void Encode(ref RegisterFrame frame)
    {
        Wire.Begin(ref frame, FfaFunction.PartitionInfoGetRegs, true);
        frame[1] = Uuid.Low;
        frame[2] = Uuid.High;
        frame[3] = Halves.Pack(Tag, StartIndex);
    }
}

/// <summary>How the describer reads the discovery calls.</summary>
internal static class DiscoveryDescriber
{
    public static void Version(Describing d)
    {
        var word = d.W(1);
        var valid = FfaVersion.TryDecode(word, out var version);
        d.Field("version", word, valid ? version.ToString() : "not a version");
        d.Field("major", version.Major);
        d.Field("minor", version.Minor);
        if (!valid)
        {
            d.Warn("bit 31 of the version is MBZ: not a version");
        }

        d.Unused(2);
    }

    public static void Features(Describing d)
    {
        var query = new FeatureQuery(d.W(1));
        if (query.IsFeature)
        {
            d.Field("feature_id", query.Value, FeatureName(query.Feature));
            d.MbzWord(1, FeatureQuery.FeatureIdMbz);
            d.Field("input_properties", d.W(2));
            if (d.W(2) != 0)
            {
                d.Warn("w2: input properties are MBZ with a feature ID");
            }
        }
        else
        {
            var asked = FfaFunctions.TryClassify(query.Value, out var info, out var is64);
            d.Field("function_id", query.Value, asked ? info.Name + (is64 ? "_64" : "_32") : "not an FF-A function");
            var retrieve = asked && info.Function == FfaFunction.MemRetrieveReq;
            d.Field("input_properties", d.W(2), retrieve ? Describing.FlagText(d.W(2), (Calls.Features.NsBitHandling, "NS bit handling")) : string.Empty);
            d.MbzWord(2, retrieve ? ~Calls.Features.NsBitHandling : uint.MaxValue);
        }

        d.Unused(3);
    }

    public static void PartitionInfoGet(Describing d)
    {
        d.Uuid(Uuid.FromWords(d.W(1), d.W(2), d.W(3), d.W(4)));
        var flags = d.W(5);
        d.Field("flags", flags, Describing.FlagText(flags, ((ulong)PartitionInfoGetFlags.CountOnly, "count only")));
        d.Field("count_only", flags & 1);
        d.MbzWord(5, Calls.PartitionInfoGet.FlagsMbz);
        if ((flags & 1) != 0)
        {
            d.Since(FfaVersion.V1_1, "the count-only flag (w5 bit 0)");
        }

        d.Unused(6);
    }

    public static void PartitionInfoGetRegs(Describing d)
    {
        d.Uuid(new Uuid(d.X(1), d.X(2)));
        var start = Halves.Low(d.W(3));
        var tag = Halves.High(d.W(3));
        d.Field("start_index", start);
        d.Field("tag", tag);
        d.MbzWord(3, 0);
        if (start == 0 && tag != 0)
        {
            d.Warn("a non-zero tag with start index 0: the first call passes tag 0 (Xen: INVALID_PARAMETERS, Hafnium: RETRY)");
        }

        d.Unused(4);
    }

    private static string FeatureName(FfaFeature feature) => feature switch
    {
        FfaFeature.NotificationPendingInterrupt => "NPI (notification pending interrupt)",
        FfaFeature.ScheduleReceiverInterrupt => "SRI (schedule receiver interrupt)",
        FfaFeature.ManagedExitInterrupt => "MEI (managed exit interrupt)",
        _ => "not a v1.2 feature",
    };
}
