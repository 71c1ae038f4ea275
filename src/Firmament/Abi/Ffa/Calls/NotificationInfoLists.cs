using System.Diagnostics.CodeAnalysis;

namespace Firmament.Abi.Ffa.Calls;

// The FFA_NOTIFICATION_INFO_GET answer's list encoding (a packing rule, not an ABI):
//   x2/w2 bit 0      more pending: call again
//   bits 6:1         reserved, MBZ
//   bits 11:7        number of lists
//   bits 12+2k+1:12+2k  number of vCPU IDs in list k (0..3)
//   x3..x7 / w3..w7  the IDs, 16 bits each, in order: SMC64 four per register (at most 20), SMC32 two per
//                    register in the low word (at most 10).
// Each list is an endpoint ID followed by its vCPU IDs; a list with no vCPU IDs means global notifications are
// pending for that endpoint. A list of count c takes c + 1 ID slots. Early Linux got both of these wrong.

/// <summary>
/// One list of an INFO_GET answer: an endpoint, and the vCPUs with per-vCPU notifications pending (none means
/// global notifications are pending).
/// </summary>
public readonly struct NotificationInfoList : IEquatable<NotificationInfoList>
{
    /// <summary>The most vCPU IDs one list carries (a 2-bit count).</summary>
    public const int MaxVcpus = 3;

    private readonly Ids3 _vcpus;

    public NotificationInfoList(EndpointId endpoint, params ReadOnlySpan<ushort> vcpus)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vcpus.Length, MaxVcpus, nameof(vcpus));
        Endpoint = endpoint;
        VcpuCount = vcpus.Length;
        vcpus.CopyTo(_vcpus);
    }

    public EndpointId Endpoint { get; }

    public int VcpuCount { get; }

    /// <summary>No vCPU listed: global notifications are pending for the endpoint.</summary>
    public bool IsGlobal => VcpuCount == 0;

    /// <summary>The vCPUs with per-vCPU notifications pending.</summary>
    [UnscopedRef]
    public ReadOnlySpan<ushort> Vcpus => ((ReadOnlySpan<ushort>)_vcpus)[..VcpuCount];

    public bool Equals(NotificationInfoList other) => Endpoint == other.Endpoint && Vcpus.SequenceEqual(other.Vcpus);

    public override bool Equals(object? obj) => obj is NotificationInfoList other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Endpoint, SpanHash.Of(Vcpus));

    public static bool operator ==(NotificationInfoList left, NotificationInfoList right) => left.Equals(right);

    public static bool operator !=(NotificationInfoList left, NotificationInfoList right) => !left.Equals(right);

    public override string ToString() =>
        IsGlobal ? $"{Endpoint}: global" : $"{Endpoint}: vCPU {string.Join(", ", Vcpus.ToArray())}";
}

/// <summary>
/// The lists of one INFO_GET answer, as a value: built with <see cref="NotificationInfoListWriter"/>, read by
/// enumerating (<c>foreach (var list in lists)</c>). Allocation-free both ways. The IDs are kept as the SMC64 answer
/// carries them (four 16-bit slots per register), so that the SMC64 codec is a plain register copy.
/// </summary>
public readonly struct NotificationInfoLists : IEquatable<NotificationInfoLists>
{
    /// <summary>The most ID slots an SMC64 answer carries: x3..x7, four per register.</summary>
    public const int MaxIds = 20;

    /// <summary>The most ID slots an SMC32 answer carries: w3..w7, two per register.</summary>
    public const int MaxIds32 = 10;

    /// <summary>x2 bit 0: more notifications are pending than this answer lists.</summary>
    public const ulong MorePendingBit = 1;

    /// <summary>x2 bits 6:1, reserved.</summary>
    public const ulong ReservedMask = 0x7E;

    /// <summary>x2 bits 11:7: the number of lists.</summary>
    public const ulong ListCountMask = 0x1F << ListCountShift;

    internal const int ListCountShift = 7;
    internal const int CountsShift = 12;
    internal const int IdRegisters = 5;
    private const int FirstIdRegister = 3;

    private readonly Words5 _slots;
    private readonly ulong _counts;

    internal NotificationInfoLists(Words5 slots, ulong counts, int count, int idCount)
    {
        _slots = slots;
        _counts = counts;
        Count = count;
        IdCount = idCount;
    }

    /// <summary>The number of lists.</summary>
    public int Count { get; }

    /// <summary>The ID slots the lists take: each list's vCPU count + 1.</summary>
    public int IdCount { get; }

    /// <summary>The ID slots one answer carries in a convention: 20 (SMC64) or 10 (SMC32).</summary>
    public static int Capacity(bool is64) => is64 ? MaxIds : MaxIds32;

    public Enumerator GetEnumerator() => new(this);

    public bool Equals(NotificationInfoLists other) =>
        Count == other.Count && _counts == other._counts && Slots.SequenceEqual(other.Slots);

    public override bool Equals(object? obj) => obj is NotificationInfoLists other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Count, _counts, SpanHash.Of(Slots));

    public static bool operator ==(NotificationInfoLists left, NotificationInfoLists right) => left.Equals(right);

    public static bool operator !=(NotificationInfoLists left, NotificationInfoLists right) => !left.Equals(right);

    public override string ToString()
    {
        var parts = new List<string>(Count);
        foreach (var list in this)
        {
            parts.Add(list.ToString());
        }

        return "[" + string.Join("; ", parts) + "]";
    }

    [UnscopedRef]
    private ReadOnlySpan<ulong> Slots => _slots;

    /// <summary>
    /// Reads the lists from x2 (header) and x3..x7 (IDs). The reserved bits, counts past the last list and ID slots
    /// past the last ID are MBZ; the lists must fit the convention's slots.
    /// </summary>
    internal static bool TryDecode(in RegisterFrame frame, bool is64, out NotificationInfoLists lists, out bool morePending, out AbiViolation violation)
    {
        lists = default;
        var header = Wire.R(frame, 2, is64);
        morePending = (header & MorePendingBit) != 0;
        if ((header & ReservedMask) != 0)
        {
            violation = AbiViolation.Mbz(2, header & ReservedMask);
            return false;
        }

        var capacity = Capacity(is64);
        var count = (int)((header & ListCountMask) >> ListCountShift);
        if (count > capacity)
        {
            violation = AbiViolation.Range(2, header & ListCountMask);
            return false;
        }

        var countsMask = (1UL << (2 * count)) - 1;
        var counts = (header >> CountsShift) & countsMask;
        var beyond = header & ~((countsMask << CountsShift) | ListCountMask | ReservedMask | MorePendingBit);
        if (beyond != 0)
        {
            violation = AbiViolation.Mbz(2, beyond);
            return false;
        }

        // Each list takes its count + 1 slots: the sum of the 2-bit counts, plus one per list.
        var idCount = count + (int)(ulong.PopCount(counts & 0x5555_5555_5555_5555) + (2 * ulong.PopCount(counts & 0xAAAA_AAAA_AAAA_AAAA)));
        if (idCount > capacity)
        {
            violation = AbiViolation.Range(2, counts << CountsShift);
            return false;
        }

        var slots = default(Words5);
        var perRegister = is64 ? 4 : 2;
        var width = is64 ? ulong.MaxValue : uint.MaxValue;
        for (var r = 0; r < IdRegisters; r++)
        {
            var word = Wire.R(frame, FirstIdRegister + r, is64);
            var used = idCount - (r * perRegister);
            var unused = used <= 0 ? width : used >= perRegister ? 0 : width & (ulong.MaxValue << (16 * used));
            if ((word & unused) != 0)
            {
                violation = AbiViolation.Mbz(FirstIdRegister + r, word & unused);
                return false;
            }

            // SMC32 registers hold two slots each: two of them make one four-slot word.
            slots[is64 ? r : r / 2] |= is64 ? word : word << (32 * (r % 2));
        }

        violation = default;
        lists = new NotificationInfoLists(slots, counts, count, idCount);
        return true;
    }

    /// <summary>Writes x2..x7 of a frame already begun; the caller has checked that the lists fit.</summary>
    internal void Encode(ref RegisterFrame frame, bool morePending, bool is64)
    {
        frame[2] = (morePending ? MorePendingBit : 0) | ((ulong)Count << ListCountShift) | (_counts << CountsShift);
        for (var r = 0; r < IdRegisters; r++)
        {
            frame[FirstIdRegister + r] = is64 ? _slots[r] : (uint)(_slots[r / 2] >> (32 * (r % 2)));
        }
    }

    private ushort Slot(int slot) => (ushort)(_slots[slot / 4] >> (16 * (slot % 4)));

    /// <summary>Walks the lists in order without allocating.</summary>
    public struct Enumerator
    {
        private readonly NotificationInfoLists _lists;
        private int _index;
        private int _slot;

        internal Enumerator(NotificationInfoLists lists)
        {
            _lists = lists;
            _index = -1;
            _slot = 0;
            Current = default;
        }

        public NotificationInfoList Current { get; private set; }

        public bool MoveNext()
        {
            if (_index + 1 >= _lists.Count)
            {
                return false;
            }

            if (_index >= 0)
            {
                _slot += 1 + Current.VcpuCount;
            }

            _index++;
            var count = (int)((_lists._counts >> (2 * _index)) & 3);
            Span<ushort> vcpus = stackalloc ushort[NotificationInfoList.MaxVcpus];
            for (var i = 0; i < count; i++)
            {
                vcpus[i] = _lists.Slot(_slot + 1 + i);
            }

            Current = new NotificationInfoList(new EndpointId(_lists.Slot(_slot)), vcpus[..count]);
            return true;
        }
    }
}

/// <summary>
/// Builds the lists of an INFO_GET answer without allocating. Each <see cref="TryAdd"/> adds one list; it refuses
/// (returns false, changing nothing) a list with more than three vCPUs or one that would not fit the convention's
/// slots (10 for SMC32, 20 for SMC64) — the caller then sets "more pending" and lists the rest next time.
/// </summary>
public struct NotificationInfoListWriter
{
    private Words5 _slots;
    private ulong _counts;

    /// <summary>A writer for an answer in the given convention.</summary>
    public NotificationInfoListWriter(bool is64)
    {
        Is64 = is64;
        Capacity = NotificationInfoLists.Capacity(is64);
    }

    public bool Is64 { get; }

    /// <summary>ID slots available: 10 or 20 (0 for a default writer, which accepts nothing).</summary>
    public int Capacity { get; }

    /// <summary>Lists added so far.</summary>
    public int Count { get; private set; }

    /// <summary>ID slots used so far.</summary>
    public int IdCount { get; private set; }

    /// <summary>Adds a list: the endpoint, then its vCPUs (none = global notifications pending).</summary>
    public bool TryAdd(EndpointId endpoint, ReadOnlySpan<ushort> vcpus)
    {
        if (vcpus.Length > NotificationInfoList.MaxVcpus || IdCount + 1 + vcpus.Length > Capacity)
        {
            return false;
        }

        Put(endpoint.Value);
        foreach (var vcpu in vcpus)
        {
            Put(vcpu);
        }

        _counts |= (ulong)vcpus.Length << (2 * Count);
        Count++;
        return true;
    }

    /// <summary>The lists written so far, as a value.</summary>
    public readonly NotificationInfoLists ToLists() => new(_slots, _counts, Count, IdCount);

    /// <summary>The answer carrying the lists written so far.</summary>
    public readonly NotificationInfoGetSuccess ToSuccess(bool morePending) => new(Is64, morePending, ToLists());

    private void Put(ushort id)
    {
        _slots[IdCount / 4] |= (ulong)id << (16 * (IdCount % 4));
        IdCount++;
    }
}
