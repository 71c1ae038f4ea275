using System.Globalization;
using System.Numerics;
using System.Text;

namespace Firmament.Abi.Ffa.Calls;

/// <summary>
/// What one describe step needs: the frame, the convention, who called at which version, and the description being
/// built. Not on the hot path: it copies the frame and allocates strings freely.
/// </summary>
internal sealed class Describing
{
    private readonly RegisterFrame _frame;

    public Describing(CallDescription description, in RegisterFrame frame, bool is64, CallerKind caller, FfaVersion version)
    {
        Description = description;
        _frame = frame;
        Is64 = is64;
        Caller = caller;
        Version = version;
    }

    public CallDescription Description { get; }

    /// <summary>The frame being described.</summary>
    public ref readonly RegisterFrame Frame => ref _frame;

    public bool Is64 { get; }

    public CallerKind Caller { get; }

    public FfaVersion Version { get; }

    /// <summary>The spec name of the ABI being described.</summary>
    public string Abi => Description.Abi;

    public bool IsHypervisor => Caller == CallerKind.Hypervisor;

    /// <summary>Register N in the call's convention.</summary>
    public ulong R(int index) => Is64 ? X(index) : W(index);

    public uint W(int index) => _frame.W(index);

    public ulong X(int index) => _frame.AsReadOnlySpan()[index];

    /// <summary><c>w2</c> or <c>x2</c>, as the convention names it.</summary>
    public string Name(int index) => (Is64 ? "x" : "w") + index.ToString(CultureInfo.InvariantCulture);

    public void Field(string name, ulong value, string text = "") => Description.Add(name, value, text);

    public void Endpoint(string name, ushort id) => Field(name, id, FfaDescriber.FormatEndpoint(new EndpointId(id)));

    public void Signed(string name, long value, string text) => Description.Fields.Add(DescribedField.OfSigned(name, value, text));

    /// <summary>w1 as sender[31:16] | receiver[15:0]: both fields, and a warning when they are the same endpoint.</summary>
    public SenderReceiver SenderAndReceiver(string action)
    {
        var endpoints = SenderReceiver.Unpack(W(1));
        Endpoint("sender", endpoints.Sender.Value);
        Endpoint("receiver", endpoints.Receiver.Value);
        if (endpoints.Sender == endpoints.Receiver)
        {
            Warn($"sender and receiver are both {endpoints.Sender}: an endpoint cannot {action} itself");
        }

        return endpoints;
    }

    public void Hex(string name, ulong value) => Field(name, value, Describing.Hex(value));

    public void Uuid(Uuid uuid)
    {
        var text = uuid.IsNil ? "Nil" : uuid.ToString();
        Field("uuid_lo", uuid.Low, text);
        Field("uuid_hi", uuid.High, text);
    }

    public void Bitmap(string name, NotificationBitmap bitmap) => Field(name, bitmap.Bits, BitmapText(bitmap.Bits));

    public void Warn(string warning) => Description.Warn(warning);

    /// <summary>A register of 32-bit fields: warns about set bits under <paramref name="mbz"/>, and the upper half for SMC64.</summary>
    public void MbzWord(int index, uint mbz) => Description.CheckMbz(Name(index), R(index), Is64 ? mbz | Wire.UpperHalf : mbz);

    /// <summary>A full register: warns about set bits under <paramref name="mbz"/>.</summary>
    public void MbzFull(int index, ulong mbz) => Description.CheckMbz(Name(index), R(index), mbz);

    /// <summary>Registers <paramref name="first"/>..7 are not used by the ABI: every set bit is an MBZ bit.</summary>
    public void Unused(int first)
    {
        for (var i = first; i <= Wire.LastClassicRegister; i++)
        {
            MbzFull(i, ulong.MaxValue);
        }
    }

    /// <summary>Warns when the caller's version predates a field or flag.</summary>
    public void Since(FfaVersion introduced, string what)
    {
        if (Version < introduced)
        {
            Warn($"{what} is v{introduced}; the caller negotiated {Version}");
        }
    }

    /// <summary>Warns when <paramref name="id"/> is set by a caller other than the hypervisor.</summary>
    public void HypervisorOnlyId(string where, ushort id, string purpose)
    {
        if (id != 0 && !IsHypervisor)
        {
            Warn($"{where} names 0x{id:X4}: only the hypervisor sets it, {purpose}");
        }
    }

    public static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture);

    /// <summary>The names of the set bits, in bit order, or <c>none</c>.</summary>
    public static string FlagText(ulong value, params ReadOnlySpan<(ulong Bit, string Name)> names)
    {
        var text = new StringBuilder();
        var rest = value;
        foreach (var (bit, name) in names)
        {
            if ((value & bit) != 0)
            {
                Append(text, name);
                rest &= ~bit;
            }
        }

        if (rest != 0)
        {
            Append(text, "reserved " + Hex(rest));
        }

        return text.Length == 0 ? "none" : text.ToString();
    }

    /// <summary>The notification IDs set in a bitmap: <c>IDs 0, 1, 63</c>, or <c>empty</c>.</summary>
    public static string BitmapText(ulong bits)
    {
        if (bits == 0)
        {
            return "empty";
        }

        var text = new StringBuilder(BitOperations.PopCount(bits) == 1 ? "ID " : "IDs ");
        var first = true;
        for (var id = 0; id < 64; id++)
        {
            if ((bits & (1UL << id)) != 0)
            {
                text.Append(first ? string.Empty : ", ").Append(id);
                first = false;
            }
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, string part)
    {
        if (text.Length > 0)
        {
            text.Append(", ");
        }

        text.Append(part);
    }
}
