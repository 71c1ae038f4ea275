using System.Text;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

/// <summary>
/// Each field of <see cref="Personality"/>: the same call answered differently under two personalities, and nothing
/// changed by the error. Then FEATURES against the dispatcher, for every personality, every function ID 0x60..0x8E in
/// both conventions, and every kind of caller.
/// </summary>
public class PersonalityTests
{
    /// <summary>Every register but x0 all ones: past the dispatcher's gate, every built handler refuses it without acting.</summary>
    private const ulong Junk = ulong.MaxValue;

    private static Personality P(string name) => Personality.TryGet(name, out var p) ? p : throw new ArgumentException($"unknown personality {name}", nameof(name));

    private static RegisterFrame Version(FfaVersion v) => RegisterFrame.Of(Rig.Id32(FfaFunction.Version), v.Encode());

    private static RegisterFrame Features(uint id) => RegisterFrame.Of(Rig.Id32(FfaFunction.Features), id);

    /// <summary>
    /// Builds, boots and runs a platform whose programs may look at it while they run (to snapshot state around a
    /// call): <paramref name="partitions"/> gets the platform once it is built.
    /// </summary>
    private static Platform Run(Personality personality, Func<Func<Platform>, PartitionConfig[]> partitions, PlatformRoles roles = PlatformRoles.HypervisorAndSpmc)
    {
        Platform? platform = null;
        var description = new PlatformDescription { Roles = roles, Pcpus = 1, Personality = personality, Partitions = partitions(() => platform!) };
        platform = Platform.Build(description, new TraceRecorder { Enabled = true });
        platform.Boot();
        platform.Run(1_000_000);
        return platform;
    }

    /// <summary>Everything an answer must not change: every endpoint record at both managers, every vCPU's state.</summary>
    private static string Snapshot(Platform platform)
    {
        var sb = new StringBuilder();
        foreach (var manager in new PartitionManager?[] { platform.Hypervisor, platform.Spmc })
        {
            if (manager is null)
            {
                continue;
            }

            foreach (var id in platform.Partitions.Select(static p => p.Id).Append(EndpointId.Hypervisor))
            {
                if (manager.Endpoint(id) is { } e)
                {
                    sb.Append($"{manager.RoleName} {id}: v{e.Version} called={e.VersionCalled} locked={e.VersionLocked} mapped={e.Mailbox.IsMapped} ")
                        .Append($"pages={e.Mailbox.PageCount} rx={e.Mailbox.RxOwner} spm={e.SpmFrameworkPending} hyp={e.HypervisorFrameworkPending}\n");
                }
            }
        }

        foreach (var partition in platform.Partitions)
        {
            foreach (var vcpu in partition.Vcpus)
            {
                sb.Append($"{vcpu.Id}: {vcpu.State} {(vcpu.Owner as FfaVcpu)?.Occupation}\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Makes a call and checks that, if it failed, the platform is exactly as before — when nothing else ran meanwhile
    /// (a time slice may let another vCPU act between the call and the code after it).
    /// </summary>
    private static async ValueTask<RegisterFrame> Checked(EndpointContext c, Func<Platform> platform, RegisterFrame frame, ChangeLog log)
    {
        var before = Snapshot(platform());
        var steps = platform().Scheduler.Steps;
        var answer = await c.CallAsync(frame);
        if (Rig.ErrorOf(answer) is { } error && platform().Scheduler.Steps == steps)
        {
            log.Compared++;
            var after = Snapshot(platform());
            if (after != before)
            {
                log.Changes.Add($"0x{frame.W(0):X8} answered {error.Name()} but changed the platform:\n{before}---\n{after}");
            }
        }

        return answer;
    }

    /// <summary>What <see cref="Checked"/> found: errors that changed something, and how many errors it compared.</summary>
    private sealed class ChangeLog
    {
        public List<string> Changes { get; } = [];

        public int Compared { get; set; }

        public void ShouldBeClean(int atLeast = 1)
        {
            Changes.ShouldBeEmpty();
            Compared.ShouldBeGreaterThanOrEqualTo(atLeast);
        }
    }

    // ---- ErrorBeforeVersion ----

    [Theory]
    [InlineData("default", null)]
    [InlineData("hafnium", null)]
    [InlineData("optee", null)] // an SPMC personality: the hypervisor answers VMs as the default does
    [InlineData("xen", FfaError.NotSupported)]
    [InlineData("pkvm", FfaError.InvalidParameters)]
    public void ErrorBeforeVersion_ACallBeforeVersion_IsServedOrRefused_AndARefusalLeavesTheVersionOpen(string name, FfaError? expected)
    {
        var answers = new List<RegisterFrame>();
        var changes = new ChangeLog();
        var platform = Run(P(name), p =>
        [
            Rig.Vm("vm1", 1, async c =>
            {
                answers.Add(await Checked(c, p, RegisterFrame.Of(Rig.Id32(FfaFunction.IdGet)), changes));
                answers.Add(await c.CallAsync(Version(FfaVersion.V1_1)));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
        ]);
        changes.ShouldBeClean(expected is null ? 0 : 1);
        Rig.ErrorOf(answers[0]).ShouldBe(expected);
        var vm1 = platform.Hypervisor!.Endpoint(new EndpointId(1))!;
        if (expected is null)
        {
            // Served at v1.2, which locked the version: asking for v1.1 afterwards is refused.
            answers[0].W(2).ShouldBe(1u);
            answers[1].W(0).ShouldBe(FfaVersion.NotSupported);
            vm1.Version.ShouldBe(FfaVersion.V1_2);
        }
        else
        {
            answers[1].W(0).ShouldBe(FfaVersion.V1_2.Encode());
            vm1.Version.ShouldBe(FfaVersion.V1_1);
        }
    }

    [Fact]
    public void ErrorBeforeVersion_AHypervisorPersonality_LeavesTheSpmcServingSpsBeforeVersion()
    {
        FfaError? spAnswer = FfaError.Aborted;
        var sp = Rig.Sp("sp1", 0x8001, async c =>
        {
            spAnswer = Rig.ErrorOf(await c.Call(Rig.Id32(FfaFunction.IdGet)));
            await c.Call(Rig.Id32(FfaFunction.MsgWait));
        });
        var platform = Run(Personality.Xen, _ => [sp]);
        spAnswer.ShouldBeNull();
        platform.Spmc!.Personality.ShouldBe(Personality.Default);
        platform.Hypervisor!.Personality.ShouldBe(Personality.Xen);
    }

    // ---- RejectNewerMinorVersion ----

    [Theory]
    [InlineData("default", true)]
    [InlineData("xen", true)]
    [InlineData("hafnium", false)]
    public void RejectNewerMinorVersion_VersionOneThree_IsAnsweredWithOurs_OrRefusedWithoutNegotiating(string name, bool answered)
    {
        var answers = new List<RegisterFrame>();
        var platform = Run(P(name), _ => [Rig.Vm("vm1", 1, async c => answers.Add(await c.CallAsync(Version(new FfaVersion(1, 3)))))]);
        var vm1 = platform.Hypervisor!.Endpoint(new EndpointId(1))!;
        answers[0].W(0).ShouldBe(answered ? FfaVersion.V1_2.Encode() : FfaVersion.NotSupported);
        vm1.VersionCalled.ShouldBe(answered);
    }

    // ---- MaxRxTxPages ----

    [Theory]
    [InlineData("default", 16u)]
    [InlineData("el3-spmc", 16u)]
    [InlineData("xen", 1u)]
    [InlineData("pkvm", 1u)]
    public void MaxRxTxPages_TwoPageBuffers_AreMappedOrRefused_AndFeaturesSaysTheLimit(string name, uint limit)
    {
        var answers = new List<RegisterFrame>();
        var changes = new ChangeLog();
        var platform = Run(P(name), p =>
        [
            Rig.Vm("vm1", 1, async c =>
            {
                await c.CallAsync(Version(FfaVersion.V1_2));
                answers.Add(await c.CallAsync(Features(Rig.Id64(FfaFunction.RxTxMap))));
                var map = default(RegisterFrame);
                new RxTxMap(true, c.Buffers.Tx, c.Buffers.Rx, 2).Encode(ref map);
                answers.Add(await Checked(c, p, map, changes));
            }) with { RxTxPages = 2 },
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
        ]);
        changes.ShouldBeClean(limit >= 2 ? 0 : 1);
        (answers[0].W(2) >> 16).ShouldBe(limit);
        Rig.ErrorOf(answers[1]).ShouldBe(limit >= 2 ? null : FfaError.InvalidParameters);
        platform.Hypervisor!.Endpoint(new EndpointId(1))!.Mailbox.IsMapped.ShouldBe(limit >= 2);
    }

    // ---- ListSelfBeforeV12 ----

    [Theory]
    [InlineData(false, 1u)]
    [InlineData(true, 2u)]
    public void ListSelfBeforeV12_AV11CallersOwnEntry_IsListedOnlyWhereThePersonalitySaysSo(bool listSelf, uint count)
    {
        // No built-in personality lists a pre-v1.2 caller itself (Linux before v1.2 refused its own entry).
        var personality = Personality.Default with { Name = "list-self", ListSelfBeforeV12 = listSelf };
        var answers = new List<RegisterFrame>();
        Run(personality, _ =>
        [
            Rig.Vm("vm1", 1, async c =>
            {
                await c.CallAsync(Version(FfaVersion.V1_1));
                var info = default(RegisterFrame);
                new PartitionInfoGet(Uuid.Nil, PartitionInfoGetFlags.CountOnly).Encode(ref info);
                answers.Add(await c.CallAsync(info));
            }, version: FfaVersion.V1_1),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
        ]);
        answers[0].W(2).ShouldBe(count);
    }

    // ---- Withheld ----

    public static TheoryData<string, string> WithheldFunctions()
    {
        var data = new TheoryData<string, string>();
        foreach (var personality in Personality.All)
        {
            foreach (var withheld in personality.Withheld)
            {
                data.Add(personality.Name, withheld.ToString());
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WithheldFunctions))]
    public void Withheld_AFunctionTheDefaultServes_IsNotSupported_InFeaturesAndWhenCalled(string name, string function)
    {
        var personality = P(name);
        var withheld = personality.Withheld.Single(w => w.ToString() == function);
        var info = FfaFunctions.Info(withheld.Function)!;
        foreach (var is64 in new[] { false, true })
        {
            if (!withheld.Covers(withheld.Function, is64) || (info.Conventions & (is64 ? CallConventions.Smc64 : CallConventions.Smc32)) == 0)
            {
                continue;
            }

            var id = FfaFunctions.Id(withheld.Function, is64).Value;
            var byDefault = Probe(Personality.Default, personality.Roles, id);
            var byPersonality = Probe(personality, personality.Roles, id);
            byDefault.Changes.ShouldBeClean();
            byPersonality.Changes.ShouldBeClean();
            Rig.ErrorOf(byDefault.Features).ShouldBeNull($"the default offers 0x{id:X8}");
            Rig.ErrorOf(byDefault.Call).ShouldNotBe(FfaError.NotSupported, $"the default serves 0x{id:X8}");
            Rig.ErrorOf(byPersonality.Features).ShouldBe(FfaError.NotSupported);
            Rig.ErrorOf(byPersonality.Call).ShouldBe(FfaError.NotSupported);
        }
    }

    [Fact]
    public void Withheld_OnlyTheRoleThePersonalityDescribes_WithholdsIt()
    {
        // OP-TEE has no FFA_YIELD for its SPs; the hypervisor (the default here) still lets a VM yield.
        var vm = Probe(Personality.OpTee, PersonalityRoles.Hypervisor, Rig.Id32(FfaFunction.Yield), RegisterFrame.Of(Rig.Id32(FfaFunction.Yield)));
        var sp = Probe(Personality.OpTee, PersonalityRoles.Spmc, Rig.Id32(FfaFunction.Yield), RegisterFrame.Of(Rig.Id32(FfaFunction.Yield)));
        Rig.ErrorOf(vm.Call).ShouldBeNull();
        Rig.ErrorOf(sp.Call).ShouldBe(FfaError.NotSupported);
    }

    /// <summary>
    /// One caller of the role's manager — a VM for a hypervisor personality, an SP for an SPMC one — asks FEATURES
    /// about <paramref name="id"/> and then calls it (with junk arguments unless <paramref name="call"/> is given).
    /// </summary>
    private static (RegisterFrame Features, RegisterFrame Call, ChangeLog Changes) Probe(Personality personality, PersonalityRoles role, uint id, RegisterFrame? call = null)
    {
        RegisterFrame features = default, answer = default;
        var changes = new ChangeLog();
        var frame = call ?? JunkFrame(id);
        Func<Func<Platform>, EndpointProgram> program = p => async c =>
        {
            await c.CallAsync(Version(FfaVersion.V1_2));
            features = await c.CallAsync(Features(id));
            answer = await Checked(c, p, frame, changes);
            if (role == PersonalityRoles.Spmc)
            {
                await c.Call(Rig.Id32(FfaFunction.MsgWait));
            }
        };
        var function = (FfaFunction)(id & 0xFF);
        if (role == PersonalityRoles.Spmc && function is FfaFunction.NotificationBitmapCreate or FfaFunction.NotificationBitmapDestroy or FfaFunction.NotificationInfoGet)
        {
            // The normal world's physical instance is the only caller of these at the SPMC: the kernel asks.
            Run(personality, p => [Rig.Kernel(async c =>
            {
                await c.CallAsync(Version(FfaVersion.V1_2));
                features = await c.CallAsync(Features(id));
                answer = await Checked(c, p, frame, changes);
            }), Rig.Sp("sp1", 0x8001, Rig.EchoSp)], PlatformRoles.KernelAndSpmc);
            return (features, answer, changes);
        }

        Run(personality, p => role == PersonalityRoles.Spmc
            ? [Rig.Sp("sp1", 0x8001, program(p))]
            : [Rig.Vm("vm1", 1, program(p)), Rig.Sp("sp1", 0x8001, Rig.EchoSp)]);
        return (features, answer, changes);
    }

    private static RegisterFrame JunkFrame(uint id)
    {
        var frame = default(RegisterFrame);
        frame.AsSpan().Fill(Junk);
        frame[0] = id;
        return frame;
    }

    // ---- DirectRequestsBetweenVms ----

    [Theory]
    [InlineData("default", null, FfaError.InvalidParameters)]
    [InlineData("xen", FfaError.NotSupported, FfaError.NotSupported)]
    public void DirectRequestsBetweenVms_AVmToVmRequest_IsDeliveredOrRefused_BeforeTheSelfCheck(string name, FfaError? toVm2, FfaError toSelf)
    {
        var answers = new List<RegisterFrame>();
        var changes = new ChangeLog();
        var platform = Run(P(name), p =>
        [
            Rig.Vm("vm1", 1, async c =>
            {
                await c.CallAsync(Version(FfaVersion.V1_2));
                await DiscoveryTests.MapAsync(c);
                var request = RegisterFrame.Of(Rig.Id32(FfaFunction.MsgSendDirectReq), 0x0001_0002, 0, 42);
                answers.Add(await Rig.UntilNotBusy(() => Checked(c, p, request, changes)));
                answers.Add(await Checked(c, p, RegisterFrame.Of(Rig.Id32(FfaFunction.MsgSendDirectReq), 0x0001_0001), changes));
            }),
            Rig.Vm("vm2", 2, Firmament.Endpoints.Samples.NormalWorld.Server, Rig.VmDefaults | PartitionProperties.ReceivesDirectRequests),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
        ]);
        changes.ShouldBeClean(toVm2 is null ? 1 : 2);
        Rig.ErrorOf(answers[0]).ShouldBe(toVm2);
        if (toVm2 is null)
        {
            answers[0].W(0).ShouldBe(Rig.Id32(FfaFunction.MsgSendDirectResp));
            answers[0].X3.ShouldBe(42UL);
        }

        Rig.ErrorOf(answers[1]).ShouldBe(toSelf);
        platform["vm1"].IsAborted.ShouldBeFalse();
    }

    // ---- IndirectMessagesBetweenVms ----

    [Theory]
    [InlineData("default", null)]
    [InlineData("xen", FfaError.InvalidParameters)]
    public void IndirectMessagesBetweenVms_AVmToVmMessage_IsDeliveredOrRefused_AndSpsStillGetTheirs(string name, FfaError? toVm2)
    {
        var answers = new List<RegisterFrame>();
        var changes = new ChangeLog();
        var platform = Run(P(name), p =>
        [
            Rig.Vm("vm1", 1, async c =>
            {
                await c.CallAsync(Version(FfaVersion.V1_2));
                await DiscoveryTests.MapAsync(c);
                answers.Add(await Rig.UntilNotBusy(() => Send2(c, p, 2, changes)));
                answers.Add(await Send2(c, p, 0x8001, changes));
            }),
            Rig.Vm("vm2", 2, async c =>
            {
                await c.CallAsync(Version(FfaVersion.V1_2));
                await DiscoveryTests.MapAsync(c);
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
        ]);
        changes.ShouldBeClean(toVm2 is null ? 0 : 1);
        Rig.ErrorOf(answers[0]).ShouldBe(toVm2);
        Rig.ErrorOf(answers[1]).ShouldBeNull();
        var vm2 = platform.Hypervisor!.Endpoint(new EndpointId(2))!;
        vm2.Mailbox.RxOwner.ShouldBe(toVm2 is null ? RxOwner.Endpoint : RxOwner.Manager);
        vm2.HypervisorFrameworkPending.ShouldBe(toVm2 is null ? 1u : 0u);
    }

    private static ValueTask<RegisterFrame> Send2(EndpointContext c, Func<Platform> p, ushort to, ChangeLog changes)
    {
        var payload = "hello"u8.ToArray();
        var header = IndirectMessageHeader.For(FfaVersion.V1_2, new EndpointId(1), new EndpointId(to), (uint)payload.Length);
        var size = IndirectMessageHeader.SizeFor(FfaVersion.V1_2);
        var bytes = new byte[size + payload.Length];
        header.TryWrite(bytes, FfaVersion.V1_2, out _);
        payload.CopyTo(bytes, size);
        c.Memory.TryWrite(c.Buffers.Tx, bytes, out _);
        return Checked(c, p, RegisterFrame.Of(Rig.Id32(FfaFunction.MsgSend2)), changes);
    }

    // ---- RegsTagOnFirstCall ----

    [Theory]
    [InlineData("default", FfaError.Retry)]
    [InlineData("hafnium", FfaError.Retry)]
    [InlineData("xen", FfaError.InvalidParameters)]
    public void RegsTagOnFirstCall_ANonZeroTag_IsRetryOrABadParameter_OnlyOnTheFirstCall(string name, FfaError first)
    {
        var answers = new List<RegisterFrame>();
        Run(P(name), _ =>
        [
            Rig.Vm("vm1", 1, async c =>
            {
                await c.CallAsync(Version(FfaVersion.V1_2));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.PartitionInfoGetRegs), 0, 0, 5u << 16));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.PartitionInfoGetRegs), 0, 0, (5u << 16) | 1));
                answers.Add(await c.Call(Rig.Id64(FfaFunction.PartitionInfoGetRegs), 0, 0, 0));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
        ]);
        Rig.ErrorOf(answers[0]).ShouldBe(first);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Retry);
        Rig.ErrorOf(answers[2]).ShouldBeNull();
    }

    // ---- FEATURES and the dispatcher agree ----

    public static TheoryData<string, string> EveryPersonalityAndCaller()
    {
        var data = new TheoryData<string, string>();
        foreach (var personality in Personality.All)
        {
            foreach (var caller in new[] { "vm", "vm-alone", "sp", "kernel" })
            {
                data.Add(personality.Name, caller);
            }
        }

        return data;
    }

    /// <summary>
    /// For every function number 0x60..0x8E in both conventions: FEATURES says SUCCESS exactly when the call itself is
    /// not answered NOT_SUPPORTED (made with junk arguments that every served handler refuses for another reason), and
    /// no error changes anything. Callers: a VM at the hypervisor (with and without a secure world), an SP at the SPMC,
    /// the OS kernel at the SPMC's port.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryPersonalityAndCaller))]
    public void Features_AgreesWithWhatTheDispatcherServes_ForEveryFunctionId(string name, string caller)
    {
        var disagreements = new List<string>();
        var changes = new ChangeLog();
        var probed = 0;
        Func<Func<Platform>, EndpointProgram> program = p => async c =>
        {
            await c.CallAsync(Version(FfaVersion.V1_2));
            for (var number = FfaFunctions.First; number <= FfaFunctions.Last; number++)
            {
                foreach (var is64 in new[] { false, true })
                {
                    var id = FfaFunctions.Id((FfaFunction)number, is64).Value;
                    var features = await c.CallAsync(Features(id));
                    var frame = (FfaFunction)number switch
                    {
                        FfaFunction.Version => RegisterFrame.Of(id, FfaVersion.V1_2.Encode()),
                        FfaFunction.Features => Features(Rig.Id32(FfaFunction.Features)),
                        _ => JunkFrame(id),
                    };
                    frame[0] = id;
                    var answer = await Checked(c, p, frame, changes);
                    var offered = Rig.ErrorOf(features) is null;
                    var served = (FfaFunction)number == FfaFunction.Version && !is64
                        ? answer.W(0) != FfaVersion.NotSupported
                        : Rig.ErrorOf(answer) != FfaError.NotSupported;
                    if (offered != served)
                    {
                        disagreements.Add($"0x{id:X8}: FEATURES {(offered ? "SUCCESS" : "NOT_SUPPORTED")}, the call {(served ? "served" : "NOT_SUPPORTED")}");
                    }

                    probed++;
                }
            }

            if (c.Vcpu.Endpoint.IsSecure)
            {
                await c.Call(Rig.Id32(FfaFunction.MsgWait));
            }
        };
        var platform = Run(P(name), p => caller switch
        {
            "vm" => [Rig.Vm("vm1", 1, program(p)), Rig.Sp("sp1", 0x8001, Rig.EchoSp)],
            "vm-alone" => [Rig.Vm("vm1", 1, program(p))],
            "sp" => [Rig.Sp("sp1", 0x8001, program(p))],
            _ => [Rig.Kernel(program(p)), Rig.Sp("sp1", 0x8001, Rig.EchoSp)],
        }, caller switch
        {
            "kernel" => PlatformRoles.KernelAndSpmc,
            "vm-alone" => PlatformRoles.HypervisorOnly,
            _ => PlatformRoles.HypervisorAndSpmc,
        });
        platform.Trace.Events.Where(static e => e.Kind == TraceKind.Fault).Select(static e => e.Text).ShouldBeEmpty();
        probed.ShouldBe((FfaFunctions.Last - FfaFunctions.First + 1) * 2);
        disagreements.ShouldBeEmpty();
        changes.ShouldBeClean(atLeast: 50);
    }

    [Fact]
    public void Features_WithoutASecureWorld_SpmIdGetIsNeitherOfferedNorServed()
    {
        var answers = new List<RegisterFrame>();
        Run(Personality.Default, _ =>
        [
            Rig.Vm("vm1", 1, async c =>
            {
                answers.Add(await c.CallAsync(Features(Rig.Id32(FfaFunction.SpmIdGet))));
                answers.Add(await c.Call(Rig.Id32(FfaFunction.SpmIdGet)));
            }),
        ], PlatformRoles.HypervisorOnly);
        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.NotSupported);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.NotSupported);
    }

    [Fact]
    public void All_NamesAreUnique_AndEveryWithheldEntryNamesAConventionTheFunctionHas()
    {
        Personality.All.Select(static p => p.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count().ShouldBe(Personality.All.Count);
        foreach (var personality in Personality.All)
        {
            Personality.TryGet(personality.Name.ToUpperInvariant(), out var found).ShouldBeTrue();
            found.ShouldBeSameAs(personality);
            foreach (var withheld in personality.Withheld)
            {
                var defined = FfaFunctions.Info(withheld.Function)!.Conventions;
                (withheld.Conventions & defined).ShouldNotBe(CallConventions.None, $"{personality.Name}: {withheld}");
            }
        }
    }

    [Fact]
    public void TheDocsTable_HasAColumnPerPersonality_AndARowPerField()
    {
        var doc = File.ReadAllText(DocsPath());
        doc.ShouldContain("| difference (field) | " + string.Join(" | ", Personality.All.Select(static p => p.Name)) + " | source |");
        var fields = typeof(Personality).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Select(static p => p.Name)
            .Where(static n => n is not ("Name" or "Roles"));
        foreach (var field in fields)
        {
            doc.ShouldContain($"(`{field}`)");
        }
    }

    private static string DocsPath([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "docs", "personalities.md");
}
