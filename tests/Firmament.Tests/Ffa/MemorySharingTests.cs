using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Ffa;
using Firmament.Scenarios;
using Shouldly;
using Xunit;
using static Firmament.Tests.Ffa.MemoryRig;
using Stage2Access = global::Firmament.Machine.Stage2Access;

namespace Firmament.Tests.Ffa;

public class MemorySharingTests
{
    private static MemoryRig Ready(Personality? personality = null, FfaVersion? vm1 = null, FfaVersion? vm2 = null)
    {
        var rig = Standard(personality, vm1, vm2);
        rig.MapAll();
        return rig;
    }

    private static MemoryTransactionView ReadResponse(MemoryRig rig, string who, in RegisterFrame answer)
    {
        MemRetrieveResp.TryDecode(answer, out var resp, out _).ShouldBeTrueOr($"not a retrieve response: {answer} ({Rig.ErrorOf(answer)})");
        var bytes = rig.ReadRx(who, (int)resp.FragmentLength);
        MemoryTransactionDescriptorReader.TryRead(bytes, rig.Platform[who].Config.Version, MtdShape.RetrieveResponse, out var view, out var fault).ShouldBeTrueOr(fault.ToString());
        return view;
    }

    [Fact]
    public void Share_VmToVm_BorrowerSeesTheOwnersBytes_ThroughItsOwnMap_UntilRelinquish()
    {
        var rig = Ready();
        var ram = rig.Ram("vm1");
        rig.Platform["vm1"].Memory.TryWrite(ram, "hello"u8, out _).ShouldBeTrue();
        var answer = rig.SendPages("vm1", FfaFunction.MemShare, 0, 1, Rw(rig.Id("vm2")));
        var handle = HandleOf(answer);
        handle.IsHypervisorAllocated.ShouldBeTrue();
        rig.Access("vm1", ram).ShouldBe(Stage2Access.All); // a share keeps the owner's access

        var retrieved = rig.Retrieve("vm2", handle, "vm1", [Rw(rig.Id("vm2"))]);
        var view = ReadResponse(rig, "vm2", retrieved);
        view.Handle.ShouldBe(handle);
        view.Flags.TransactionType.ShouldBe(MemoryTransactionType.Share);
        view.GetEmad(0).Permissions.ShouldBe(MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotExecutable));
        var at = view.GetConstituent(0).Address;
        at.ShouldBe(rig.Pa("vm1", ram)); // mapped at IPA = PA

        var read = new byte[5];
        rig.Platform["vm2"].Memory.TryRead(at, read, out _).ShouldBeTrue();
        read.ShouldBe("hello"u8.ToArray());
        rig.Platform["vm2"].Memory.TryWrite(at, "HEY"u8, out _).ShouldBeTrue();
        rig.Platform["vm1"].Memory.TryRead(ram, read, out _);
        read.ShouldBe("HEYlo"u8.ToArray());
        rig.Access("vm2", at).ShouldBe(Stage2Access.ReadWrite);

        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBe(FfaError.Denied); // still held
        Rig.ErrorOf(rig.Relinquish("vm2", handle)).ShouldBeNull();
        rig.IsMapped("vm2", at).ShouldBeFalse();
        rig.Platform["vm2"].Memory.TryRead(at, read, out var fault).ShouldBeFalse();
        fault.Kind.ShouldBe(global::Firmament.Machine.MemoryFaultKind.Unmapped);
        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBeNull();
        rig.Platform.Hypervisor!.SharedMemory.ShouldBeEmpty();
        rig.Pages.CheckInvariants().ShouldBeNull();
        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBe(FfaError.InvalidParameters); // gone: the handle is not reused
    }

    [Fact]
    public void Lend_VmToSp_IsForwardedAfterTheOwnershipCheck_AndTheOwnerFaultsUntilReclaim()
    {
        var rig = Ready();
        var ram = rig.Ram("vm1") + 0x2000;
        rig.Platform["vm1"].Memory.TryWrite(ram, "secret"u8, out _).ShouldBeTrue();
        var answer = rig.SendPages("vm1", FfaFunction.MemLend, 2, 1, Rw(rig.Id("sp1")));
        var handle = HandleOf(answer);
        handle.IsHypervisorAllocated.ShouldBeFalse(); // the SPMC allocated it
        rig.Platform.Spmc!.SharedMemory.ContainsKey(handle.Value).ShouldBeTrue();
        rig.Platform.Hypervisor!.SharedMemory.ShouldBeEmpty();
        rig.Access("vm1", ram).ShouldBe(Stage2Access.None);
        rig.Platform["vm1"].Memory.TryRead(ram, new byte[1], out var fault).ShouldBeFalse();
        fault.Kind.ShouldBe(global::Firmament.Machine.MemoryFaultKind.Permission);

        var view = ReadResponse(rig, "sp1", rig.Retrieve("sp1", handle, "vm1", [Rw(rig.Id("sp1"))]));
        var at = view.GetConstituent(0).Address;
        var read = new byte[6];
        rig.Platform["sp1"].Memory.TryRead(at, read, out _).ShouldBeTrue();
        read.ShouldBe("secret"u8.ToArray());
        view.GetEmad(0).Permissions.Instruction.ShouldBe(InstructionAccess.Executable); // a single-borrower lend may execute

        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBe(FfaError.Denied);
        Rig.ErrorOf(rig.Relinquish("sp1", handle)).ShouldBeNull();
        Rig.ErrorOf(rig.Reclaim("vm2", handle)).ShouldBe(FfaError.InvalidParameters); // not the owner: the hypervisor refuses to forward
        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBeNull();
        rig.Access("vm1", ram).ShouldBe(Stage2Access.All);
        rig.Pages.CheckInvariants().ShouldBeNull();
    }

    [Fact]
    public void Donate_SpToSp_MovesOwnershipForGood()
    {
        var rig = Ready();
        var ram = rig.Ram("sp1");
        var pa = rig.Pa("sp1", ram);
        var handle = HandleOf(rig.SendPages("sp1", FfaFunction.MemDonate, 0, 1, Unspecified(rig.Id("sp2"))));
        rig.Access("sp1", ram).ShouldBe(Stage2Access.None);
        ReadResponse(rig, "sp2", rig.Retrieve("sp2", handle, "sp1", [Unspecified(rig.Id("sp2"))]));
        rig.Pages.TryGetPage(pa >> 12, out var page).ShouldBeTrue();
        page.Owner.ShouldBe(rig.Id("sp2"));
        rig.IsMapped("sp1", ram).ShouldBeFalse();
        rig.Access("sp2", pa).ShouldBe(Stage2Access.All);
        Rig.ErrorOf(rig.Reclaim("sp1", handle)).ShouldBe(FfaError.InvalidParameters);
        rig.Pages.CheckInvariants().ShouldBeNull();

        // The new owner can give it on; the old one cannot.
        var again = rig.Send("sp1", FfaFunction.MemShare, Descriptor(rig.Id("sp1"), NormalWb, [Rw(rig.Id("sp2"))], [new MemoryRegionConstituent(ram, 1)]));
        Rig.ErrorOf(again).ShouldBe(FfaError.Denied);
        var onward = rig.Send("sp2", FfaFunction.MemShare, Descriptor(rig.Id("sp2"), NormalWb, [Rw(rig.Id("sp1"))], [new MemoryRegionConstituent(pa, 1)]));
        Rig.ErrorOf(onward).ShouldBeNull();
    }

    [Fact]
    public void MultipleBorrowers_EachWithItsOwnPermissions_RoRetrievedRwIsDenied()
    {
        var rig = Ready();
        var handle = HandleOf(rig.SendPages("vm1", FfaFunction.MemShare, 0, 2, Rw(rig.Id("vm2")), Ro(rig.Id("vm3"))));
        EndpointMemoryAccess[] both = [Rw(rig.Id("vm2")), Ro(rig.Id("vm3"))];
        var before = rig.Snapshot();
        Rig.ErrorOf(rig.Retrieve("vm3", handle, "vm1", [Rw(rig.Id("vm2")), Rw(rig.Id("vm3"))])).ShouldBe(FfaError.Denied);
        rig.Snapshot().ShouldBe(before);
        Rig.ErrorOf(rig.Retrieve("vm3", handle, "vm1", [Ro(rig.Id("vm3"))])).ShouldBe(FfaError.InvalidParameters); // borrower list must match
        var view = ReadResponse(rig, "vm3", rig.Retrieve("vm3", handle, "vm1", both));
        var at = view.GetConstituent(0).Address;
        rig.Access("vm3", at).ShouldBe(Stage2Access.Read);
        rig.Platform["vm3"].Memory.TryWrite(at, [1], out var fault).ShouldBeFalse();
        fault.Kind.ShouldBe(global::Firmament.Machine.MemoryFaultKind.Permission);
        ReadResponse(rig, "vm2", rig.Retrieve("vm2", handle, "vm1", both));
        rig.Access("vm2", at).ShouldBe(Stage2Access.ReadWrite);
        Rig.ErrorOf(rig.Relinquish("vm2", handle)).ShouldBeNull();
        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBe(FfaError.Denied); // vm3 still holds it
        Rig.ErrorOf(rig.Relinquish("vm3", handle)).ShouldBeNull();
        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBeNull();
        rig.Pages.CheckInvariants().ShouldBeNull();
    }

    [Fact]
    public void BypassFlag_LetsOneBorrowerNameOnlyItself()
    {
        var rig = Ready();
        var handle = HandleOf(rig.SendPages("vm1", FfaFunction.MemShare, 0, 1, Rw(rig.Id("vm2")), Rw(rig.Id("vm3"))));
        var bypass = MemoryTransactionFlags.ForRetrieveRequest(bypassMultipleBorrowerCheck: true);
        ReadResponse(rig, "vm2", rig.Retrieve("vm2", handle, "vm1", [Rw(rig.Id("vm2"))], bypass));
    }

    [Theory]
    [InlineData("1.0", "1.2")]
    [InlineData("1.2", "1.0")]
    [InlineData("1.1", "1.2")]
    public void VersionTranslation_EachEndpointIsServedInItsOwnLayout(string senderVersion, string borrowerVersion)
    {
        FfaVersion.TryParse(senderVersion, out var sv).ShouldBeTrue();
        FfaVersion.TryParse(borrowerVersion, out var bv).ShouldBeTrue();
        var rig = Ready(vm1: sv, vm2: bv);
        var handle = HandleOf(rig.SendPages("vm1", FfaFunction.MemShare, 0, 1, Rw(rig.Id("vm2"))));
        var answer = rig.Retrieve("vm2", handle, "vm1", [Rw(rig.Id("vm2"))]);
        MemRetrieveResp.TryDecode(answer, out var resp, out _).ShouldBeTrue();
        var expectedLength = MemoryTransactionDescriptorWriter.RequiredLength(bv, MtdShape.RetrieveResponse, 1, 1);
        resp.TotalLength.ShouldBe((uint)expectedLength);
        var view = ReadResponse(rig, "vm2", answer);
        view.Sender.ShouldBe(rig.Id("vm1"));
        view.Attributes.ShouldBe(NormalWb);
    }

    [Fact]
    public void FragmentedSend_AndFragmentedRetrieve_CarryEveryConstituent()
    {
        var rig = Ready();
        const int count = 252; // one-page constituents: more than one 4 KiB fragment either way
        var constituents = Enumerable.Range(0, count).Select(i => new MemoryRegionConstituent(rig.Ram("vm1") + ((ulong)i * 4096), 1)).ToArray();
        var bytes = Descriptor(rig.Id("vm1"), NormalWb, [Rw(rig.Id("vm2"))], constituents).Encode(FfaVersion.V1_2, MtdShape.Send);
        bytes.Length.ShouldBeGreaterThan(4096);
        rig.WriteTx("vm1", bytes.AsSpan(0, 4096));
        var answer = rig.SendRaw("vm1", FfaFunction.MemShare, (uint)bytes.Length, 4096);
        MemFragRx.TryDecode(answer, out var fragRx, out _).ShouldBeTrue();
        fragRx.Offset.ShouldBe(4096u);
        Rig.ErrorOf(rig.Retrieve("vm2", fragRx.Handle, "vm1", [Rw(rig.Id("vm2"))])).ShouldBe(FfaError.Denied); // not complete yet
        Rig.ErrorOf(rig.Reclaim("vm1", fragRx.Handle)).ShouldBe(FfaError.InvalidParameters);
        rig.WriteTx("vm1", bytes.AsSpan(4096));
        var frame = default(RegisterFrame);
        new MemFragTx(fragRx.Handle, (uint)(bytes.Length - 4096), default).Encode(ref frame);
        var handle = HandleOf(rig.Call("vm1", frame));
        handle.ShouldBe(fragRx.Handle);

        var first = rig.Retrieve("vm2", handle, "vm1", [Rw(rig.Id("vm2"))]);
        MemRetrieveResp.TryDecode(first, out var resp, out _).ShouldBeTrue();
        resp.FragmentLength.ShouldBe(4096u);
        var whole = new List<byte>(rig.ReadRx("vm2", 4096));
        Rig.ErrorOf(rig.Relinquish("vm2", handle)).ShouldBe(FfaError.InvalidParameters); // not all fragments received
        var fragRxCall = default(RegisterFrame);
        new MemFragRx(handle, 4096, default).Encode(ref fragRxCall);
        Rig.ErrorOf(rig.Call("vm2", fragRxCall)).ShouldBe(FfaError.Busy); // RX not released yet
        Rig.ErrorOf(rig.Release("vm2")).ShouldBeNull();
        var next = rig.Call("vm2", fragRxCall);
        MemFragTx.TryDecode(next, out var fragTx, out _).ShouldBeTrue();
        whole.AddRange(rig.ReadRx("vm2", (int)fragTx.FragmentLength));
        whole.Count.ShouldBe((int)resp.TotalLength);
        MemoryTransactionDescriptor.TryDecode(whole.ToArray(), FfaVersion.V1_2, MtdShape.RetrieveResponse, out var response, out _).ShouldBeTrue();
        response!.Constituents.Count.ShouldBe(count);
        response.Constituents[count - 1].Address.ShouldBe(rig.Pa("vm1", constituents[count - 1].Address));
        Rig.ErrorOf(rig.Relinquish("vm2", handle)).ShouldBeNull();
        Rig.ErrorOf(rig.Reclaim("vm1", handle)).ShouldBeNull();
        rig.Pages.CheckInvariants().ShouldBeNull();
    }

    [Fact]
    public void FragmentedSend_ToAnSp_IsGatheredByTheHypervisor_ThenForwardedInFragments()
    {
        var rig = Ready();
        var constituents = Enumerable.Range(0, 252).Select(i => new MemoryRegionConstituent(rig.Ram("vm1") + ((ulong)i * 4096), 1)).ToArray();
        var bytes = Descriptor(rig.Id("vm1"), NormalWb, [Rw(rig.Id("sp1"))], constituents).Encode(FfaVersion.V1_2, MtdShape.Send);
        rig.WriteTx("vm1", bytes.AsSpan(0, 4096));
        MemFragRx.TryDecode(rig.SendRaw("vm1", FfaFunction.MemShare, (uint)bytes.Length, 4096), out var fragRx, out _).ShouldBeTrue();
        rig.WriteTx("vm1", bytes.AsSpan(4096));
        var frame = default(RegisterFrame);
        new MemFragTx(fragRx.Handle, (uint)(bytes.Length - 4096), default).Encode(ref frame);
        var handle = HandleOf(rig.Call("vm1", frame));
        handle.IsHypervisorAllocated.ShouldBeFalse();
        rig.Platform.Spmc!.SharedMemory[handle.Value].Runs.Length.ShouldBe(252);
        rig.Pages.CheckInvariants().ShouldBeNull();
    }

    [Fact]
    public void Features_ReportTheMemoryAbis()
    {
        var rig = Ready();
        foreach (var function in new[] { FfaFunction.MemShare, FfaFunction.MemLend, FfaFunction.MemDonate, FfaFunction.MemRetrieveReq, FfaFunction.MemRelinquish, FfaFunction.MemReclaim, FfaFunction.MemFragTx, FfaFunction.MemFragRx })
        {
            var frame = default(RegisterFrame);
            new Features(FeatureQuery.Of(function), 0).Encode(ref frame);
            Rig.ErrorOf(rig.Call("vm1", frame)).ShouldBeNull(function.ToString());
        }

        var perm = default(RegisterFrame);
        new Features(FeatureQuery.Of(FfaFunction.MemPermGet), 0).Encode(ref perm);
        Rig.ErrorOf(rig.Call("sp1", perm)).ShouldBe(FfaError.NotSupported);
    }

    public static TheoryData<string, FfaError> BadSends() => new()
    {
        { "sender is not the caller", FfaError.Denied },
        { "memory the caller does not own", FfaError.Denied },
        { "unmapped memory", FfaError.Denied },
        { "receiver is the sender", FfaError.InvalidParameters },
        { "duplicate receiver", FfaError.InvalidParameters },
        { "unknown receiver", FfaError.InvalidParameters },
        { "instruction access specified", FfaError.InvalidParameters },
        { "share without data access", FfaError.InvalidParameters },
        { "zero flag on share", FfaError.InvalidParameters },
        { "time slicing", FfaError.InvalidParameters },
        { "handle not zero", FfaError.InvalidParameters },
        { "zero-page constituent", FfaError.InvalidParameters },
        { "overlapping constituents", FfaError.InvalidParameters },
        { "device GRE share", FfaError.Denied },
        { "lend with attributes", FfaError.InvalidParameters },
        { "fragment longer than total", FfaError.InvalidParameters },
        { "no TX buffer", FfaError.InvalidParameters },
        { "mixed VM and SP borrowers", FfaError.NotSupported },
        { "SP lends to a VM", FfaError.Denied },
        { "already shared", FfaError.Denied },
    };

    [Theory]
    [MemberData(nameof(BadSends))]
    public void Send_InputChecks_GetTheirExactError_AndChangeNothing(string what, FfaError expected)
    {
        var rig = Ready();
        var vm1 = rig.Id("vm1");
        var vm2 = rig.Id("vm2");
        var ram = rig.Ram("vm1");
        var one = new MemoryRegionConstituent(ram, 1);
        if (what == "already shared")
        {
            HandleOf(rig.SendPages("vm1", FfaFunction.MemShare, 0, 1, Rw(vm2)));
        }

        var before = rig.Snapshot();
        var who = "vm1";
        var function = FfaFunction.MemShare;
        MemoryTransactionDescriptor d = Descriptor(vm1, NormalWb, [Rw(vm2)], [one]);
        switch (what)
        {
            case "sender is not the caller": d = Descriptor(vm2, NormalWb, [Rw(rig.Id("vm3"))], [one]); break;
            case "memory the caller does not own": d = Descriptor(vm1, NormalWb, [Rw(vm2)], [new MemoryRegionConstituent(rig.Platform.BuffersOf(vm1).Tx, 1)]); break;
            case "unmapped memory": d = Descriptor(vm1, NormalWb, [Rw(vm2)], [new MemoryRegionConstituent(0x7000_0000, 1)]); break;
            case "receiver is the sender": d = Descriptor(vm1, NormalWb, [Rw(vm1)], [one]); break;
            case "duplicate receiver": d = Descriptor(vm1, NormalWb, [Rw(vm2), Ro(vm2)], [one]); break;
            case "unknown receiver": d = Descriptor(vm1, NormalWb, [Rw(new EndpointId(9))], [one]); break;
            case "instruction access specified": d = Descriptor(vm1, NormalWb, [new EndpointMemoryAccess(vm2, MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotExecutable))], [one]); break;
            case "share without data access": d = Descriptor(vm1, NormalWb, [Unspecified(vm2)], [one]); break;
            case "zero flag on share": d = Descriptor(vm1, NormalWb, [Rw(vm2)], [one], MemoryTransactionFlags.ForSend(zeroMemory: true)); break;
            case "time slicing": d = Descriptor(vm1, NormalWb, [Rw(vm2)], [one], MemoryTransactionFlags.ForSend(timeSlice: true)); break;
            case "handle not zero": d.Header = d.Header with { Handle = new MemoryHandle(5) }; break;
            case "zero-page constituent": d = Descriptor(vm1, NormalWb, [Rw(vm2)], [new MemoryRegionConstituent(ram, 0), one]); break;
            case "overlapping constituents": d = Descriptor(vm1, NormalWb, [Rw(vm2)], [new MemoryRegionConstituent(ram, 2), new MemoryRegionConstituent(ram + 4096, 1)]); break;
            case "device GRE share": d = Descriptor(vm1, MemoryRegionAttributes.Device(DeviceMemoryType.GRE), [Rw(vm2)], [one]); break;
            case "lend with attributes": function = FfaFunction.MemLend; break;
            case "mixed VM and SP borrowers": d = Descriptor(vm1, NormalWb, [Rw(vm2), Rw(rig.Id("sp1"))], [one]); break;
            case "SP lends to a VM": who = "sp1"; function = FfaFunction.MemLend; d = Descriptor(rig.Id("sp1"), default, [Rw(vm2)], [new MemoryRegionConstituent(rig.Ram("sp1"), 1)]); break;
        }

        RegisterFrame answer;
        if (what == "fragment longer than total")
        {
            var bytes = d.Encode(FfaVersion.V1_2, MtdShape.Send);
            rig.WriteTx(who, bytes);
            answer = rig.SendRaw(who, function, (uint)bytes.Length, (uint)bytes.Length + 16);
        }
        else if (what == "no TX buffer")
        {
            var fresh = Standard();
            before = fresh.Snapshot();
            answer = fresh.SendRaw("vm1", function, 96, 96);
            fresh.Snapshot().ShouldBe(before);
            Rig.ErrorOf(answer).ShouldBe(expected);
            return;
        }
        else
        {
            answer = rig.Send(who, function, d);
        }

        Rig.ErrorOf(answer).ShouldBe(expected, what);
        rig.Snapshot().ShouldBe(before);
        rig.Pages.CheckInvariants().ShouldBeNull();
    }

    public static TheoryData<string, FfaError> BadRetrieves() => new()
    {
        { "unknown handle", FfaError.InvalidParameters },
        { "wrong sender", FfaError.Denied },
        { "wrong tag", FfaError.InvalidParameters },
        { "wrong transaction type", FfaError.InvalidParameters },
        { "not a borrower", FfaError.InvalidParameters },
        { "executable share", FfaError.Denied },
        { "zero flag on share", FfaError.InvalidParameters },
        { "relaxed attributes", FfaError.Denied },
        { "twice", FfaError.Denied },
        { "RX buffer busy", FfaError.Busy },
    };

    [Theory]
    [MemberData(nameof(BadRetrieves))]
    public void Retrieve_InputChecks_GetTheirExactError_AndChangeNothing(string what, FfaError expected)
    {
        var rig = Ready();
        var vm2 = rig.Id("vm2");
        var handle = HandleOf(rig.Send("vm1", FfaFunction.MemShare, Descriptor(rig.Id("vm1"), NormalWb, [Ro(vm2)], [new MemoryRegionConstituent(rig.Ram("vm1"), 1)], tag: 7)));
        if (what == "twice")
        {
            ReadResponse(rig, "vm2", rig.Retrieve("vm2", handle, "vm1", [Ro(vm2)], tag: 7));
            rig.Release("vm2");
        }

        if (what == "RX buffer busy")
        {
            // Something else is waiting in vm2's RX buffer: partition information it has not released.
            var info = default(RegisterFrame);
            new PartitionInfoGet(Uuid.Nil, PartitionInfoGetFlags.None).Encode(ref info);
            Rig.ErrorOf(rig.Call("vm2", info)).ShouldBeNull();
        }

        var before = rig.Snapshot();
        var answer = what switch
        {
            "unknown handle" => rig.Retrieve("vm2", new MemoryHandle(handle.Value + 1), "vm1", [Ro(vm2)], tag: 7),
            "wrong sender" => rig.Retrieve("vm2", handle, "vm3", [Ro(vm2)], tag: 7),
            "wrong tag" => rig.Retrieve("vm2", handle, "vm1", [Ro(vm2)], tag: 8),
            "wrong transaction type" => rig.Retrieve("vm2", handle, "vm1", [Ro(vm2)], MemoryTransactionFlags.ForRetrieveRequest(MemoryTransactionType.Lend), tag: 7),
            "not a borrower" => rig.Retrieve("vm3", handle, "vm1", [Ro(rig.Id("vm3"))], tag: 7),
            "executable share" => rig.Retrieve("vm2", handle, "vm1", [new EndpointMemoryAccess(vm2, MemoryAccessPermissions.Of(DataAccess.ReadOnly, InstructionAccess.Executable))], tag: 7),
            "zero flag on share" => rig.Retrieve("vm2", handle, "vm1", [Ro(vm2)], MemoryTransactionFlags.ForRetrieveRequest(zeroBeforeRetrieve: true), tag: 7),
            "relaxed attributes" => rig.Retrieve("vm2", handle, "vm1", [Ro(vm2)], attributes: MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.OuterShareable), tag: 7),
            _ => rig.Retrieve("vm2", handle, "vm1", [Ro(vm2)], tag: 7),
        };
        Rig.ErrorOf(answer).ShouldBe(expected, what);
        rig.Snapshot().ShouldBe(before);
    }

    [Fact]
    public void Retrieve_StricterAttributes_AreGranted()
    {
        var rig = Ready();
        var vm2 = rig.Id("vm2");
        var handle = HandleOf(rig.SendPages("vm1", FfaFunction.MemShare, 0, 1, Rw(vm2)));
        var device = MemoryRegionAttributes.Device(DeviceMemoryType.nGnRnE);
        var view = ReadResponse(rig, "vm2", rig.Retrieve("vm2", handle, "vm1", [Rw(vm2)], attributes: device));
        view.Attributes.ShouldBe(device);
    }

    [Fact]
    public void LendWithZeroFlag_ZeroesBeforeTheBorrowerSeesIt_AndReclaimZeroFlag_ZeroesForTheOwner()
    {
        var rig = Ready();
        var ram = rig.Ram("vm1");
        rig.Platform["vm1"].Memory.TryWrite(ram, [9, 9, 9], out _).ShouldBeTrue();
        var sp1 = rig.Id("sp1");
        var handle = HandleOf(rig.Send("vm1", FfaFunction.MemLend, Descriptor(rig.Id("vm1"), default, [Rw(sp1)], [new MemoryRegionConstituent(ram, 1)], MemoryTransactionFlags.ForSend(zeroMemory: true))));
        var view = ReadResponse(rig, "sp1", rig.Retrieve("sp1", handle, "vm1", [Rw(sp1)], MemoryTransactionFlags.ForRetrieveRequest(zeroBeforeRetrieve: true)));
        view.Flags.ZeroMemory.ShouldBeTrue();
        var at = view.GetConstituent(0).Address;
        var read = new byte[3];
        rig.Platform["sp1"].Memory.TryRead(at, read, out _).ShouldBeTrue();
        read.ShouldBe(new byte[3]);
        rig.Platform["sp1"].Memory.TryWrite(at, [7], out _).ShouldBeTrue();
        Rig.ErrorOf(rig.Relinquish("sp1", handle)).ShouldBeNull();
        Rig.ErrorOf(rig.Reclaim("vm1", handle, MemReclaimFlags.ZeroMemory)).ShouldBeNull();
        rig.Platform["vm1"].Memory.TryRead(ram, read, out _).ShouldBeTrue();
        read.ShouldBe(new byte[3]);
    }

    [Fact]
    public void CallerBuffer_HoldsTheDescriptor_WhereThePersonalityAllowsIt()
    {
        var rig = Ready();
        var bytes = Descriptor(rig.Id("vm1"), NormalWb, [Rw(rig.Id("vm2"))], [new MemoryRegionConstituent(rig.Ram("vm1") + 0x1000, 1)]).Encode(FfaVersion.V1_2, MtdShape.Send);
        var buffer = rig.Ram("vm1") + 0x10_000;
        rig.Platform["vm1"].Memory.TryWrite(buffer, bytes, out _).ShouldBeTrue();
        HandleOf(rig.SendRaw("vm1", FfaFunction.MemShare, (uint)bytes.Length, (uint)bytes.Length, address: buffer, pages: 1));

        var xen = Ready(Personality.Xen);
        xen.Platform["vm1"].Memory.TryWrite(buffer, bytes, out _).ShouldBeTrue();
        Rig.ErrorOf(xen.SendRaw("vm1", FfaFunction.MemShare, (uint)bytes.Length, (uint)bytes.Length, address: buffer, pages: 1)).ShouldBe(FfaError.NotSupported);
    }

    [Fact]
    public void Xen_SharesOnlyWithSps_AndWithholdsLend()
    {
        var rig = Ready(Personality.Xen);
        Rig.ErrorOf(rig.SendPages("vm1", FfaFunction.MemShare, 0, 1, Rw(rig.Id("vm2")))).ShouldBe(FfaError.NotSupported);
        Rig.ErrorOf(rig.SendPages("vm1", FfaFunction.MemLend, 0, 1, Rw(rig.Id("sp1")))).ShouldBe(FfaError.NotSupported);
        HandleOf(rig.SendPages("vm1", FfaFunction.MemShare, 0, 1, Rw(rig.Id("sp1"))));
    }

    [Fact]
    public void Kernel_SharesWithAnSp_ThroughTheSpmcPort()
    {
        var rig = new MemoryRig(PlatformRoles.KernelAndSpmc, null, Rig.Kernel(null!) with { Program = null }, Sp("sp1", 0x8001));
        rig.MapAll();
        var ram = rig.Ram("kernel");
        rig.Platform["kernel"].Memory.TryWrite(ram, "k"u8, out _).ShouldBeTrue();
        var handle = HandleOf(rig.SendPages("kernel", FfaFunction.MemShare, 0, 1, Rw(rig.Id("sp1"))));
        var view = ReadResponse(rig, "sp1", rig.Retrieve("sp1", handle, "kernel", [Rw(rig.Id("sp1"))]));
        view.GetConstituent(0).Address.ShouldBe(ram); // the kernel's addresses are physical
        var read = new byte[1];
        rig.Platform["sp1"].Memory.TryRead(ram, read, out _).ShouldBeTrue();
        read[0].ShouldBe((byte)'k');
    }
}
