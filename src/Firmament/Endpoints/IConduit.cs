using Firmament.Abi;

namespace Firmament.Endpoints;

/// <summary>
/// The one door between an endpoint and its partition manager: a register frame in, a register frame out — an
/// SMC, HVC or SVC. A call that completes at once completes synchronously and allocates nothing; a call that
/// switches (a direct request, MSG_WAIT, RUN) completes when the scheduler resumes this vCPU.
/// </summary>
public interface IConduit
{
    ValueTask<RegisterFrame> CallAsync(in RegisterFrame frame);
}
