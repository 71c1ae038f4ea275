using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Endpoints.Emulation;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;
using Firmament.Tests.Ffa;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Emulation;

public class FaultContainmentTests
{
    private const ulong ReadOnly = 0x2000_0000;
    private const ulong Shared = 0x2100_0000;
    private const ulong Nowhere = 0x3000_0000;

    [Theory]
    [InlineData(1UL, Nowhere, "stage-2 translation fault at IPA 0x30000000 (Read)", "ldr")]
    [InlineData(2UL, Nowhere, "stage-2 translation fault at IPA 0x30000000 (Write)", "str")]
    [InlineData(2UL, ReadOnly, "stage-2 permission fault at IPA 0x20000000 (Write)", "str")]
    [InlineData(3UL, 0UL, "undefined instruction", ".inst 0x00000000")]
    [InlineData(4UL, 0UL, "breakpoint (BRK)", "brk #0x42")]
    public void AFaultingEmulatedSp_IsAborted_WithAReport_ItsCallerGetsAborted_AndOthersRunOn(ulong kind, ulong address, string reason, string instruction)
    {
        var answers = new List<RegisterFrame>();
        var platform = Rig.Run(
            Rig.Vm("vm1", 1, async c =>
            {
                answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, kind, address)));
                answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, 0)));
                answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8001, 77)));
            }),
            Rig.Sp("sp1", 0x8001, Rig.EchoSp),
            FaultySp());

        Rig.ErrorOf(answers[0]).ShouldBe(FfaError.Aborted);
        Rig.ErrorOf(answers[1]).ShouldBe(FfaError.Aborted);
        answers[2].X3.ShouldBe(77UL);
        var faulty = platform["faulty"];
        faulty.IsAborted.ShouldBeTrue();
        faulty.Vcpus[0].State.ShouldBe(VcpuState.Aborted);
        var report = Guests.Backend(faulty).Fault.ShouldNotBeNull();
        report.Reason.ShouldBe(reason);
        report.Disassembly.ShouldStartWith(instruction);
        report.Pc.ShouldBeInRange(Guests.SpRam, Guests.SpRam + 0x10000);
        faulty.AbortReason.ShouldBe(report.ToString());
        platform["vm1"].IsAborted.ShouldBeFalse();
        platform["sp1"].IsAborted.ShouldBeFalse();
        platform.Trace.Events.ShouldContain(e => e.Kind == TraceKind.Fault && e.Vcpu.Endpoint == new EndpointId(0x8002));
    }

    [Fact]
    public void SharedPages_AreTheSameBytes_AndAStage2UnmapTakesEffectAtOnce()
    {
        var answers = new List<RegisterFrame>();
        Platform? platform = null;
        platform = Platform.Build(
            new PlatformDescription
            {
                Pcpus = 1,
                Partitions =
                [
                    Rig.Vm("vm1", 1, async c =>
                    {
                        var sp = platform!["faulty"];
                        sp.Memory.TryWriteUInt64(Shared + 8, 0x1234_5678_9ABC, out _).ShouldBeTrue();
                        answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, 1, Shared + 8)));
                        answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, 2, Shared + 16)));
                        sp.Memory.TryReadUInt64(Shared + 16, out var written, out _).ShouldBeTrue();
                        answers.Add(RegisterFrame.Of(written));
                        Guests.Backend(sp).Maps(Shared).ShouldBeTrue();
                        sp.Memory.Stage2.Unmap(Shared, 1);
                        Guests.Backend(sp).Maps(Shared).ShouldBeFalse();
                        answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, 1, Shared + 8)));
                    }),
                    FaultySp(),
                ],
            },
            new TraceRecorder { Enabled = true });
        platform.Boot();
        platform.Run();

        answers[0][5].ShouldBe(0x1234_5678_9ABCUL);
        Rig.ErrorOf(answers[1]).ShouldBeNull();
        answers[2].X0.ShouldBe(0x5AFEUL);
        Rig.ErrorOf(answers[3]).ShouldBe(FfaError.Aborted);
        Guests.Backend(platform["faulty"]).Fault!.Reason.ShouldBe("stage-2 translation fault at IPA 0x21000008 (Read)");
    }

    [Fact]
    public void APermissionChange_TakesEffectAtOnce()
    {
        var answers = new List<RegisterFrame>();
        Platform? platform = null;
        platform = Platform.Build(
            new PlatformDescription
            {
                Pcpus = 1,
                Partitions =
                [
                    Rig.Vm("vm1", 1, async c =>
                    {
                        answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, 2, Shared)));
                        platform!["faulty"].Memory.Stage2.TrySetAccess(Shared, 1, Stage2Access.Read).ShouldBeTrue();
                        answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, 1, Shared)));
                        answers.Add(await c.CallAsync(Guests.DirectReq(1, 0x8002, 2, Shared)));
                    }),
                    FaultySp(),
                ],
            });
        platform.Boot();
        platform.Run();

        Rig.ErrorOf(answers[0]).ShouldBeNull();
        answers[1][5].ShouldBe(0x5AFEUL);
        Rig.ErrorOf(answers[2]).ShouldBe(FfaError.Aborted);
        Guests.Backend(platform["faulty"]).Fault!.Reason.ShouldBe("stage-2 permission fault at IPA 0x21000000 (Write)");
    }

    [Fact]
    public void AnExceptionInTheTrapHook_AbortsThePartition_AndNeverReachesNativeCode()
    {
        var image = new GuestImage(Guests.Image("version-loop"), Guests.VmRam, Guests.VmRam) { Arguments = [10] };
        var memory = new PhysicalMemory();
        memory.AddRange(Guests.VmRam, 256 * PhysicalMemory.PageSize, "ram");
        var stage2 = new Stage2Map();
        stage2.TryMap(Guests.VmRam, Guests.VmRam, 256, Stage2Access.All).ShouldBeTrue();
        var space = new AddressSpace(memory, stage2);
        image.TryLoad(space).ShouldBeNull();
        var scheduler = new Scheduler(1, 0);
        var handler = new ThrowingHandler(scheduler);
        using var backend = new EmulatedVcpu(scheduler, space, image);
        var vcpu = new Vcpu(new VcpuId(new EndpointId(1), 0), handler, backend, 0);
        scheduler.Ready(vcpu, default, scheduler.Pcpus[0]);

        scheduler.Run(10).ShouldBe(1);

        handler.Fault.ShouldNotBeNull();
        backend.Fault!.Reason.ShouldBe("exception escaping the trap hook: InvalidOperationException: handler bug");
        backend.Fault.Disassembly.ShouldBe("hvc #0");
        vcpu.State.ShouldBe(VcpuState.Aborted);
    }

    [Fact]
    public void AnImageThatDoesNotFit_IsRefusedBeforeAnythingRuns()
    {
        var image = new GuestImage(Guests.Image("echo-sp"), Guests.SpRam + 0x20_0000, Guests.SpRam);
        var config = Rig.Sp("big", 0x8001, program: null) with { Image = image };

        var error = Should.Throw<ArgumentException>(() => Platform.Build(new PlatformDescription { Pcpus = 1, Partitions = [config] }));

        error.Message.ShouldContain("does not fit the partition's memory: 0x10200000", Case.Sensitive);
    }

    /// <summary>The fault SP with RAM, a read-only page and a shared read-write page.</summary>
    private static PartitionConfig FaultySp() => Guests.Sp("faulty", 0x8002, "fault-sp") with
    {
        Uuids = [Uuid.Parse("22222222-2222-3333-4444-555555555555")],
        Memory =
        [
            new MemoryRegion("ram", Guests.SpRam, 256, Stage2Access.All),
            new MemoryRegion("ro", ReadOnly, 1, Stage2Access.Read),
            new MemoryRegion("shared", Shared, 1, Stage2Access.ReadWrite),
        ],
    };

    private sealed class ThrowingHandler(Scheduler scheduler) : ICallHandler
    {
        public string? Fault { get; private set; }

        public CallOutcome Call(Vcpu caller, ref RegisterFrame frame) => throw new InvalidOperationException("handler bug");

        public void OnStopped(Vcpu vcpu, string? fault)
        {
            Fault = fault;
            scheduler.Stop(vcpu, fault is null ? VcpuState.Off : VcpuState.Aborted);
        }
    }
}
