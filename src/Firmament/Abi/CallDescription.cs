namespace Firmament.Abi;

/// <summary>Who made a call, for reading the fields whose meaning depends on the caller.</summary>
public enum CallerKind
{
    /// <summary>A normal-world VM (a virtual FF-A instance).</summary>
    Vm,

    /// <summary>A secure partition.</summary>
    Sp,

    /// <summary>The hypervisor, or the OS kernel with ID 0 when there is no hypervisor.</summary>
    Hypervisor,
}

/// <summary>One named field of a decoded call: its raw number and what it means in words.</summary>
/// <param name="Name">Lower-case spec-style name (<c>sender</c>, <c>bitmap</c>, <c>total_length</c>).</param>
/// <param name="Value">The raw value (for a signed field, the two's-complement bits of <see cref="SignedValue"/>).</param>
/// <param name="Text">The interpretation (<c>0x8001 (SP)</c>, <c>INVALID_PARAMETERS</c>), or empty.</param>
/// <param name="Signed">The field is a signed number (FFA_ERROR's code).</param>
public readonly record struct DescribedField(string Name, ulong Value, string Text, bool Signed = false)
{
    public long SignedValue => (long)Value;

    public static DescribedField Of(string name, ulong value, string text = "") => new(name, value, text);

    public static DescribedField OfSigned(string name, long value, string text = "") => new(name, (ulong)value, text, true);
}

/// <summary>
/// A register frame read in words: the ABI's spec name, its function ID, every field, and every warning
/// (MBZ bits set, misuse). Built for people (the CLI, traces), not for the hot path.
/// </summary>
public sealed class CallDescription
{
    public CallDescription(string abi, uint functionId)
    {
        Abi = abi;
        FunctionId = functionId;
    }

    /// <summary>Spec name, e.g. <c>FFA_NOTIFICATION_BIND</c>, <c>GH_MSGQUEUE_SEND</c>, or <c>UNKNOWN</c>.</summary>
    public string Abi { get; }

    /// <summary>w0 as given.</summary>
    public uint FunctionId { get; }

    /// <summary>The calling convention read from the ID (<c>SMC32</c>, <c>SMC64</c>, <c>HVC</c>), or empty.</summary>
    public string Convention { get; set; } = string.Empty;

    /// <summary>Fields in register order.</summary>
    public List<DescribedField> Fields { get; } = [];

    /// <summary>Everything suspicious: MBZ bits set, reserved values, misuse for the given caller and version.</summary>
    public List<string> Warnings { get; } = [];

    public CallDescription Add(string name, ulong value, string text = "")
    {
        Fields.Add(DescribedField.Of(name, value, text));
        return this;
    }

    public CallDescription Warn(string warning)
    {
        Warnings.Add(warning);
        return this;
    }

    /// <summary>Adds a warning for each set bit of <paramref name="value"/> under <paramref name="mbzMask"/>.</summary>
    public CallDescription CheckMbz(string where, ulong value, ulong mbzMask)
    {
        var bad = value & mbzMask;
        if (bad != 0)
        {
            Warnings.Add($"{where}: MBZ bits set (0x{bad:X})");
        }

        return this;
    }
}
