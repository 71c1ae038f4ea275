using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;

namespace Firmament.Scenarios;

/// <summary>
/// The built-in platform <c>firmament run</c> uses without a file: a hypervisor and an SPMC, two pCPUs, two VMs and
/// two SPs — a client VM, a server VM, an echo SP with a vCPU per pCPU, and a single-vCPU SP that faults on request.
/// </summary>
public static partial class DefaultPlatform
{
    /// <summary>SP1's UUID.</summary>
    public static Uuid EchoUuid { get; } = Uuid.Parse("1e67b5b4-e14f-904a-13fb-1fb8cbdae1da");

    public static PlatformDescription Create(ulong seed = 0) => WithGunyah(new()
    {
        Name = "default",
        Roles = PlatformRoles.HypervisorAndSpmc,
        Pcpus = 2,
        Seed = seed,
        Partitions =
        [
            new PartitionConfig
            {
                Name = "vm1",
                Id = new EndpointId(1),
                Kind = PartitionKind.Vm,
                Properties = PartitionProperties.SendsDirectRequests | PartitionProperties.SendsDirectRequests2
                    | PartitionProperties.SupportsIndirectMessages | PartitionProperties.AArch64,
                Program = NormalWorld.DemoClient,
                ProgramName = "demo-client",
            },
            new PartitionConfig
            {
                Name = "vm2",
                Id = new EndpointId(2),
                Kind = PartitionKind.Vm,
                Properties = PartitionProperties.ReceivesDirectRequests | PartitionProperties.SupportsIndirectMessages | PartitionProperties.AArch64,
                Program = NormalWorld.Server,
                ProgramName = "server",
            },
            new PartitionConfig
            {
                Name = "sp1",
                Id = new EndpointId(0x8001),
                Kind = PartitionKind.Sp,
                ExceptionLevel = ExceptionLevel.SEl1,
                Uuids = [EchoUuid],
                VcpuCount = 2,
                Properties = PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests
                    | PartitionProperties.SupportsIndirectMessages | PartitionProperties.ReceivesDirectRequests2
                    | PartitionProperties.InformedOfVmCreation | PartitionProperties.ReceivesNotifications | PartitionProperties.AArch64,
                Program = SecurePartitions.Echo,
                ProgramName = "echo",
            },
            new PartitionConfig
            {
                Name = "sp2",
                Id = new EndpointId(0x8002),
                Kind = PartitionKind.Sp,
                ExceptionLevel = ExceptionLevel.SEl1,
                Uuids = [NormalWorld.FaultyUuid],
                VcpuCount = 1,
                Properties = PartitionProperties.ReceivesDirectRequests | PartitionProperties.AArch64,
                Program = SecurePartitions.Faulty,
                ProgramName = "faulty",
                BootOrder = 1,
            },
        ],
    });
}
