using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;
using Firmament.Machine;
using FsCheck;
using FsCheck.Fluent;
using Shouldly;
using Xunit;
using static Firmament.Tests.Ffa.MemoryRig;

namespace Firmament.Tests.Ffa;

/// <summary>
/// Random valid and mutated memory transactions from random endpoints (VMs of v1.0, v1.1 and v1.2, SPs): nothing
/// throws, and after every call the ownership invariants hold — one owner per page, every stage-2 map agreeing with
/// the ledger (owner access by state, borrowers mapped exactly while they hold the memory), every live handle issued
/// once and never again.
/// </summary>
public class MemorySharingPropertyTests
{
    private static readonly string[] Names = ["vm1", "vm2", "vm3", "sp1", "sp2"];

    [Fact]
    public void RandomTransactions_KeepTheOwnershipInvariants()
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(60);
        var outcomes = new int[3];
        FsCheck.Check.One(config, Prop.ForAll(Gen.Choose(1, int.MaxValue).ToArbitrary(), seed => Run((ulong)seed, 80, outcomes)));

        // The walk must reach the interesting states, not only errors: sends, retrieves and reclaims that succeed.
        outcomes.ShouldAllBe(static n => n > 0);
    }

    private static void Run(ulong seed, int steps, int[] outcomes)
    {
        var random = new DeterministicRandom(seed);
        var rig = new MemoryRig(
            global::Firmament.Scenarios.PlatformRoles.HypervisorAndSpmc,
            null,
            Vm("vm1", 1, FfaVersion.V1_0),
            Vm("vm2", 2, FfaVersion.V1_1),
            Vm("vm3", 3),
            Sp("sp1", 0x8001),
            Sp("sp2", 0x8002));
        rig.MapAll();
        var issued = new HashSet<ulong>();
        var known = new List<(MemoryHandle Handle, string Sender, EndpointMemoryAccess[] Receivers)>();
        for (var step = 0; step < steps; step++)
        {
            var who = Names[random.Next(Names.Length)];
            RegisterFrame answer;
            switch (random.Next(6))
            {
                case 0:
                case 1:
                    answer = RandomSend(rig, random, who, out var receivers);
                    if (MemSendSuccess.TryDecode(answer, out var success, out _))
                    {
                        issued.Add(success.Handle.Value).ShouldBeTrue($"seed {seed} step {step}: handle {success.Handle} issued twice");
                        known.Add((success.Handle, who, receivers));
                        outcomes[0]++;
                    }

                    break;
                case 2:
                    if (known.Count == 0)
                    {
                        continue;
                    }

                    var (handle, sender, all) = known[random.Next(known.Count)];
                    var asked = random.Next(4) == 0 ? [all[random.Next(all.Length)]] : all;
                    answer = rig.Retrieve(who, handle, random.Next(8) == 0 ? Names[random.Next(Names.Length)] : sender, asked, new MemoryTransactionFlags((uint)(random.Next(4) == 0 ? random.Next(32) : 0)));
                    outcomes[1] += MemRetrieveResp.TryDecode(answer, out _, out _) ? 1 : 0;
                    rig.Release(who);
                    break;
                case 3:
                    answer = rig.Relinquish(who, PickHandle(random, known));
                    break;
                case 4:
                    answer = rig.Reclaim(who, PickHandle(random, known), (MemReclaimFlags)random.Next(4));
                    outcomes[2] += Rig.ErrorOf(answer) is null ? 1 : 0;
                    break;
                default:
                    var frame = default(RegisterFrame);
                    if (random.Next(2) == 0)
                    {
                        new MemFragTx(PickHandle(random, known), (uint)(random.Next(8) * 16), default).Encode(ref frame);
                    }
                    else
                    {
                        new MemFragRx(PickHandle(random, known), (uint)random.Next(0x2000), default).Encode(ref frame);
                    }

                    answer = rig.Call(who, frame);
                    break;
            }

            answer.W(0).ShouldNotBe(0u);
            Check(rig, issued, $"seed {seed} step {step}");
        }
    }

    private static MemoryHandle PickHandle(DeterministicRandom random, List<(MemoryHandle Handle, string Sender, EndpointMemoryAccess[] Receivers)> known) =>
        known.Count > 0 && random.Next(5) != 0 ? known[random.Next(known.Count)].Handle : new MemoryHandle(random.Next(2) == 0 ? (uint)random.Next(8) : MemoryHandle.HypervisorAllocatorBit | (uint)random.Next(8));

    private static RegisterFrame RandomSend(MemoryRig rig, DeterministicRandom random, string who, out EndpointMemoryAccess[] receivers)
    {
        var function = random.Next(3) switch
        {
            0 => FfaFunction.MemShare,
            1 => FfaFunction.MemLend,
            _ => FfaFunction.MemDonate,
        };
        var count = 1 + random.Next(random.Next(4) == 0 ? 3 : 1);
        receivers = new EndpointMemoryAccess[count];
        for (var i = 0; i < count; i++)
        {
            var id = random.Next(10) == 0 ? new EndpointId((ushort)random.Next(0x10000)) : rig.Id(Names[random.Next(Names.Length)]);
            var data = function == FfaFunction.MemDonate && random.Next(6) != 0 ? DataAccess.NotSpecified : (DataAccess)(1 + random.Next(2));
            receivers[i] = new EndpointMemoryAccess(id, MemoryAccessPermissions.Of(data, random.Next(10) == 0 ? InstructionAccess.Executable : InstructionAccess.NotSpecified));
        }

        var ram = rig.Ram(who);
        var constituents = new MemoryRegionConstituent[1 + random.Next(3)];
        for (var i = 0; i < constituents.Length; i++)
        {
            var address = random.Next(12) == 0 ? rig.Ram(Names[random.Next(Names.Length)]) : ram;
            constituents[i] = new MemoryRegionConstituent(address + ((ulong)random.Next(16) * 4096), (uint)(random.Next(12) == 0 ? 0 : 1 + random.Next(3)));
        }

        var attributes = function == FfaFunction.MemShare || (function == FfaFunction.MemLend && count > 1) ? NormalWb : default;
        if (random.Next(10) == 0)
        {
            attributes = new MemoryRegionAttributes((ushort)random.Next(0x40));
        }

        var flags = random.Next(6) == 0 ? new MemoryTransactionFlags((uint)random.Next(4)) : default;
        var sender = random.Next(10) == 0 ? rig.Id(Names[random.Next(Names.Length)]) : rig.Id(who);
        var bytes = Descriptor(sender, attributes, receivers, constituents, flags, tag: (ulong)random.Next(3)).Encode(rig.Platform[who].Config.Version, MtdShape.Send);
        if (random.Next(3) == 0)
        {
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        }

        rig.WriteTx(who, bytes);
        var fragment = random.Next(8) == 0 ? (uint)Math.Max(16, bytes.Length - 16) : (uint)bytes.Length;
        return rig.SendRaw(who, function, (uint)bytes.Length, fragment, is64: random.Next(2) == 0);
    }

    private static void Check(MemoryRig rig, HashSet<ulong> issued, string where)
    {
        rig.Pages.CheckInvariants().ShouldBeNull(where);
        foreach (var manager in new PartitionManager[] { rig.Platform.Spmc!, rig.Platform.Hypervisor! })
        {
            foreach (var (handle, shared) in manager.SharedMemory)
            {
                issued.ShouldContain(handle, where);
                var grant = rig.Pages.GrantOf(handle);
                grant.ShouldNotBeNull(where);
                for (var i = 0; i < shared.ReceiverList.Count; i++)
                {
                    grant.Borrower(shared.ReceiverList[i].Receiver)!.Mapped.ShouldBe(shared.BorrowerProgress[i].Holds, where);
                }
            }
        }

        var live = rig.Platform.Spmc!.SharedMemory.Count + rig.Platform.Hypervisor!.SharedMemory.Count;
        rig.Pages.OpenGrants.ShouldBe(live, where);
    }
}
