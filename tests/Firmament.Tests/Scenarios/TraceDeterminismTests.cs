using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Scenarios;

/// <summary>The same platform and seed give the same trace, byte for byte; other seeds explore other schedules and still finish.</summary>
public class TraceDeterminismTests
{
    [Theory]
    [InlineData(0UL, ScheduleStrategy.Fair)]
    [InlineData(3UL, ScheduleStrategy.Fair)]
    [InlineData(11UL, ScheduleStrategy.Random)]
    public void SamePlatformAndSeed_GiveByteIdenticalExports(ulong seed, ScheduleStrategy strategy)
    {
        var first = TraceRuns.Default(seed, strategy);
        var second = TraceRuns.Default(seed, strategy);

        TraceExport.ToChromeJson(second).ShouldBe(TraceExport.ToChromeJson(first));
        TraceExport.ToMermaid(second).ShouldBe(TraceExport.ToMermaid(first));
        TraceExport.ToText(second).ShouldBe(TraceExport.ToText(first));
        second.Trace.Events.Count.ShouldBe(first.Trace.Events.Count);
    }

    [Fact]
    public void Exports_ReadTheTraceOnly_SoExportingTwiceGivesTheSameBytes()
    {
        var platform = TraceRuns.Default();
        TraceExport.ToChromeJson(platform).ShouldBe(TraceExport.ToChromeJson(platform));
        TraceExport.ToMermaid(platform).ShouldBe(TraceExport.ToMermaid(platform));
        TraceExport.ToText(platform).ShouldBe(TraceExport.ToText(platform));
    }

    [Fact]
    public void DifferentSeeds_UnderTheRandomSchedule_InterleaveDifferently_AndStillFinishTheDemo()
    {
        var texts = new HashSet<string>(StringComparer.Ordinal);
        var reference = TraceRuns.Default().Console.Select(static l => (l.Partition, l.Text)).ToList();
        for (ulong seed = 1; seed <= 8; seed++)
        {
            var platform = TraceRuns.Default(seed, ScheduleStrategy.Random);

            // Each pCPU keeps its own clock, so the lines may interleave in another order, but every line is there.
            platform.Console.Select(static l => (l.Partition, l.Text)).ShouldBe(reference, ignoreOrder: true, $"seed {seed}");
            platform.Console.Last(static c => c.Partition == "vm1").Text.ShouldBe("demo client done");
            platform.Partitions.Single(static p => p.IsAborted).Name.ShouldBe("sp2");

            var file = ChromeTraceFile.Parse(TraceExport.ToChromeJson(platform));
            file.Errors.ShouldBeEmpty($"seed {seed}");
            file.Slices.ShouldAllBe(static s => s.Arg("return_before_call_ns") == null);
            texts.Add(WithoutHeader(TraceExport.ToText(platform)));
        }

        texts.Count.ShouldBeGreaterThan(1, "the seeds should give more than one schedule");
    }

    [Fact]
    public void DifferentSeeds_UnderTheFairSchedule_BreakTiesDifferently()
    {
        var texts = new HashSet<string>(StringComparer.Ordinal);
        for (ulong seed = 0; seed < 6; seed++)
        {
            texts.Add(WithoutHeader(TraceExport.ToText(TraceRuns.Default(seed))));
        }

        texts.Count.ShouldBeGreaterThan(1);
    }

    /// <summary>The text trace without its first line (which names the seed).</summary>
    private static string WithoutHeader(string text) => text[(text.IndexOf('\n', StringComparison.Ordinal) + 1)..];
}
