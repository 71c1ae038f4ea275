using Firmament.Abi.Ffa;
using Firmament.Endpoints.Samples;
using Firmament.Ffa;
using Firmament.Gunyah;

namespace Firmament.Scenarios;

// The Gunyah part of the default demo, kept apart from the FF-A partitions: a primary VM "host" (VMID 3, as Gunyah's
// HLOS) that creates a guest VM from the "guest" image through the RM, reads its console, and talks to it over the
// message-queue pair and doorbells the RM wires between them.
public static partial class DefaultPlatform
{
    private static PlatformDescription WithGunyah(PlatformDescription platform) => platform with
    {
        Partitions =
        [
            .. platform.Partitions,
            new PartitionConfig
            {
                Name = "host",
                Id = new EndpointId(3),
                Kind = PartitionKind.Vm,
                Program = GunyahDemo.Host,
                ProgramName = "gunyah-host",
            },
        ],
        Gunyah = new GunyahPlatform
        {
            Primary = "host",
            Images = [new GunyahImage("guest", "gunyah-guest")],
        },
    };
}
