namespace Firmament.Endpoints.Samples;

/// <summary>The built-in endpoint programs a platform file can name with <c>program:</c>.</summary>
public static class ProgramCatalog
{
    private static readonly Dictionary<string, (EndpointProgram Program, string Description)> Programs = new(StringComparer.Ordinal)
    {
        ["echo"] = (SecurePartitions.Echo, "SP: echoes direct requests (v1.0 and REQ2), answers VM created/destroyed, can yield or read its mailbox"),
        ["idle"] = (SecurePartitions.Idle, "SP: answers every direct request with a zero payload"),
        ["faulty"] = (SecurePartitions.Faulty, "SP: echoes until asked to crash, then faults"),
        ["demo-client"] = (NormalWorld.DemoClient, "VM or kernel: probes FF-A with the driver and exercises the platform"),
        ["server"] = (NormalWorld.Server, "VM: serves direct requests, reading indirect messages on request"),
        ["notify-sender"] = (NotificationPrograms.Sender, "VM: every vCPU sets its first three notification IDs for every VM that receives notifications"),
        ["mem-lender"] = (MemoryPrograms.Lender, "VM: shares a page with every other VM, sends the handle in an indirect message, reclaims as soon as it can"),
        ["mem-borrower"] = (MemoryPrograms.Borrower, "VM: when its NPI says a message arrived, retrieves the page it names, reads it, relinquishes it"),
        ["notify-receiver"] = (NotificationPrograms.Receiver, "VM: binds every other VM's notification IDs, takes them when its NPI comes, waits for the next"),
        ["gunyah-host"] = (GunyahDemo.Host, "VM (Gunyah primary): creates a VM through the RM, reads its console, talks to it over a message queue and doorbells"),
        ["gunyah-guest"] = (GunyahDemo.Guest, "VM image (Gunyah secondary): writes its console, answers the host's message, rings its doorbell, exits"),
    };

    public static IEnumerable<string> Names => Programs.Keys.Order(StringComparer.Ordinal);

    public static bool TryGet(string name, out EndpointProgram program)
    {
        var found = Programs.TryGetValue(name, out var entry);
        program = entry.Program;
        return found;
    }

    public static string Describe(string name) => Programs.TryGetValue(name, out var entry) ? entry.Description : string.Empty;
}
