using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Machine;
using Firmament.Scenarios;

namespace Firmament.Tests.Ffa;

/// <summary>Small platforms for partition-manager tests: partitions whose programs are test lambdas.</summary>
internal static class Rig
{
    public const PartitionProperties VmDefaults = PartitionProperties.SendsDirectRequests | PartitionProperties.SendsDirectRequests2
        | PartitionProperties.SupportsIndirectMessages | PartitionProperties.AArch64;

    public const PartitionProperties SpDefaults = PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests
        | PartitionProperties.ReceivesDirectRequests2 | PartitionProperties.SendsDirectRequests2
        | PartitionProperties.SupportsIndirectMessages | PartitionProperties.AArch64;

    public static readonly Uuid SpUuid = Uuid.Parse("11111111-2222-3333-4444-555555555555");

    public static PartitionConfig Vm(string name, ushort id, EndpointProgram? program, PartitionProperties properties = VmDefaults, FfaVersion? version = null) => new()
    {
        Name = name,
        Id = new EndpointId(id),
        Kind = PartitionKind.Vm,
        Properties = properties,
        Program = program,
        Version = version ?? FfaVersion.V1_2,
    };

    public static PartitionConfig Sp(string name, ushort id, EndpointProgram? program, int vcpus = 1, PartitionProperties properties = SpDefaults, Uuid? uuid = null) => new()
    {
        Name = name,
        Id = new EndpointId(id),
        Kind = PartitionKind.Sp,
        ExceptionLevel = ExceptionLevel.SEl1,
        VcpuCount = vcpus,
        Uuids = [uuid ?? SpUuid],
        Properties = properties,
        Program = program,
    };

    public static PartitionConfig Kernel(EndpointProgram program) => new()
    {
        Name = "kernel",
        Id = EndpointId.Hypervisor,
        Kind = PartitionKind.Kernel,
        Properties = VmDefaults,
        Program = program,
        Memory = [new MemoryRegion("ram", 0x8800_0000, 256, Stage2Access.All)],
    };

    /// <summary>Builds, boots and runs a platform to the end.</summary>
    public static Platform Run(PlatformRoles roles, int pcpus, params PartitionConfig[] partitions) =>
        Run(new PlatformDescription { Roles = roles, Pcpus = pcpus, Partitions = partitions });

    public static Platform Run(PlatformDescription description, bool trace = true)
    {
        var platform = Platform.Build(description, new TraceRecorder { Enabled = trace });
        platform.Boot();
        platform.Run(1_000_000);
        return platform;
    }

    /// <summary>Builds and boots a platform without running the normal world yet (so a test can hold it first).</summary>
    public static Platform Boot(params PartitionConfig[] partitions)
    {
        var platform = Platform.Build(new PlatformDescription { Pcpus = 1, Partitions = partitions }, new TraceRecorder { Enabled = true });
        platform.Boot();
        return platform;
    }

    public static Platform Run(params PartitionConfig[] partitions) => Run(PlatformRoles.HypervisorAndSpmc, 1, partitions);

    /// <summary>One call: encodes, sends, returns the answer.</summary>
    public static ValueTask<RegisterFrame> Call(this EndpointContext context, params ReadOnlySpan<ulong> registers) =>
        context.CallAsync(RegisterFrame.Of(registers));

    public static uint Id32(FfaFunction function) => FfaFunctions.Id32(function);

    public static uint Id64(FfaFunction function) => FfaFunctions.Id64(function);

    /// <summary>
    /// Repeats a call while it is BUSY (bounded): a peer that shares the pCPU may not be ready yet, and only time
    /// slicing lets it run — what a real driver's retry does.
    /// </summary>
    public static async ValueTask<RegisterFrame> UntilNotBusy(Func<ValueTask<RegisterFrame>> call)
    {
        var answer = await call();
        for (var i = 0; i < 200_000 && ErrorOf(answer) == FfaError.Busy; i++)
        {
            answer = await call();
        }

        return answer;
    }

    /// <summary>The FF-A status of an answer: null for success, else the error.</summary>
    public static FfaError? ErrorOf(in RegisterFrame frame) =>
        frame.W(0) == FfaFunctions.Id32(FfaFunction.Error) ? (FfaError)(int)frame.W(2) : null;

    /// <summary>An SP that maps its buffers, waits, and echoes every direct request (v1.0 and REQ2).</summary>
    public static EndpointProgram EchoSp => global::Firmament.Endpoints.Samples.SecurePartitions.Echo;
}
