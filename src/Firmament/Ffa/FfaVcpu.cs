using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Machine;

namespace Firmament.Ffa;

/// <summary>Why a vCPU has the CPU, i.e. to whom it must give it back.</summary>
public enum Occupation : byte
{
    /// <summary>Nothing is owed to anyone (a VM's own vCPU, or an SP vCPU that is idle).</summary>
    None = 0,

    /// <summary>Running its initialisation at boot; its first MSG_WAIT ends it.</summary>
    Boot,

    /// <summary>Handling a direct request: it owes the requester a response.</summary>
    DirectRequest,

    /// <summary>Given cycles with FFA_RUN: MSG_WAIT or YIELD gives them back to the runner.</summary>
    Run,
}

/// <summary>
/// A partition manager's record of one of its vCPUs: which endpoint it belongs to and what it owes. When a vCPU was
/// entered by a call from the other world, <see cref="ReturnToOtherWorld"/> says the answer goes back through it.
/// </summary>
public sealed class FfaVcpu(Vcpu vcpu, FfaEndpoint endpoint)
{
    public Vcpu Vcpu { get; } = vcpu;

    public FfaEndpoint Endpoint { get; } = endpoint;

    public ushort Index => Vcpu.Id.Index;

    public Occupation Occupation { get; internal set; }

    /// <summary>The endpoint that sent the direct request being handled.</summary>
    public EndpointId RequestFrom { get; internal set; }

    /// <summary>The request being handled was a DIRECT_REQ2 (the response must be RESP2).</summary>
    public bool RequestIsV2 { get; internal set; }

    /// <summary>The request being handled was a framework message (the response must be one too).</summary>
    public bool RequestIsFramework { get; internal set; }

    /// <summary>The vCPU to give the CPU back to (the requester or runner), when it is in this world.</summary>
    public Vcpu? ReturnTo { get; internal set; }

    /// <summary>The CPU goes back to the other world (the normal world, from the SPMC) through <see cref="ReturnTo"/>.</summary>
    public bool ReturnToOtherWorld { get; internal set; }

    /// <summary>What a preempted vCPU resumes with (the return of the call it was preempted after).</summary>
    internal RegisterFrame ResumeFrame;

    /// <summary>Whether a request can be delivered: idle in MSG_WAIT (or DIRECT_RESP) and owing nothing.</summary>
    public bool IsAvailable => Vcpu.State == VcpuState.Waiting && Occupation == Occupation.None;

    internal void Owe(Occupation occupation, Vcpu? returnTo, bool otherWorld)
    {
        Occupation = occupation;
        ReturnTo = returnTo;
        ReturnToOtherWorld = otherWorld;
    }

    internal void Settle()
    {
        Occupation = Occupation.None;
        ReturnTo = null;
        ReturnToOtherWorld = false;
        RequestFrom = default;
        RequestIsV2 = false;
        RequestIsFramework = false;
    }

    public override string ToString() => $"{Endpoint} vCPU {Index} ({Vcpu.State}, {Occupation})";
}

/// <summary>Who made the call a partition manager is handling.</summary>
/// <param name="Endpoint">The calling endpoint's record at this manager.</param>
/// <param name="Vcpu">The vCPU executing the call (at the SPMC's normal-world port: the normal-world vCPU).</param>
/// <param name="Self">The caller's own vCPU record when it is one of this manager's partitions.</param>
/// <param name="FromOtherWorld">The call came through the SPMC's normal-world port (the physical FF-A instance).</param>
public readonly record struct FfaCaller(FfaEndpoint Endpoint, Vcpu Vcpu, FfaVcpu? Self, bool FromOtherWorld)
{
    public EndpointId Id => Endpoint.Id;

    public FfaVersion Version => Endpoint.Version;
}
