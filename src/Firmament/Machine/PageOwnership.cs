using Firmament.Abi.Ffa;

namespace Firmament.Machine;

/// <summary>What the owner of a page can do with it now (the spec's owner states).</summary>
public enum OwnerState : byte
{
    /// <summary>Owner-EA: the owner alone has access; the page may be shared, lent or donated.</summary>
    Exclusive = 0,

    /// <summary>Owner-SA: shared; the owner keeps its access, borrowers may map it too.</summary>
    Shared,

    /// <summary>Owner-NA: lent or donated away; the owner's mapping stays but allows nothing (a contained fault).</summary>
    NoAccess,
}

/// <summary>How a grant moves its pages: the three FF-A transactions (and what a Gunyah memory parcel does).</summary>
public enum GrantKind : byte
{
    /// <summary>The owner keeps access.</summary>
    Share = 1,

    /// <summary>The owner loses access until the grant is closed.</summary>
    Lend = 2,

    /// <summary>The owner loses access for good; the first borrower to map it becomes the owner.</summary>
    Donate = 3,
}

/// <summary>A run of physically contiguous pages.</summary>
/// <param name="PhysicalPage">The first physical page number.</param>
/// <param name="Pages">How many pages.</param>
public readonly record struct PageRun(ulong PhysicalPage, ulong Pages);

/// <summary>One page as the ledger knows it.</summary>
/// <param name="Owner">The one endpoint that owns it.</param>
/// <param name="OwnerIpaPage">Where the owner maps it (IPA page number).</param>
/// <param name="OwnerAccess">The owner's access when it has the page to itself.</param>
/// <param name="State">What the owner can do now.</param>
/// <param name="Grant">The open grant covering the page, 0 if none (a page is in at most one grant).</param>
public readonly record struct PageRecord(EndpointId Owner, ulong OwnerIpaPage, Stage2Access OwnerAccess, OwnerState State, ulong Grant);

/// <summary>A borrower of a grant: what it may have, and whether it has it mapped now.</summary>
public sealed class GrantBorrower(EndpointId id)
{
    public EndpointId Id { get; } = id;

    /// <summary>Mapped in the borrower's stage-2 (retrieved and not relinquished).</summary>
    public bool Mapped { get; internal set; }

    /// <summary>The access it was mapped with (None while unmapped).</summary>
    public Stage2Access Access { get; internal set; }

    /// <summary>The IPA of each run in the borrower's space, when mapped.</summary>
    internal ulong[] Ipas { get; set; } = [];
}

/// <summary>An open grant: pages of one owner made available to borrowers under a key (an FF-A handle, a parcel ID).</summary>
public sealed class Grant
{
    internal Grant(ulong key, EndpointId owner, GrantKind kind, PageRun[] runs)
    {
        Key = key;
        Owner = owner;
        Kind = kind;
        Runs = runs;
    }

    public ulong Key { get; }

    public EndpointId Owner { get; }

    public GrantKind Kind { get; }

    public IReadOnlyList<PageRun> Runs { get; }

    public List<GrantBorrower> Borrowers { get; } = [];

    public bool AnyMapped => Borrowers.Exists(static b => b.Mapped);

    public GrantBorrower? Borrower(EndpointId id) => Borrowers.Find(b => b.Id == id);
}

/// <summary>
/// The ledger of physical pages: the single source of truth for who owns each page and who can reach it. Every
/// change goes through it, and it carries the change into the stage-2 maps of the endpoints concerned — so a map
/// never says something the ledger does not. It stands for both partition managers' page-table bookkeeping (the
/// hypervisor's for VMs, the SPMC's for SPs): FF-A memory sharing drives it, and a Gunyah memory-parcel
/// implementation can drive the same grants.
/// </summary>
/// <remarks>
/// The ledger checks nothing an endpoint could get wrong: callers (the partition managers) validate first with the
/// query methods (<see cref="OwnsExclusively"/>, <see cref="CanMap"/>) and then commit, which cannot fail. Borrowers
/// map at IPA = PA, as Hafnium maps memory it shares into a partition (identity).
/// </remarks>
public sealed class PageOwnership(PhysicalMemory memory)
{
    private readonly Dictionary<EndpointId, Stage2Map> _maps = [];
    private readonly Dictionary<ulong, PageRecord> _pages = [];
    private readonly Dictionary<ulong, Grant> _grants = [];

    public PhysicalMemory Memory { get; } = memory;

    /// <summary>Pages with an owner.</summary>
    public int OwnedPages => _pages.Count;

    public int OpenGrants => _grants.Count;

    public IEnumerable<Grant> Grants => _grants.Values;

    /// <summary>Makes an endpoint's stage-2 map known (the ledger changes it).</summary>
    public void Attach(EndpointId endpoint, Stage2Map map) => _maps[endpoint] = map;

    /// <summary>
    /// Records pages an endpoint owns from the start (its RAM): mapped at <paramref name="ipa"/> in its map already.
    /// A page that already has an owner keeps it (a region two partitions map belongs to the first).
    /// </summary>
    public void Claim(EndpointId owner, ulong ipa, ulong pa, ulong pages, Stage2Access access)
    {
        var first = pa >> PhysicalMemory.PageShift;
        var ipaFirst = ipa >> PhysicalMemory.PageShift;
        for (ulong i = 0; i < pages; i++)
        {
            _pages.TryAdd(first + i, new PageRecord(owner, ipaFirst + i, access, OwnerState.Exclusive, 0));
        }
    }

    public bool TryGetPage(ulong physicalPage, out PageRecord record) => _pages.TryGetValue(physicalPage, out record);

    public Grant? GrantOf(ulong key) => _grants.GetValueOrDefault(key);

    /// <summary>Whether <paramref name="owner"/> owns every page of the run with exclusive access, in no grant.</summary>
    public bool OwnsExclusively(EndpointId owner, PageRun run)
    {
        for (ulong i = 0; i < run.Pages; i++)
        {
            if (!_pages.TryGetValue(run.PhysicalPage + i, out var page) || page.Owner != owner || page.State != OwnerState.Exclusive || page.Grant != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the borrower's map has room for the grant's pages at IPA = PA.</summary>
    public bool CanMap(ulong key, EndpointId borrower)
    {
        if (!_grants.TryGetValue(key, out var grant) || !_maps.TryGetValue(borrower, out var map))
        {
            return false;
        }

        foreach (var run in grant.Runs)
        {
            for (ulong i = 0; i < run.Pages; i++)
            {
                if (map.TryGetEntry((run.PhysicalPage + i) << PhysicalMemory.PageShift, out _))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Opens a grant over pages <paramref name="owner"/> owns exclusively (checked by the caller): share keeps the
    /// owner's access, lend and donate take it away. Optionally zeroes the pages first.
    /// </summary>
    public Grant Open(ulong key, EndpointId owner, GrantKind kind, PageRun[] runs, ReadOnlySpan<EndpointId> borrowers, bool zero)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var grant = new Grant(key, owner, kind, runs);
        foreach (var b in borrowers)
        {
            grant.Borrowers.Add(new GrantBorrower(b));
        }

        _grants.Add(key, grant);
        var state = kind == GrantKind.Share ? OwnerState.Shared : OwnerState.NoAccess;
        foreach (var run in runs)
        {
            for (ulong i = 0; i < run.Pages; i++)
            {
                SetOwnerState(run.PhysicalPage + i, state, key);
            }

            if (zero)
            {
                Memory.ZeroPages(run.PhysicalPage, run.Pages);
            }
        }

        return grant;
    }

    /// <summary>Maps the grant's pages for a borrower (after <see cref="CanMap"/>) with <paramref name="access"/>.</summary>
    public void MapBorrower(ulong key, EndpointId borrowerId, Stage2Access access, bool zero)
    {
        var grant = _grants[key];
        var borrower = grant.Borrower(borrowerId)!;
        var map = _maps[borrowerId];
        var ipas = new ulong[grant.Runs.Count];
        for (var r = 0; r < grant.Runs.Count; r++)
        {
            var run = grant.Runs[r];
            var pa = run.PhysicalPage << PhysicalMemory.PageShift;
            if (zero)
            {
                Memory.ZeroPages(run.PhysicalPage, run.Pages);
            }

            map.TryMap(pa, pa, run.Pages, access);
            ipas[r] = pa;
        }

        borrower.Ipas = ipas;
        borrower.Access = access;
        borrower.Mapped = true;
    }

    /// <summary>Takes the grant's pages out of a borrower's map (relinquish); optionally zeroes them.</summary>
    public void UnmapBorrower(ulong key, EndpointId borrowerId, bool zero)
    {
        var grant = _grants[key];
        var borrower = grant.Borrower(borrowerId)!;
        var map = _maps[borrowerId];
        for (var r = 0; r < grant.Runs.Count; r++)
        {
            map.Unmap(borrower.Ipas[r], grant.Runs[r].Pages);
            if (zero)
            {
                Memory.ZeroPages(grant.Runs[r].PhysicalPage, grant.Runs[r].Pages);
            }
        }

        borrower.Ipas = [];
        borrower.Access = Stage2Access.None;
        borrower.Mapped = false;
    }

    /// <summary>Closes a grant no borrower has mapped (reclaim): the owner gets its pages back; optionally zeroed.</summary>
    public void Close(ulong key, bool zero)
    {
        var grant = _grants[key];
        foreach (var run in grant.Runs)
        {
            if (zero)
            {
                Memory.ZeroPages(run.PhysicalPage, run.Pages);
            }

            for (ulong i = 0; i < run.Pages; i++)
            {
                SetOwnerState(run.PhysicalPage + i, OwnerState.Exclusive, 0);
            }
        }

        _grants.Remove(key);
    }

    /// <summary>
    /// Donation completes: <paramref name="newOwner"/> (a borrower that has the pages mapped) owns them from now on,
    /// with its mapped access; the old owner's mapping is removed; the grant is gone.
    /// </summary>
    public void Transfer(ulong key, EndpointId newOwner)
    {
        var grant = _grants[key];
        var borrower = grant.Borrower(newOwner)!;
        var oldMap = _maps[grant.Owner];
        for (var r = 0; r < grant.Runs.Count; r++)
        {
            var run = grant.Runs[r];
            for (ulong i = 0; i < run.Pages; i++)
            {
                var page = _pages[run.PhysicalPage + i];
                oldMap.Unmap(page.OwnerIpaPage << PhysicalMemory.PageShift, 1);
                _pages[run.PhysicalPage + i] = new PageRecord(newOwner, (borrower.Ipas[r] >> PhysicalMemory.PageShift) + i, borrower.Access, OwnerState.Exclusive, 0);
            }
        }

        _grants.Remove(key);
    }

    /// <summary>
    /// Changes the access an owner has to pages it holds exclusively (MEM_PERM_SET), mapped at <paramref name="ipa"/>
    /// in its own map: the ledger's record and the map together. The caller checked they are its exclusive pages.
    /// </summary>
    public void SetOwnerAccess(EndpointId owner, ulong ipa, ulong pages, Stage2Access access)
    {
        var map = _maps[owner];
        for (ulong i = 0; i < pages; i++)
        {
            var at = ipa + (i << PhysicalMemory.PageShift);
            map.TryGetEntry(at, out var entry);
            _pages[entry.PhysicalPage] = _pages[entry.PhysicalPage] with { OwnerAccess = access };
        }

        map.TrySetAccess(ipa, pages, access);
    }

    /// <summary>
    /// Checks that every map agrees with the ledger: each owned page is mapped by its owner at its IPA with the access
    /// its state allows (or not at all once donated away), each mapped borrower sees the grant's pages with its
    /// access, every page of a grant names that grant, and no two grants share a page. Null when all hold, else what
    /// broke (for tests and the property test).
    /// </summary>
    public string? CheckInvariants()
    {
        foreach (var (pageNumber, page) in _pages)
        {
            if (page.Grant != 0 && !_grants.ContainsKey(page.Grant))
            {
                return $"page 0x{pageNumber:X} names grant 0x{page.Grant:X}, which is not open";
            }

            if (!_maps.TryGetValue(page.Owner, out var map))
            {
                continue;
            }

            var mapped = map.TryGetEntry(page.OwnerIpaPage << PhysicalMemory.PageShift, out var entry);
            var expected = page.State == OwnerState.NoAccess ? Stage2Access.None : page.OwnerAccess;
            if (!mapped || entry.PhysicalPage != pageNumber || entry.Access != expected)
            {
                return $"page 0x{pageNumber:X}: owner {page.Owner} should see it at IPA page 0x{page.OwnerIpaPage:X} with {expected}, its map says {(mapped ? entry.ToString() : "unmapped")}";
            }

            if (page.Grant == 0 && page.State != OwnerState.Exclusive)
            {
                return $"page 0x{pageNumber:X} is {page.State} in no grant";
            }
        }

        foreach (var grant in _grants.Values)
        {
            foreach (var run in grant.Runs)
            {
                for (ulong i = 0; i < run.Pages; i++)
                {
                    if (!_pages.TryGetValue(run.PhysicalPage + i, out var page) || page.Grant != grant.Key || page.Owner != grant.Owner)
                    {
                        return $"grant 0x{grant.Key:X} covers page 0x{run.PhysicalPage + i:X}, which the ledger does not give it";
                    }
                }
            }

            foreach (var borrower in grant.Borrowers)
            {
                if (!_maps.TryGetValue(borrower.Id, out var map))
                {
                    continue;
                }

                for (var r = 0; r < grant.Runs.Count; r++)
                {
                    var run = grant.Runs[r];
                    var ipa = run.PhysicalPage << PhysicalMemory.PageShift;
                    var mapped = map.TryGetEntry(borrower.Mapped ? borrower.Ipas[r] : ipa, out var entry);
                    if (borrower.Mapped != (mapped && entry.PhysicalPage == run.PhysicalPage && entry.Access == borrower.Access))
                    {
                        return $"grant 0x{grant.Key:X}: borrower {borrower.Id} is {(borrower.Mapped ? string.Empty : "not ")}mapped in the ledger, its map says {(mapped ? entry.ToString() : "unmapped")}";
                    }
                }
            }
        }

        return null;
    }

    private void SetOwnerState(ulong physicalPage, OwnerState state, ulong grant)
    {
        var page = _pages[physicalPage];
        _pages[physicalPage] = page with { State = state, Grant = grant };
        var wasOpen = page.State != OwnerState.NoAccess;
        var isOpen = state != OwnerState.NoAccess;
        if (wasOpen != isOpen && _maps.TryGetValue(page.Owner, out var map))
        {
            map.TrySetAccess(page.OwnerIpaPage << PhysicalMemory.PageShift, 1, state == OwnerState.NoAccess ? Stage2Access.None : page.OwnerAccess);
        }
    }
}
