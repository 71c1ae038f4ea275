using System.Buffers.Binary;
using System.Text;
using Firmament.Abi.Gunyah.Rm;

namespace Firmament.Endpoints.Gunyah;

/// <summary>
/// An RM console, from either side: a VM's own (<c>vmid 0</c>) or, for its owner, a VM's it created. Writes go out in
/// chunks of at most 228 bytes (one RPC packet: 240 − 8 header − 4 console header), as Linux's tty driver did; what
/// the other side writes arrives as VM_CONSOLE_CHARS notifications, which <see cref="Read"/> collects.
/// </summary>
public sealed class GunyahConsole(RmClient rm, ushort vmid = 0)
{
    /// <summary>Largest write that fits one packet.</summary>
    public const int MaxChunk = RmRpc.PayloadPerPacket - 4;

    private readonly StringBuilder _input = new();

    public ushort Vmid { get; } = vmid;

    public ValueTask<RmError> OpenAsync() => rm.ConsoleOpenAsync(Vmid);

    public ValueTask<RmError> CloseAsync() => rm.ConsoleCloseAsync(Vmid);

    public ValueTask<RmError> FlushAsync() => rm.ConsoleFlushAsync(Vmid);

    /// <summary>Writes text (UTF-8) in packet-sized chunks; stops at the first error.</summary>
    public async ValueTask<RmError> WriteAsync(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var offset = 0; offset < bytes.Length; offset += MaxChunk)
        {
            var error = await rm.ConsoleWriteAsync(Vmid, bytes.AsSpan(offset, Math.Min(MaxChunk, bytes.Length - offset))).ConfigureAwait(false);
            if (error != RmError.Ok)
            {
                return error;
            }
        }

        return RmError.Ok;
    }

    /// <summary>
    /// Everything received so far from VM_CONSOLE_CHARS notifications (taking them from the RM client; other
    /// notifications are handed to <paramref name="other"/>, or dropped).
    /// </summary>
    public string Read(Action<RmNotification>? other = null)
    {
        while (rm.TakeNotification(out var notification))
        {
            if (notification.Id == RmMessageId.VmConsoleCharsNotification && notification.Payload.Length >= 4)
            {
                var count = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(notification.Payload.AsSpan(2)), notification.Payload.Length - 4);
                _input.Append(Encoding.UTF8.GetString(notification.Payload, 4, count));
            }
            else
            {
                other?.Invoke(notification);
            }
        }

        var text = _input.ToString();
        _input.Clear();
        return text;
    }
}
