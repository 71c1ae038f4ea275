using BenchmarkDotNet.Attributes;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Benchmarks;

/// <summary>
/// VM-to-VM notifications between two managed VMs on one pCPU (hypervisor + SPMC, trace off), ping-pong: vm1 sets ID 0
/// for vm2 and waits (WFI); the hypervisor injects vm2's NPI, which wakes vm2 from its WFI; vm2's handler takes ID 0
/// with GET and sets ID 0 for vm1, whose NPI handler takes it with GET. One operation is one SET → NPI → GET.
/// </summary>
[MemoryDiagnoser]
public class NotificationRoundTripBenchmarks
{
    private const int RoundTrips = 50_000;
    private const int Npi = 5;
    private Platform _platform = null!;
    private Vcpu _vm1 = null!;

    [GlobalSetup]
    public void Setup()
    {
        var description = new PlatformDescription
        {
            Pcpus = 1,
            Partitions =
            [
                Vm("vm1", 1, Pinger),
                Vm("vm2", 2, Ponger),
            ],
        };
        _platform = Platform.Build(description);
        _platform.Boot();
        _platform.Run();
        _vm1 = _platform["vm1"].Vcpus[0];
    }

    [Benchmark(OperationsPerInvoke = 2 * RoundTrips)]
    public long SetInterruptGet()
    {
        var scheduler = _platform.Scheduler;
        scheduler.Ready(_vm1, default, scheduler.Pcpus[0]);
        return scheduler.Run();
    }

    private static PartitionConfig Vm(string name, ushort id, EndpointProgram program) => new()
    {
        Name = name,
        Id = new EndpointId(id),
        Kind = PartitionKind.Vm,
        Properties = PartitionProperties.AArch64,
        Program = program,
    };

    /// <summary>vm1: binds ID 0 to vm2, then per wake-up <see cref="RoundTrips"/> times: SET for vm2, WFI until vm2's SET comes back.</summary>
    private static async ValueTask Pinger(EndpointContext context)
    {
        var interrupts = context.Interrupts!;
        interrupts.Handle(Npi, _ => Take(context));
        await Bind(context, sender: 2);
        var set = Set(from: 1, to: 2);
        var wait = RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait));
        context.Registers = wait;
        await context.CallAsync();
        while (true)
        {
            for (var i = 0; i < RoundTrips; i++)
            {
                context.Registers = set;
                await context.CallAsync();
                await interrupts.WaitForInterruptAsync();
            }

            context.Registers = wait;
            await context.CallAsync();
        }
    }

    /// <summary>vm2: its NPI handler takes ID 0 and sets ID 0 for vm1; otherwise it waits for interrupts.</summary>
    private static async ValueTask Ponger(EndpointContext context)
    {
        var interrupts = context.Interrupts!;
        var back = Set(from: 2, to: 1);
        interrupts.Handle(Npi, async _ =>
        {
            await Take(context);
            context.Registers = back;
            await context.CallAsync();
        });
        await Bind(context, sender: 1);
        while (true)
        {
            await interrupts.WaitForInterruptAsync();
        }
    }

    private static async ValueTask Bind(EndpointContext context, ushort sender)
    {
        new NotificationBind(new SenderReceiver(new EndpointId(sender), context.Vcpu.Endpoint), NotificationBindFlags.None, NotificationBitmap.Of(0))
            .Encode(ref context.Registers);
        await context.CallAsync();
    }

    private static ValueTask Take(EndpointContext context)
    {
        new NotificationGet(0, context.Vcpu.Endpoint, NotificationGetFlags.VmBitmap).Encode(ref context.Registers);
        return context.CallAsync();
    }

    private static RegisterFrame Set(ushort from, ushort to)
    {
        var frame = default(RegisterFrame);
        new NotificationSet(new SenderReceiver(new EndpointId(from), new EndpointId(to)), NotificationSetFlags.None, 0, NotificationBitmap.Of(0)).Encode(ref frame);
        return frame;
    }
}

/// <summary>
/// FFA_NOTIFICATION_INFO_GET_64 from the kernel (the physical endpoint, no hypervisor) with 20 SP receivers pending:
/// each answer lists all 20 (a full x3..x7). Before each call the 20 receivers are marked pending again directly in
/// the SPMC's state (a bit raise, as SET would leave it), so every call does the full listing.
/// </summary>
[MemoryDiagnoser]
public class NotificationInfoGetBenchmarks
{
    private const int Calls = 100_000;
    private const int Receivers = 20;
    private Platform _platform = null!;
    private Vcpu _kernel = null!;
    private NotificationReceiver[] _receivers = [];

    [GlobalSetup]
    public void Setup()
    {
        var partitions = new List<PartitionConfig>
        {
            new()
            {
                Name = "linux",
                Id = EndpointId.Hypervisor,
                Kind = PartitionKind.Kernel,
                Memory = [new MemoryRegion("ram", 0x8800_0000, 16, Stage2Access.All)],
                Program = Scheduler,
            },
        };
        for (var i = 1; i <= Receivers; i++)
        {
            partitions.Add(new PartitionConfig
            {
                Name = $"sp{i}",
                Id = new EndpointId((ushort)(0x8000 + i)),
                Kind = PartitionKind.Sp,
                Properties = PartitionProperties.ReceivesDirectRequests | PartitionProperties.ReceivesNotifications | PartitionProperties.AArch64,
                Program = Waits,
            });
        }

        _platform = Platform.Build(new PlatformDescription { Roles = PlatformRoles.KernelAndSpmc, Pcpus = 1, Partitions = partitions });
        _receivers = [.. _platform.Spmc!.NotificationReceivers.Where(static r => r.Id.IsSecure)];
        _platform.Boot();
        _platform.Run();
        _kernel = _platform["linux"].Vcpus[0];
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public long InfoGet64()
    {
        var scheduler = _platform.Scheduler;
        scheduler.Ready(_kernel, default, scheduler.Pcpus[0]);
        return scheduler.Run();
    }

    private async ValueTask Scheduler(EndpointContext context)
    {
        var info = default(RegisterFrame);
        new NotificationInfoGet(true).Encode(ref info);
        while (true)
        {
            for (var i = 0; i < Calls; i++)
            {
                foreach (var receiver in _receivers)
                {
                    receiver.Raise(SenderClass.Vm, 1, null);
                }

                context.Registers = info;
                await context.CallAsync();
            }

            // Park until the next invocation: WFI with nothing enabled holds the vCPU until it is made ready.
            await context.Interrupts!.WaitForInterruptAsync();
        }
    }

    private static async ValueTask Waits(EndpointContext context)
    {
        context.Registers = RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait));
        await context.CallAsync();
    }
}
