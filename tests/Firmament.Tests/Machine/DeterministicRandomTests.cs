using Firmament.Machine;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Machine;

public class DeterministicRandomTests
{
    [Fact]
    public void TheSameSeed_GivesTheSameSequence_AndAnotherSeedAnother()
    {
        var a = new DeterministicRandom(42);
        var b = new DeterministicRandom(42);
        var c = new DeterministicRandom(43);
        var first = Enumerable.Range(0, 8).Select(_ => a.NextUInt64()).ToArray();
        Enumerable.Range(0, 8).Select(_ => b.NextUInt64()).ToArray().ShouldBe(first);
        Enumerable.Range(0, 8).Select(_ => c.NextUInt64()).ToArray().ShouldNotBe(first);
    }

    [Fact]
    public void Next_StaysInRange_AndCoversIt()
    {
        var random = new DeterministicRandom(1);
        var seen = new HashSet<int>();
        for (var i = 0; i < 1000; i++)
        {
            var n = random.Next(5);
            n.ShouldBeInRange(0, 4);
            seen.Add(n);
        }

        seen.Count.ShouldBe(5);
    }
}
