using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Scenarios;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Ffa;

/// <summary>The hot paths allocate nothing in steady state (bytes counted, never time).</summary>
public class FastPathAllocationTests
{
    private const int Warmup = 2_000;
    private const int Measured = 50_000;

    private static bool IsUnoptimized(System.Reflection.Assembly assembly) =>
        assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            .OfType<System.Diagnostics.DebuggableAttribute>().Any(static a => a.IsJITOptimizerDisabled);

    [Fact]
    public void FastCalls_FromAManagedVm_AllocateNothing()
    {
        long allocated = -1;
        var vm = Rig.Vm("vm1", 1, async context =>
        {
            var version = RegisterFrame.Of(Rig.Id32(FfaFunction.Version), FfaVersion.V1_2.Encode());
            var idGet = RegisterFrame.Of(Rig.Id32(FfaFunction.IdGet));
            var features = RegisterFrame.Of(Rig.Id32(FfaFunction.Features), Rig.Id32(FfaFunction.RxTxMap));
            for (var i = 0; i < Warmup; i++)
            {
                await context.CallAsync(idGet);
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Measured; i++)
            {
                await context.CallAsync(version);
                await context.CallAsync(idGet);
                await context.CallAsync(features);
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });

        var platform = Rig.Run(new PlatformDescription { Pcpus = 1, Partitions = [vm] }, trace: false);
        platform.Hypervisor!.CallsByFunction[(int)FfaFunction.IdGet - 0x60].ShouldBe(Warmup + Measured);
        allocated.ShouldBe(0);
    }

    [Fact]
    public void DirectRequestRoundTrips_VmToSp_AllocateNothing()
    {
        long allocated = -1;
        var vm = Rig.Vm("vm1", 1, async context =>
        {
            var request = RegisterFrame.Of(Rig.Id64(FfaFunction.MsgSendDirectReq), 0x0001_8001, 0, 7);
            for (var i = 0; i < Warmup; i++)
            {
                await context.CallAsync(request);
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Measured; i++)
            {
                var answer = await context.CallAsync(request);
                if (answer.X3 != 7)
                {
                    throw new InvalidOperationException("wrong echo");
                }
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });

        var platform = Rig.Run(new PlatformDescription { Pcpus = 1, Partitions = [vm, Rig.Sp("sp1", 0x8001, Rig.EchoSp)] }, trace: false);
        platform.Spmc!.CallsByFunction[(int)FfaFunction.MsgSendDirectResp - 0x60].ShouldBe(Warmup + Measured);

        // A switching call suspends the endpoints' async methods; unoptimized (Debug) builds keep their state machines
        // as classes, so only an optimized build can show zero (./test builds Release).
        Assert.SkipWhen(IsUnoptimized(typeof(Rig).Assembly) || IsUnoptimized(typeof(Firmament.Ffa.Spmc).Assembly), "allocation-free switching holds for optimized builds only");
        allocated.ShouldBe(0);
    }

    [Fact]
    public void NotificationRoundTrips_SetNpiGet_BetweenTwoVms_AllocateNothing()
    {
        // Ping-pong: vm1 sets ID 0 for vm2 and waits (WFI); vm2's NPI handler takes it and sets ID 0 back.
        long allocated = -1;
        var set = (ushort from, ushort to) =>
        {
            var frame = default(RegisterFrame);
            new NotificationSet(new SenderReceiver(new EndpointId(from), new EndpointId(to)), NotificationSetFlags.None, 0, NotificationBitmap.Of(0)).Encode(ref frame);
            return frame;
        };
        static RegisterFrame Get(ushort self)
        {
            var frame = default(RegisterFrame);
            new NotificationGet(0, new EndpointId(self), NotificationGetFlags.VmBitmap).Encode(ref frame);
            return frame;
        }

        static RegisterFrame Bind(ushort sender, ushort self)
        {
            var frame = default(RegisterFrame);
            new NotificationBind(new SenderReceiver(new EndpointId(sender), new EndpointId(self)), NotificationBindFlags.None, NotificationBitmap.Of(0)).Encode(ref frame);
            return frame;
        }

        var bound = false;
        var vm1 = Rig.Vm("vm1", 1, async context =>
        {
            var interrupts = context.Interrupts!;
            var ping = set(1, 2);
            var get = Get(1);
            interrupts.Handle(5, async _ => await context.CallAsync(get));
            await context.CallAsync(Bind(2, 1));
            while (!bound)
            {
                await context.CallAsync(RegisterFrame.Of(Rig.Id32(FfaFunction.IdGet)));
            }

            for (var i = 0; i < Warmup; i++)
            {
                await context.CallAsync(ping);
                await interrupts.WaitForInterruptAsync();
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Measured; i++)
            {
                await context.CallAsync(ping);
                await interrupts.WaitForInterruptAsync();
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        var vm2 = Rig.Vm("vm2", 2, async context =>
        {
            var interrupts = context.Interrupts!;
            var pong = set(2, 1);
            var get = Get(2);
            interrupts.Handle(5, async _ =>
            {
                await context.CallAsync(get);
                await context.CallAsync(pong);
            });
            await context.CallAsync(Bind(1, 2));
            bound = true;
            while (true)
            {
                await interrupts.WaitForInterruptAsync();
            }
        });

        var platform = Rig.Run(new PlatformDescription { Pcpus = 1, Partitions = [vm1, vm2] }, trace: false);
        platform.Hypervisor!.CallsByFunction[(int)FfaFunction.NotificationGet - 0x60].ShouldBe(2 * (Warmup + Measured));
        Assert.SkipWhen(IsUnoptimized(typeof(Rig).Assembly) || IsUnoptimized(typeof(Firmament.Ffa.Spmc).Assembly), "allocation-free switching holds for optimized builds only");
        allocated.ShouldBe(0);
    }
}
