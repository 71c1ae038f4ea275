namespace Firmament.Abi.Ffa;

/// <summary>FF-A status codes carried as a signed 32-bit value in w2 of FFA_ERROR.</summary>
public enum FfaError
{
    /// <summary>The ABI or feature is not implemented at this instance.</summary>
    NotSupported = -1,

    /// <summary>A bad or MBZ field, a bad ID, an unknown UUID.</summary>
    InvalidParameters = -2,

    /// <summary>Out of resources, or the result does not fit the buffer.</summary>
    NoMemory = -3,

    /// <summary>The target vCPU is busy, or the RX buffer is not available.</summary>
    Busy = -4,

    Interrupted = -5,

    /// <summary>Not allowed in this state.</summary>
    Denied = -6,

    /// <summary>Try again (for example: PARTITION_INFO_GET_REGS tag changed).</summary>
    Retry = -7,

    /// <summary>The operation or the partition was aborted.</summary>
    Aborted = -8,

    /// <summary>Nothing pending (NOTIFICATION_INFO_GET).</summary>
    NoData = -9,

    /// <summary>Not ready; present in Hafnium and current Linux (maps to -EAGAIN).</summary>
    NotReady = -10,
}

/// <summary>Spec names for <see cref="FfaError"/>.</summary>
public static class FfaErrors
{
    /// <summary>The spec's name (<c>INVALID_PARAMETERS</c>), or <c>UNKNOWN(-n)</c> for a code outside −1..−10.</summary>
    public static string Name(int code) => code switch
    {
        -1 => "NOT_SUPPORTED",
        -2 => "INVALID_PARAMETERS",
        -3 => "NO_MEMORY",
        -4 => "BUSY",
        -5 => "INTERRUPTED",
        -6 => "DENIED",
        -7 => "RETRY",
        -8 => "ABORTED",
        -9 => "NO_DATA",
        -10 => "NOT_READY",
        _ => $"UNKNOWN({code})",
    };

    /// <summary>The spec's name of a code.</summary>
    public static string Name(this FfaError error) => Name((int)error);

    /// <summary>Parses a spec name (<c>DENIED</c>, case-insensitive) back to a code.</summary>
    public static bool TryParse(string name, out FfaError error)
    {
        for (var code = -1; code >= -10; code--)
        {
            if (string.Equals(Name(code), name, StringComparison.OrdinalIgnoreCase))
            {
                error = (FfaError)code;
                return true;
            }
        }

        error = default;
        return false;
    }

    /// <summary>Whether a code is one the spec defines.</summary>
    public static bool IsDefined(int code) => code is <= -1 and >= -10;
}
