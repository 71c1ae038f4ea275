using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

public class ChromeTraceExportTests
{
    private static readonly Lazy<(Firmament.Scenarios.Platform Platform, ChromeTraceFile File)> DefaultRun = new(static () =>
    {
        var platform = TraceRuns.Default();
        return (platform, ChromeTraceFile.Parse(TraceExport.ToChromeJson(platform)));
    });

    private static Firmament.Scenarios.Platform Platform => DefaultRun.Value.Platform;

    private static ChromeTraceFile File => DefaultRun.Value.File;

    [Fact]
    public void ChromeJson_OfTheDefaultDemo_FollowsTheTraceEventFormat()
    {
        File.Errors.ShouldBeEmpty();
        var root = File.Document.RootElement;
        root.GetProperty("displayTimeUnit").GetString().ShouldBe("ns");
        root.GetProperty("otherData").GetProperty("seed").GetUInt64().ShouldBe(0UL);
        File.Events.Select(static e => e.Ph).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ShouldBe(["M", "X", "f", "i", "s"]);
    }

    [Fact]
    public void ChromeJson_NamesATrackForEveryPcpuAndEveryVcpu()
    {
        var threads = File.ThreadNames.Values.ToList();
        threads.ShouldHave("pCPU0");
        threads.ShouldHave("pCPU1");
        foreach (var partition in Platform.Partitions)
        {
            foreach (var vcpu in partition.Vcpus)
            {
                threads.ShouldHave($"{partition.Name} vCPU{vcpu.Id.Index}");
            }

            File.ProcessNames.Values.ShouldContain(p => p.StartsWith(partition.Name + " ", StringComparison.Ordinal));
        }

        // The hypervisor's own vCPU (it sends the VM-created messages) has a track of its own.
        threads.ShouldHave("hypervisor vCPU0");
        File.ProcessNames.Values.ShouldHave("pCPUs");
    }

    [Fact]
    public void ChromeJson_PcpuTracks_ShowWhoHeldThemAndTheWorldSwitches()
    {
        var pcpu0 = File.On("pCPU0").Where(static e => e.Ph == "X").ToList();
        pcpu0.ShouldContain(static s => s.Name == "vm1 vCPU0" && s.Cat == "vcpu");
        pcpu0.ShouldContain(static s => s.Name == "sp1 vCPU0" && s.Cat == "vcpu");
        var world = pcpu0.Where(static s => s.Name == "world switch").ToList();
        world.ShouldNotBeEmpty();
        world.ShouldAllBe(static s => s.Dur == 400); // the cost model's switch
        world.ShouldContain(static s => s.Arg("from") == "vm1 vCPU0" && s.Arg("to") == "sp1 vCPU0");
        pcpu0.ShouldContain(static s => s.Name == "switch" && s.Arg("from") == "vm1 vCPU0" && s.Arg("to") == "vm2 vCPU0");

        // pCPU1 ran sp1's second vCPU at boot and vm2 until it first waited.
        File.On("pCPU1").Where(static e => e.Ph == "X").Select(static s => s.Name).Distinct(StringComparer.Ordinal).ShouldBe(["sp1 vCPU1", "vm2 vCPU0"], ignoreOrder: true);
    }

    [Fact]
    public void ChromeJson_CallSlices_RunFromCallToReturn_WithDecodedFieldsAndErrorNames()
    {
        var vm1 = File.On("vm1 vCPU0").Where(static e => e.Ph == "X").ToList();
        vm1.ShouldAllBe(static s => s.Cat == "call");
        var request = vm1.First(static s => s.Name == "FFA_MSG_SEND_DIRECT_REQ");
        request.Args.GetProperty("call").GetProperty("receiver").GetString().ShouldBe("0x8001 (SP)");
        request.Args.GetProperty("call").GetProperty("payload0").GetString().ShouldBe("0x1");
        request.Args.GetProperty("return").GetProperty("abi").GetString().ShouldBe("FFA_MSG_SEND_DIRECT_RESP");
        request.Arg("switched_to").ShouldBe("sp1 vCPU0");
        request.Arg("resumed_by").ShouldBe("sp1 vCPU0 FFA_MSG_SEND_DIRECT_RESP");
        request.Dur.ShouldBe(50 + 400 + 50 + 400); // call, switch there, the SP's response, switch back

        var denied = vm1.Single(static s => s.Name == "FFA_RX_RELEASE" && s.Arg("error") is not null);
        denied.Arg("error").ShouldBe("DENIED");
        denied.Args.GetProperty("return").GetProperty("abi").GetString().ShouldBe("FFA_ERROR");
        denied.Dur.ShouldBe(100); // completed at once: its own call's cost and the hypervisor's forwarded RX_RELEASE at the SPMC

        vm1.ShouldContain(static s => s.Name == "FFA_MSG_SEND_DIRECT_REQ" && s.Arg("error") == "INVALID_PARAMETERS");
        vm1.Count(static s => s.Arg("error") == "ABORTED").ShouldBe(2);
    }

    [Fact]
    public void ChromeJson_CallsStillOpenAtTheEnd_RunToTheEndOfTheTrace()
    {
        var end = File.Slices.Max(static s => s.End);
        var waiting = File.On("sp1 vCPU1").Where(static e => e.Ph == "X").Last();
        waiting.Name.ShouldBe("FFA_MSG_WAIT");
        waiting.Arg("no_return").ShouldBe("unfinished");
        waiting.End.ShouldBe(end);
    }

    [Fact]
    public void ChromeJson_Flows_GoFromTheSwitchingCallToTheCallThatReturnsWithIt()
    {
        var flows = File.Events.Where(static e => e.Ph is "s" or "f").GroupBy(static e => e.Json.GetProperty("id").GetInt32()).ToList();
        flows.ShouldNotBeEmpty();
        flows.Select(static f => f.Key).ShouldBe(Enumerable.Range(1, flows.Count));
        foreach (var flow in flows)
        {
            var start = flow.Single(static e => e.Ph == "s");
            var end = flow.Single(static e => e.Ph == "f");
            var from = File.BoundSlice(start).ShouldNotBeNull();
            var to = File.BoundSlice(end).ShouldNotBeNull();
            from.Cat.ShouldBe("call");
            from.Name.ShouldBe(start.Name);
            from.Arg("switched_to").ShouldBe(File.ThreadNames[(to.Pid, to.Tid)]);
            to.Cat.ShouldBe("call");
            to.End.ShouldBe(end.Ts, "a flow ends where the receiver's call returns");
        }

        // At least the request reaching the receiver and the response reaching the sender.
        var vm1 = File.Thread("vm1 vCPU0");
        var sp1 = File.Thread("sp1 vCPU0");
        bool Has(string name, (int Pid, int Tid) from, (int Pid, int Tid) to) => flows.Any(f =>
            f.Single(static e => e.Ph == "s") is var s && s.Name == name && (s.Pid, s.Tid) == from
            && f.Single(static e => e.Ph == "f") is var e && (e.Pid, e.Tid) == to);
        Has("FFA_MSG_SEND_DIRECT_REQ", vm1, sp1).ShouldBeTrue();
        Has("FFA_MSG_SEND_DIRECT_RESP", sp1, vm1).ShouldBeTrue();
        Has("FFA_MSG_SEND_DIRECT_REQ2", vm1, sp1).ShouldBeTrue();
        Has("FFA_YIELD", sp1, vm1).ShouldBeTrue();
        Has("FFA_RUN", vm1, sp1).ShouldBeTrue();
        Has("FFA_MSG_SEND_DIRECT_REQ", vm1, File.Thread("vm2 vCPU0")).ShouldBeTrue();
    }

    [Fact]
    public void ChromeJson_Instants_CarryConsoleLinesAndFaults()
    {
        var console = File.Events.Where(static e => e.Ph == "i" && e.Cat == "console").ToList();
        console.Select(static e => e.Arg("text")).ShouldBe(Platform.Console.Select(static l => l.Text));
        console.ShouldAllBe(static e => e.Json.GetProperty("s").GetString() == "t");

        var fault = File.Events.Single(static e => e.Ph == "i" && e.Cat == "fault");
        fault.Name.ShouldBe("FAULT");
        File.ThreadNames[(fault.Pid, fault.Tid)].ShouldBe("sp2 vCPU0");
        fault.Arg("report").ShouldBe("sp2: managed exception InvalidOperationException: the faulty partition was asked to crash");
    }

    [Fact]
    public void ChromeJson_TimesAreVirtualMicroseconds_WithNanosecondDecimals()
    {
        // The first world switch into sp1 for vm1's first request (after the three VM-created messages at boot).
        var request = File.On("vm1 vCPU0").First(static s => s.Name == "FFA_MSG_SEND_DIRECT_REQ");
        request.Json.GetProperty("ts").GetRawText().ShouldBe("4.55");
        request.Json.GetProperty("dur").GetRawText().ShouldBe("0.9");
    }

    [Fact]
    public void ChromeJson_WithTheRecorderOff_IsStillAValidFileWithTheTracks()
    {
        var platform = TraceRuns.Default(trace: false);
        var file = ChromeTraceFile.Parse(TraceExport.ToChromeJson(platform));
        file.Errors.ShouldBeEmpty();
        file.Events.ShouldAllBe(static e => e.Ph == "M");
        file.ThreadNames.Values.ShouldHave("pCPU1");
        file.ThreadNames.Values.ShouldHave("sp1 vCPU1");
    }

    [Theory]
    [InlineData(0UL, "0")]
    [InlineData(50UL, "0.05")]
    [InlineData(2950UL, "2.95")]
    [InlineData(1001UL, "1.0010000000000001")]
    [InlineData(1_000_000_000UL, "1000000")]
    public void Microseconds_AreWrittenSoPerfettoReadsTheExactNanosecond(ulong ns, string written)
    {
        var us = Firmament.Scenarios.Traces.ChromeTrace.ToMicroseconds(ns);
        us.ToString("R", System.Globalization.CultureInfo.InvariantCulture).ShouldBe(written);
        ((ulong)(us * 1000.0)).ShouldBe(ns);
    }

    [Fact]
    public void Microseconds_ReadBackExactly_ForEveryNanosecondUpTo2Ms()
    {
        for (ulong ns = 0; ns <= 2_000_000; ns++)
        {
            var us = Firmament.Scenarios.Traces.ChromeTrace.ToMicroseconds(ns);
            var reread = double.Parse(us.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
            if ((ulong)(reread * 1000.0) != ns || decimal.Round((decimal)reread * 1000) != ns)
            {
                Assert.Fail($"{ns} ns is written as {us:R} µs");
            }
        }
    }
}
