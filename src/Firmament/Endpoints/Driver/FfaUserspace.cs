using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Endpoints.Driver;

/// <summary>A partition as userspace holds it: an opened handle (the file descriptor of a partition device), or <c>self</c>.</summary>
public sealed class PartitionHandle
{
    internal PartitionHandle(EndpointId id, FfaDevice? device)
    {
        Id = id;
        Device = device;
    }

    public EndpointId Id { get; }

    /// <summary>The device behind the handle; null for <c>self</c>.</summary>
    public FfaDevice? Device { get; }

    public bool IsSelf => Device is null;

    public override string ToString() => IsSelf ? $"self ({Id})" : Id.ToString();
}

/// <summary>
/// A userspace-style interface over the driver, the shape of an FF-A character device: every partition is a handle
/// (<see cref="Self"/> is one), memory is shared with several partitions in one call by passing their handles as
/// borrowers, and messages go to a partition's handle. A partition a kernel-side client driver has claimed is not
/// userspace's: opening or using it is a permission error (DENIED).
/// </summary>
public sealed class FfaUserspace
{
    private readonly FfaDriver _driver;

    public FfaUserspace(FfaDriver driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        _driver = driver;
        Self = new PartitionHandle(driver.Id, null);
    }

    public PartitionHandle Self { get; }

    /// <summary>Opens a partition: INVALID_PARAMETERS if the driver found no such partition, DENIED if a kernel-side driver claimed it.</summary>
    public (FfaStatus Status, PartitionHandle? Handle) Open(EndpointId id)
    {
        if (id == _driver.Id)
        {
            return (FfaStatus.Ok, Self);
        }

        if (_driver.Device(id) is not { } device)
        {
            return (new FfaStatus(FfaError.InvalidParameters), null);
        }

        return device.Driver is not null ? (new FfaStatus(FfaError.Denied), null) : (FfaStatus.Ok, new PartitionHandle(id, device));
    }

    /// <summary>
    /// Shares <paramref name="pages"/> pages of this endpoint's memory at <paramref name="address"/> with every
    /// borrower, read-write, in one transaction. <see cref="Self"/> among them is the FF-A error the partition manager
    /// gives (INVALID_PARAMETERS); a claimed partition is DENIED before anything is sent.
    /// </summary>
    public ValueTask<(FfaStatus Status, MemoryHandle Handle)> ShareAsync(ulong address, uint pages, params PartitionHandle[] borrowers)
    {
        ArgumentNullException.ThrowIfNull(borrowers);
        var access = new EndpointMemoryAccess[borrowers.Length];
        for (var i = 0; i < borrowers.Length; i++)
        {
            if (Claimed(borrowers[i]))
            {
                return ValueTask.FromResult((new FfaStatus(FfaError.Denied), default(MemoryHandle)));
            }

            access[i] = new EndpointMemoryAccess(borrowers[i].Id, MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified));
        }

        return _driver.Memory.ShareAsync(access, [new MemoryRegionConstituent(address, pages)]);
    }

    /// <summary>Takes shared memory back once every borrower has relinquished it.</summary>
    public ValueTask<FfaStatus> ReclaimAsync(MemoryHandle handle) => _driver.Memory.ReclaimAsync(handle);

    /// <summary>A direct request to the partition behind the handle, answered with its response.</summary>
    public ValueTask<DirectResponse> SendAsync(PartitionHandle to, DirectMessagePayload payload)
    {
        ArgumentNullException.ThrowIfNull(to);
        if (to.IsSelf)
        {
            return ValueTask.FromResult(new DirectResponse(new FfaStatus(FfaError.InvalidParameters), default));
        }

        return Claimed(to)
            ? ValueTask.FromResult(new DirectResponse(new FfaStatus(FfaError.Denied), default))
            : _driver.Messaging.SyncSendReceiveAsync(to.Device!, payload);
    }

    /// <summary>An indirect message to the partition behind the handle.</summary>
    public ValueTask<FfaStatus> SendIndirectAsync(PartitionHandle to, ReadOnlyMemory<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(to);
        return Claimed(to) ? ValueTask.FromResult(new FfaStatus(FfaError.Denied)) : _driver.Messaging.IndirectSendAsync(to.Id, payload);
    }

    /// <summary>Claimed since it was opened, too: the kernel-side driver wins.</summary>
    private static bool Claimed(PartitionHandle handle) => handle.Device?.Driver is not null;
}
