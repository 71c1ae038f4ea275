namespace Firmament.Abi.Gunyah;

/// <summary>
/// The hypervisor's <c>error_t</c>, returned in x0. Negative values are transport results (the call was not carried
/// out), positive values are call-specific failures.
/// </summary>
public enum GunyahError
{
    Ok = 0,

    /// <summary>Not implemented; also the answer to an unknown hypercall.</summary>
    Unimplemented = -1,

    /// <summary>Transient: reissue the call (vcpu_run loops on it).</summary>
    Retry = -2,

    ArgumentInvalid = 1,
    ArgumentSize = 2,
    ArgumentAlignment = 3,
    NoMem = 10,
    NoResources = 11,
    AddrOverflow = 20,
    AddrUnderflow = 21,
    AddrInvalid = 22,
    Denied = 30,
    Busy = 31,
    Idle = 32,
    ObjectState = 33,
    ObjectConfig = 34,
    ObjectConfigured = 35,
    Failure = 36,
    VirqBound = 40,
    VirqNotBound = 41,
    CspaceCapNull = 50,
    CspaceCapRevoked = 51,
    CspaceWrongObjectType = 52,
    CspaceInsufficientRights = 53,
    CspaceFull = 54,
    MsgqueueEmpty = 60,
    MsgqueueFull = 61,
    MemdbNotOwner = 111,
    MemextentMappingsFull = 120,
    MemextentType = 121,
    ExistingMapping = 200,
}

/// <summary>Spec names of <see cref="GunyahError"/> (the API document's enumerators: <c>OK</c>, <c>ERROR_BUSY</c>).</summary>
public static class GunyahErrors
{
    /// <summary>The spec name, or <c>ERROR_UNKNOWN(n)</c> for a value the spec does not define.</summary>
    public static string Name(long code) => code switch
    {
        0 => "OK",
        -1 => "ERROR_UNIMPLEMENTED",
        -2 => "ERROR_RETRY",
        1 => "ERROR_ARGUMENT_INVALID",
        2 => "ERROR_ARGUMENT_SIZE",
        3 => "ERROR_ARGUMENT_ALIGNMENT",
        10 => "ERROR_NOMEM",
        11 => "ERROR_NORESOURCES",
        20 => "ERROR_ADDR_OVERFLOW",
        21 => "ERROR_ADDR_UNDERFLOW",
        22 => "ERROR_ADDR_INVALID",
        30 => "ERROR_DENIED",
        31 => "ERROR_BUSY",
        32 => "ERROR_IDLE",
        33 => "ERROR_OBJECT_STATE",
        34 => "ERROR_OBJECT_CONFIG",
        35 => "ERROR_OBJECT_CONFIGURED",
        36 => "ERROR_FAILURE",
        40 => "ERROR_VIRQ_BOUND",
        41 => "ERROR_VIRQ_NOT_BOUND",
        50 => "ERROR_CSPACE_CAP_NULL",
        51 => "ERROR_CSPACE_CAP_REVOKED",
        52 => "ERROR_CSPACE_WRONG_OBJECT_TYPE",
        53 => "ERROR_CSPACE_INSUFFICIENT_RIGHTS",
        54 => "ERROR_CSPACE_FULL",
        60 => "ERROR_MSGQUEUE_EMPTY",
        61 => "ERROR_MSGQUEUE_FULL",
        111 => "ERROR_MEMDB_NOT_OWNER",
        120 => "ERROR_MEMEXTENT_MAPPINGS_FULL",
        121 => "ERROR_MEMEXTENT_TYPE",
        200 => "ERROR_EXISTING_MAPPING",
        _ => $"ERROR_UNKNOWN({code})",
    };

    public static string Name(this GunyahError error) => Name((long)error);

    /// <summary>Whether the spec defines the value.</summary>
    public static bool IsDefined(long code) => code is >= int.MinValue and <= int.MaxValue && Enum.IsDefined((GunyahError)(int)code);

    /// <summary>Parses a spec name, with or without the <c>ERROR_</c> prefix, case-insensitive.</summary>
    public static bool TryParse(string name, out GunyahError error)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim();
        foreach (var value in Enum.GetValues<GunyahError>())
        {
            var spec = value.Name();
            if (string.Equals(spec, key, StringComparison.OrdinalIgnoreCase)
                || string.Equals(spec, "ERROR_" + key, StringComparison.OrdinalIgnoreCase))
            {
                error = value;
                return true;
            }
        }

        error = default;
        return false;
    }

    /// <summary>x0 as the hypervisor writes an error: the value sign-extended to 64 bits.</summary>
    public static ulong ToRegister(this GunyahError error) => (ulong)(long)(int)error;

    /// <summary>
    /// Reads x0 as an error. The value must be a sign-extended 32-bit number; anything else is not an
    /// <c>error_t</c> and the frame does not decode.
    /// </summary>
    public static bool TryFromRegister(ulong x0, out GunyahError error)
    {
        var signed = (long)x0;
        error = (GunyahError)(int)signed;
        return signed is >= int.MinValue and <= int.MaxValue;
    }
}
