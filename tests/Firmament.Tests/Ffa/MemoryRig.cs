using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Tests.Ffa;

/// <summary>
/// A platform for memory-sharing tests: partitions without code, booted, whose calls the test makes one at a time
/// straight into the partition manager that serves them (every memory call completes at once), and helpers that
/// write descriptors into TX buffers and read what comes back.
/// </summary>
internal sealed class MemoryRig
{
    public static readonly MemoryRegionAttributes NormalWb = MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable);

    public MemoryRig(PlatformRoles roles, Personality? personality, params PartitionConfig[] partitions)
    {
        Platform = Platform.Build(new PlatformDescription { Roles = roles, Pcpus = 1, Partitions = partitions, Personality = personality ?? Personality.Default }, new TraceRecorder { Enabled = false });
        Platform.Boot();
        Platform.Run(1_000_000);
    }

    public MemoryRig(params PartitionConfig[] partitions)
        : this(PlatformRoles.HypervisorAndSpmc, null, partitions)
    {
    }

    public Platform Platform { get; }

    public PageOwnership Pages => Platform.Pages;

    /// <summary>vm1, vm2, vm3 (v1.2) and sp1, sp2: the usual cast.</summary>
    public static MemoryRig Standard(Personality? personality = null, FfaVersion? vm1Version = null, FfaVersion? vm2Version = null) =>
        new(PlatformRoles.HypervisorAndSpmc, personality, Vm("vm1", 1, vm1Version), Vm("vm2", 2, vm2Version), Vm("vm3", 3), Sp("sp1", 0x8001), Sp("sp2", 0x8002));

    public static PartitionConfig Vm(string name, ushort id, FfaVersion? version = null) =>
        Rig.Vm(name, id, null, version: version);

    public static PartitionConfig Sp(string name, ushort id) => Rig.Sp(name, id, null) with { Uuids = [Uuid.Parse($"{id:x8}-0000-0000-0000-000000000000")] };

    public EndpointId Id(string name) => Platform[name].Id;

    /// <summary>One call by the partition's first vCPU, answered by its manager.</summary>
    public RegisterFrame Call(string who, RegisterFrame frame)
    {
        var vcpu = Platform[who].Vcpus[0];
        vcpu.Handler.Call(vcpu, ref frame);
        return frame;
    }

    public void MapBuffers(string who)
    {
        Call(who, RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.Version), Platform[who].Config.Version.Encode()));
        var buffers = Platform.BuffersOf(Id(who));
        var frame = default(RegisterFrame);
        new RxTxMap(true, buffers.Tx, buffers.Rx, buffers.Pages).Encode(ref frame);
        var answer = Call(who, frame);
        if (Rig.ErrorOf(answer) is { } error)
        {
            throw new InvalidOperationException($"RXTX_MAP for {who}: {error}");
        }
    }

    public void MapAll()
    {
        foreach (var p in Platform.Partitions)
        {
            MapBuffers(p.Name);
        }
    }

    /// <summary>The IPA of the partition's RAM.</summary>
    public ulong Ram(string who) => Platform[who].Config.Kind switch
    {
        PartitionKind.Sp => Platform.DefaultSpRam,
        PartitionKind.Kernel => Platform.DefaultKernelRam,
        _ => Platform.DefaultVmRam,
    };

    public ulong Pa(string who, ulong ipa) =>
        Platform[who].Memory.Stage2.TryTranslate(ipa, Stage2Access.None, out var pa, out _) ? pa : throw new InvalidOperationException($"{who}: 0x{ipa:X} unmapped");

    public Stage2Access Access(string who, ulong ipa) =>
        Platform[who].Memory.Stage2.TryGetEntry(ipa, out var entry) ? entry.Access : Stage2Access.None;

    public bool IsMapped(string who, ulong ipa) => Platform[who].Memory.Stage2.TryGetEntry(ipa, out _);

    public void WriteTx(string who, ReadOnlySpan<byte> bytes)
    {
        var buffers = Platform.BuffersOf(Id(who));
        Platform[who].Memory.TryWrite(buffers.Tx, bytes, out var fault).ShouldBeTrueOr(fault.ToString());
    }

    public byte[] ReadRx(string who, int length)
    {
        var bytes = new byte[length];
        Platform[who].Memory.TryRead(Platform.BuffersOf(Id(who)).Rx, bytes, out _);
        return bytes;
    }

    public static MemoryTransactionDescriptor Descriptor(EndpointId sender, MemoryRegionAttributes attributes, IEnumerable<EndpointMemoryAccess> receivers, IEnumerable<MemoryRegionConstituent> constituents, MemoryTransactionFlags flags = default, ulong tag = 0)
    {
        var d = new MemoryTransactionDescriptor { Header = new MemoryTransactionHeader(sender, attributes, flags, default, tag) };
        d.Receivers.AddRange(receivers);
        d.Constituents.AddRange(constituents);
        return d;
    }

    public static EndpointMemoryAccess Rw(EndpointId id) => new(id, MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified));

    public static EndpointMemoryAccess Ro(EndpointId id) => new(id, MemoryAccessPermissions.Of(DataAccess.ReadOnly, InstructionAccess.NotSpecified));

    public static EndpointMemoryAccess Unspecified(EndpointId id) => new(id, default);

    /// <summary>Writes the descriptor in the caller's layout into its TX buffer and makes the send call.</summary>
    public RegisterFrame Send(string who, FfaFunction function, MemoryTransactionDescriptor descriptor, bool is64 = true)
    {
        var bytes = descriptor.Encode(Platform[who].Config.Version, MtdShape.Send);
        WriteTx(who, bytes);
        return SendRaw(who, function, (uint)bytes.Length, (uint)bytes.Length, is64);
    }

    public RegisterFrame SendRaw(string who, FfaFunction function, uint total, uint fragment, bool is64 = true, ulong address = 0, uint pages = 0)
    {
        var frame = default(RegisterFrame);
        var transaction = new MemoryTransaction(total, fragment, address, pages);
        switch (function)
        {
            case FfaFunction.MemShare:
                new MemShare(is64, transaction).Encode(ref frame);
                break;
            case FfaFunction.MemLend:
                new MemLend(is64, transaction).Encode(ref frame);
                break;
            case FfaFunction.MemDonate:
                new MemDonate(is64, transaction).Encode(ref frame);
                break;
            default:
                new MemRetrieveReq(is64, transaction).Encode(ref frame);
                break;
        }

        return Call(who, frame);
    }

    /// <summary>Shares (or lends/donates) <paramref name="pages"/> pages of the sender's RAM at <paramref name="offsetPages"/>.</summary>
    public RegisterFrame SendPages(string who, FfaFunction function, ulong offsetPages, uint pages, params EndpointMemoryAccess[] receivers)
    {
        var attributes = function == FfaFunction.MemShare || receivers.Length > 1 ? NormalWb : default;
        return Send(who, function, Descriptor(Id(who), attributes, receivers, [new MemoryRegionConstituent(Ram(who) + (offsetPages * 4096), pages)]));
    }

    public static MemoryHandle HandleOf(in RegisterFrame answer) =>
        MemSendSuccess.TryDecode(answer, out var success, out _) ? success.Handle : throw new InvalidOperationException($"not a send success: {answer} ({Rig.ErrorOf(answer)})");

    /// <summary>A retrieve request in the caller's layout for the given transaction.</summary>
    public RegisterFrame Retrieve(string who, MemoryHandle handle, string sender, IEnumerable<EndpointMemoryAccess> receivers, MemoryTransactionFlags flags = default, MemoryRegionAttributes attributes = default, ulong tag = 0)
    {
        var d = new MemoryTransactionDescriptor { Header = new MemoryTransactionHeader(Id(sender), attributes, flags, handle, tag) };
        d.Receivers.AddRange(receivers);
        var bytes = d.Encode(Platform[who].Config.Version, MtdShape.RetrieveRequest);
        WriteTx(who, bytes);
        return SendRaw(who, FfaFunction.MemRetrieveReq, (uint)bytes.Length, (uint)bytes.Length);
    }

    public RegisterFrame Release(string who) => Call(who, RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.RxRelease)));

    public RegisterFrame Relinquish(string who, MemoryHandle handle, RelinquishFlags flags = default, params EndpointId[] endpoints)
    {
        var r = new MemoryRelinquish { Handle = handle, Flags = flags };
        r.Endpoints.AddRange(endpoints.Length == 0 ? [Id(who)] : endpoints);
        WriteTx(who, r.Encode());
        var frame = default(RegisterFrame);
        new MemRelinquish().Encode(ref frame);
        return Call(who, frame);
    }

    public RegisterFrame Reclaim(string who, MemoryHandle handle, MemReclaimFlags flags = MemReclaimFlags.None)
    {
        var frame = default(RegisterFrame);
        new MemReclaim(handle, flags).Encode(ref frame);
        return Call(who, frame);
    }

    /// <summary>Everything the ledger and the managers hold about memory sharing, to compare before and after a refused call.</summary>
    public string Snapshot()
    {
        var text = new System.Text.StringBuilder();
        foreach (var p in Platform.Partitions)
        {
            text.Append(p.Name).Append(':');
            foreach (var (ipa, entry) in p.Memory.Stage2.Entries())
            {
                text.Append(' ').Append(ipa.ToString("X", System.Globalization.CultureInfo.InvariantCulture)).Append('=').Append(entry.PhysicalPage.ToString("X", System.Globalization.CultureInfo.InvariantCulture)).Append('/').Append(entry.Access);
            }

            text.Append('\n');
        }

        foreach (var manager in new PartitionManager?[] { Platform.Spmc, Platform.Hypervisor })
        {
            if (manager is null)
            {
                continue;
            }

            foreach (var (handle, shared) in manager.SharedMemory.OrderBy(static s => s.Key))
            {
                text.Append(handle.ToString("X", System.Globalization.CultureInfo.InvariantCulture)).Append(": ");
                foreach (var progress in shared.BorrowerProgress)
                {
                    text.Append(progress.Holds ? 'H' : '-');
                }

                text.Append('\n');
            }

            text.Append("pending ").Append(manager.PendingSendHandles.Count).Append('\n');
        }

        text.Append("grants ").Append(Pages.OpenGrants);
        return text.ToString();
    }
}

internal static class ShouldlyExtras
{
    public static void ShouldBeTrueOr(this bool value, string message)
    {
        if (!value)
        {
            throw new Shouldly.ShouldAssertException(message);
        }
    }
}
