using Firmament.Machine;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Machine;

public class InterruptControllerTests
{
    [Fact]
    public void Acknowledge_TakesTheLowestEnabledPendingId_AndEndOfInterruptRetiresIt()
    {
        var gic = new VirtualCpuInterface();
        gic.Enable(8);
        gic.Enable(40);
        gic.SetPending(40).ShouldBeTrue();
        gic.SetPending(8).ShouldBeTrue();
        gic.SetPending(8).ShouldBeFalse(); // already pending
        gic.Acknowledge().ShouldBe(8);
        gic.IsActive(8).ShouldBeTrue();
        gic.IsPending(8).ShouldBeFalse();
        gic.Acknowledge().ShouldBe(40);
        gic.Acknowledge().ShouldBe(InterruptIds.Spurious);
        gic.EndOfInterrupt(8).ShouldBeTrue();
        gic.EndOfInterrupt(8).ShouldBeFalse();
    }

    [Fact]
    public void ADisabledInterrupt_StaysPending_AndSignalsWhenEnabled()
    {
        var gic = new VirtualCpuInterface();
        var signalled = new List<int>();
        gic.Signalled = signalled.Add;
        gic.SetPending(5);
        gic.HasDeliverable.ShouldBeFalse();
        signalled.ShouldBeEmpty();
        gic.Enable(5);
        signalled.ShouldBe([5]);
        gic.Acknowledge().ShouldBe(5);
    }

    [Fact]
    public void InvalidIds_AreIgnored()
    {
        var gic = new VirtualCpuInterface();
        gic.SetPending(1020).ShouldBeFalse();
        gic.SetPending(-1).ShouldBeFalse();
        gic.HasDeliverable.ShouldBeFalse();
    }
}
