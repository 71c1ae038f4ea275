namespace Firmament.Ffa;

/// <summary>
/// How one implementation answers where implementations differ. The default follows the FF-A v1.2 spec and Hafnium
/// where the spec is silent; the others are tables of differences, never forks of the code.
/// </summary>
public sealed record Personality
{
    public required string Name { get; init; }

    /// <summary>A VERSION asking for a newer minor than ours: answer our version (spec) or NOT_SUPPORTED (Hafnium).</summary>
    public bool RejectNewerMinorVersion { get; init; }

    /// <summary>
    /// Calls a VM makes before FFA_VERSION: served at our own version (Hafnium) or NOT_SUPPORTED (Xen). A hypervisor
    /// rule: the SPMC never refuses them (under Xen it is another implementation).
    /// </summary>
    public bool RequireVersionFirst { get; init; }

    /// <summary>Largest RX/TX buffer in 4 KiB pages that RXTX_MAP accepts.</summary>
    public uint MaxRxTxPages { get; init; } = 16;

    /// <summary>List the caller's own entry in PARTITION_INFO_GET for callers older than v1.2 (Linux before v1.2 refused it).</summary>
    public bool ListSelfBeforeV12 { get; init; }

    /// <summary>The spec, and Hafnium where the spec is silent.</summary>
    public static Personality Default { get; } = new() { Name = "default" };

    /// <summary>Hafnium as it answers today (newer-minor VERSION refused).</summary>
    public static Personality Hafnium { get; } = Default with { Name = "hafnium", RejectNewerMinorVersion = true };

    /// <summary>Xen's FF-A mediator: one-page buffers, VERSION first.</summary>
    public static Personality Xen { get; } = Default with { Name = "xen", RequireVersionFirst = true, MaxRxTxPages = 1 };

    public static IReadOnlyList<Personality> All { get; } = [Default, Hafnium, Xen];

    public static bool TryGet(string name, out Personality personality)
    {
        foreach (var p in All)
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                personality = p;
                return true;
            }
        }

        personality = Default;
        return false;
    }
}
