using Firmament.Abi.Ffa;

namespace Firmament.Ffa;

/// <summary>
/// Sees a partition manager's notification bitmaps change at the exact points they change: a SET committing IDs, a
/// GET taking them. An independent ledger built from these must always agree with the bitmaps (see the explorer's
/// notification invariant).
/// </summary>
public interface INotificationObserver
{
    /// <summary>A SET made <paramref name="bits"/> of class <paramref name="cls"/> pending for <paramref name="receiver"/>.</summary>
    void Raised(PartitionManager manager, EndpointId receiver, SenderClass cls, ulong bits);

    /// <summary>A GET returned (and cleared) <paramref name="bits"/> of class <paramref name="cls"/> for <paramref name="receiver"/>.</summary>
    void Taken(PartitionManager manager, EndpointId receiver, SenderClass cls, ulong bits);
}
