using Firmament.Abi.Ffa;
using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;
using Firmament.Endpoints;
using Firmament.Endpoints.Gunyah;
using Firmament.Ffa;
using Firmament.Gunyah;
using Firmament.Machine;
using Firmament.Scenarios;
using Shouldly;

namespace Firmament.Tests.Gunyah;

/// <summary>Platforms for Gunyah tests: a host VM (the primary) running a test lambda, and guest images with test programs.</summary>
internal static class GunyahRig
{
    public const ulong Ram = 0x4000_0000;

    public static PartitionConfig Vm(string name, ushort id, EndpointProgram? program, bool scripted = false) => new()
    {
        Name = name,
        Id = new EndpointId(id),
        Kind = PartitionKind.Vm,
        Program = program,
        Scripted = scripted,
    };

    /// <summary>A hypervisor-only platform with <paramref name="partitions"/> and a gunyah section.</summary>
    public static PlatformDescription Describe(GunyahPlatform gunyah, int pcpus, params PartitionConfig[] partitions) => new()
    {
        Roles = PlatformRoles.HypervisorOnly,
        Pcpus = pcpus,
        Partitions = partitions,
        Gunyah = gunyah,
    };

    /// <summary>A host (primary) running <paramref name="host"/>, and one guest image running <paramref name="guest"/>.</summary>
    public static Platform HostAndGuest(EndpointProgram host, EndpointProgram guest, int guestVcpus = 1, bool trace = false)
    {
        var description = Describe(
            new GunyahPlatform
            {
                Primary = "host",
                Images = [new GunyahImage("guest", "test-guest", guestVcpus)],
                ImagePrograms = new Dictionary<string, EndpointProgram>(StringComparer.Ordinal) { ["test-guest"] = guest },
            },
            1,
            Vm("host", 3, host));
        var platform = Platform.Build(description, new TraceRecorder { Enabled = trace });
        Current = platform;
        platform.Boot();
        platform.Run(2_000_000);
        return platform;
    }

    /// <summary>The platform being run on this thread (for test programs that look at the model's state).</summary>
    [ThreadStatic]
    public static Platform? Current;

    /// <summary>The host's side of the RM: its clients over its RM link, read from its boot information.</summary>
    public static (GunyahCaller Hyp, RmClient Rm, VmLoader Loader) Connect(EndpointContext context, GunyahConvention convention = GunyahConvention.Smccc)
    {
        var block = new byte[RmBootInfo.Size];
        context.Memory.TryRead(Ram, block, out _);
        RmBootInfo.TryRead(block, out var info).ShouldBeTrue();
        var hyp = new GunyahCaller(context.Conduit, convention);
        var rm = new RmClient(new MsgqueueClient(hyp, context.Memory, Ram + 0x1000, RmRpc.PacketSize, info.TxCap, info.RxCap));
        return (hyp, rm, new VmLoader(rm, hyp));
    }

    /// <summary>Creates, configures and starts a guest from image 0.</summary>
    public static async ValueTask<LoadedVm> StartGuestAsync(VmLoader loader)
    {
        var (error, vm) = await loader.CreateVmAsync();
        error.ShouldBe(RmError.Ok);
        (await loader.SetImageAsync(vm!, 0)).ShouldBe(RmError.Ok);
        (await loader.StartAsync(vm!)).ShouldBe(RmError.Ok);
        return vm!;
    }

    /// <summary>A guest's RM boot information.</summary>
    public static RmBootInfo BootInfo(EndpointContext context)
    {
        var block = new byte[RmBootInfo.Size];
        context.Memory.TryRead(Ram, block, out _);
        RmBootInfo.TryRead(block, out var info);
        return info;
    }
}
