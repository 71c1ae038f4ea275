using Firmament.Abi;

namespace Firmament.Endpoints;

/// <summary>
/// The one door between an endpoint and its partition manager: a register frame in, a register frame out — an
/// SMC, HVC or SVC. A call that completes at once completes synchronously and allocates nothing; a call that
/// switches (a direct request, MSG_WAIT, RUN) completes when the scheduler resumes this vCPU.
/// Two shapes of the same trap: <see cref="CallAsync(in RegisterFrame)"/> takes and returns frames; the
/// register-file form sets <see cref="Registers"/>, awaits <see cref="CallAsync()"/>, and reads the answer back from
/// <see cref="Registers"/> — what the SMC instruction does, and about twice as fast (no 144-byte copies).
/// </summary>
public interface IConduit
{
    /// <summary>This vCPU's x0..x17: the arguments before a call, the results after it.</summary>
    ref RegisterFrame Registers { get; }

    /// <summary>Traps with <see cref="Registers"/>; when it completes, <see cref="Registers"/> holds the answer.</summary>
    ValueTask CallAsync();

    /// <summary>Traps with <paramref name="frame"/> and returns the answer.</summary>
    ValueTask<RegisterFrame> CallAsync(in RegisterFrame frame);
}

/// <summary>
/// A conduit that can also trap with a non-zero HVC immediate (Gunyah's native hypercalls, <c>HVC #(0x6000 + N)</c>,
/// where the call number is in the instruction and the arguments start at x0).
/// </summary>
public interface IHvcConduit
{
    /// <summary>Traps with <see cref="IConduit.Registers"/> through <c>HVC #<paramref name="hvcImmediate"/></c>.</summary>
    ValueTask CallAsync(ushort hvcImmediate);
}
