using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>Who may write an endpoint's RX buffer now.</summary>
public enum RxOwner : byte
{
    /// <summary>The partition manager (the producer): the buffer is free for the next message.</summary>
    Manager = 0,

    /// <summary>The endpoint (the consumer): a message or partition information waits to be read and released.</summary>
    Endpoint,

    /// <summary>At the SPMC, a VM's buffer the hypervisor took with FFA_RX_ACQUIRE to write into it itself.</summary>
    Hypervisor,
}

/// <summary>
/// An endpoint's RX/TX buffer pair as one partition manager sees it: where the buffers are (in the address space
/// the manager reaches them through), how large, and who owns RX.
/// </summary>
public sealed class Mailbox
{
    public bool IsMapped { get; private set; }

    public ulong TxAddress { get; private set; }

    public ulong RxAddress { get; private set; }

    public uint PageCount { get; private set; }

    /// <summary>The address space the addresses are in (the endpoint's own, or physical memory for forwarded maps).</summary>
    public AddressSpace? Space { get; private set; }

    public RxOwner RxOwner { get; internal set; }

    /// <summary>Size of each buffer in bytes.</summary>
    public int Size => (int)PageCount * PhysicalMemory.PageSize;

    /// <summary>Whether the manager may write into RX now.</summary>
    public bool RxFree => IsMapped && RxOwner == RxOwner.Manager;

    public void Map(AddressSpace space, ulong tx, ulong rx, uint pages)
    {
        Space = space;
        TxAddress = tx;
        RxAddress = rx;
        PageCount = pages;
        RxOwner = RxOwner.Manager;
        IsMapped = true;
    }

    public void Unmap()
    {
        IsMapped = false;
        Space = null;
        TxAddress = RxAddress = 0;
        PageCount = 0;
        RxOwner = RxOwner.Manager;
    }
}
