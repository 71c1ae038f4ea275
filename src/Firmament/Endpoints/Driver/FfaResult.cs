using Firmament.Abi;
using Firmament.Abi.Ffa;

namespace Firmament.Endpoints.Driver;

/// <summary>
/// What a driver operation ended with: success, or the FF-A error the partition manager answered. Endpoint code
/// never gets an exception for an FF-A error — an exception in endpoint code is a fault, and faults abort partitions.
/// </summary>
public readonly record struct FfaStatus(FfaError? Error)
{
    public static FfaStatus Ok => default;

    public bool IsOk => Error is null;

    /// <summary>The status of a return frame: FFA_ERROR gives its code, anything else is success.</summary>
    public static FfaStatus Of(in RegisterFrame frame) =>
        frame.W(0) == FfaFunctions.Id32(FfaFunction.Error) ? new FfaStatus((FfaError)(int)frame.W(2)) : Ok;

    public override string ToString() => Error is { } e ? e.Name() : "SUCCESS";
}

/// <summary>The answer to a direct request: the response frame (or the error), after any INTERRUPT/YIELD/RUN loop.</summary>
public readonly record struct DirectResponse(FfaStatus Status, RegisterFrame Frame)
{
    public bool IsOk => Status.IsOk;

    /// <summary>Response payload register <paramref name="index"/> (x3.. for v1.0 messages, x4.. for REQ2).</summary>
    public ulong this[int index] => Frame.AsReadOnlySpan()[index];
}
