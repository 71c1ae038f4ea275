using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Endpoints;

/// <summary>What an endpoint's program gets: its conduit, its own memory, which vCPU it is, and how it was entered.</summary>
public sealed class EndpointContext(IConduit conduit, AddressSpace memory, VcpuId vcpu, string name, RegisterFrame entry, RxTxBuffers buffers)
{
    /// <summary>Where the platform put this endpoint's RX/TX buffers (it maps them itself with FFA_RXTX_MAP).</summary>
    public RxTxBuffers Buffers { get; } = buffers;

    public IConduit Conduit { get; } = conduit;

    /// <summary>The endpoint's own memory, through its stage-2 map (an access outside it faults the endpoint).</summary>
    public AddressSpace Memory { get; } = memory;

    public VcpuId Vcpu { get; } = vcpu;

    public string Name { get; } = name;

    /// <summary>The registers the vCPU was first entered with (boot arguments).</summary>
    public RegisterFrame Entry { get; } = entry;

    /// <summary>Where <see cref="Log"/> lines go (the platform records them in the trace and the run's output).</summary>
    public Action<EndpointContext, string>? LogSink { get; set; }

    /// <summary>A line of console output from the endpoint (what FFA_CONSOLE_LOG or a UART would carry).</summary>
    public void Log(string line) => LogSink?.Invoke(this, line);

    /// <summary>The vCPU's interrupt controller (handlers, WFI), when the code runs where it has one (managed code does).</summary>
    public ICpuInterrupts? Interrupts => Conduit as ICpuInterrupts;

    /// <summary>Shorthand for <c>Conduit.CallAsync</c>.</summary>
    public ValueTask<RegisterFrame> CallAsync(in RegisterFrame frame) => Conduit.CallAsync(frame);

    /// <summary>The register file: set it, <see cref="CallAsync()"/>, read the answer from it.</summary>
    public ref RegisterFrame Registers => ref Conduit.Registers;

    /// <summary>Traps with <see cref="Registers"/> (the register-file form of a call).</summary>
    public ValueTask CallAsync() => Conduit.CallAsync();
}

/// <summary>An endpoint's code, written in C#: it runs on one vCPU and talks only through its conduit.</summary>
public delegate ValueTask EndpointProgram(EndpointContext context);

/// <summary>
/// The IPAs of an endpoint's RX and TX buffers and their size in 4 KiB pages; <paramref name="MappedByManager"/> when
/// its manifest declared them and the partition manager mapped them before it ran (no RXTX_MAP needed).
/// </summary>
public readonly record struct RxTxBuffers(ulong Rx, ulong Tx, uint Pages, bool MappedByManager = false);
