using Firmament.Abi;
using Firmament.Abi.Ffa;

namespace Firmament.Scenarios.Scripts;

/// <summary>
/// Builds a call's register frame from a scenario's named fields: the spec's names as <c>firmament decode</c> prints
/// them (sender, receiver, endpoint, vcpu, flags, bitmap, uuid, payload …) put where the ABI carries them. Raw
/// registers (x0..x17, w0..w17) may be given too and win over named fields.
/// </summary>
internal static class CallBuilder
{
    /// <summary>Where a named field goes: a register, the bit it starts at, its width (64 = the whole register).</summary>
    private readonly record struct Slot(int Register, int Shift, int Width);

    public static IReadOnlyCollection<string> FieldNames(FfaFunction function) => Slots(function).Keys;

    /// <summary>
    /// The frame for <paramref name="function"/> (SMC64 when <paramref name="is64"/>): w0, then each field at its slot.
    /// False with a reason when a field is not one this ABI has or its value does not fit.
    /// </summary>
    public static bool TryBuild(FfaFunction function, bool is64, IReadOnlyList<(string Name, ulong Value)> fields, out RegisterFrame frame, out string reason)
    {
        frame = default;
        frame[0] = is64 ? FfaFunctions.Id64(function) : FfaFunctions.Id32(function);
        reason = string.Empty;
        var slots = Slots(function);
        foreach (var (name, value) in fields)
        {
            if (name is "payload" or "uuid")
            {
                continue; // handled by the caller (a list, a 128-bit value)
            }

            if (!slots.TryGetValue(name, out var slot))
            {
                reason = $"'{name}' is not a field of {FfaFunctions.Info(function)!.Name} (fields: {string.Join(", ", slots.Keys.Order(StringComparer.Ordinal))}, or raw x0..x17 / w0..w17)";
                return false;
            }

            if (slot.Width < 64 && value >> slot.Width != 0)
            {
                reason = $"{name} 0x{value:X} does not fit {slot.Width} bits";
                return false;
            }

            var mask = slot.Width == 64 ? ulong.MaxValue : ((1UL << slot.Width) - 1) << slot.Shift;
            frame[slot.Register] = (frame[slot.Register] & ~mask) | (value << slot.Shift);
        }

        return true;
    }

    /// <summary>The register of the first payload word: x4 for REQ2/RESP2, x3 for v1.0 direct messages, x2 otherwise.</summary>
    public static int PayloadRegister(FfaFunction function) => function switch
    {
        FfaFunction.MsgSendDirectReq2 or FfaFunction.MsgSendDirectResp2 => 4,
        FfaFunction.MsgSendDirectReq or FfaFunction.MsgSendDirectResp => 3,
        _ => 2,
    };

    private static Dictionary<string, Slot> Slots(FfaFunction function)
    {
        var senderReceiver = new Dictionary<string, Slot>(StringComparer.Ordinal) { ["sender"] = new(1, 16, 16), ["receiver"] = new(1, 0, 16) };
        var bitmap = new Slot(3, 0, 32);
        return function switch
        {
            FfaFunction.Version => new(StringComparer.Ordinal) { ["version"] = new(1, 0, 32) },
            FfaFunction.Features => new(StringComparer.Ordinal) { ["function_id"] = new(1, 0, 32), ["feature_id"] = new(1, 0, 32), ["input_properties"] = new(2, 0, 32) },
            FfaFunction.RxRelease or FfaFunction.RxAcquire or FfaFunction.NotificationBitmapDestroy => new(StringComparer.Ordinal) { ["vm_id"] = new(1, 0, 16) },
            FfaFunction.NotificationBitmapCreate => new(StringComparer.Ordinal) { ["vm_id"] = new(1, 0, 16), ["vcpu_count"] = new(2, 0, 32) },
            FfaFunction.RxTxUnmap => new(StringComparer.Ordinal) { ["vm_id"] = new(1, 16, 16) },
            FfaFunction.RxTxMap => new(StringComparer.Ordinal) { ["tx_address"] = new(1, 0, 64), ["rx_address"] = new(2, 0, 64), ["page_count"] = new(3, 0, 32) },
            FfaFunction.PartitionInfoGet => new(StringComparer.Ordinal) { ["uuid"] = new(1, 0, 64), ["flags"] = new(5, 0, 32) },
            FfaFunction.PartitionInfoGetRegs => new(StringComparer.Ordinal) { ["uuid"] = new(1, 0, 64), ["start_index"] = new(3, 0, 16), ["tag"] = new(3, 16, 16) },
            FfaFunction.MsgWait => new(StringComparer.Ordinal) { ["flags"] = new(2, 0, 32) },
            FfaFunction.Run or FfaFunction.Interrupt => new(StringComparer.Ordinal) { ["endpoint"] = new(1, 16, 16), ["vcpu"] = new(1, 0, 16), ["interrupt_id"] = new(2, 0, 32) },
            FfaFunction.Yield => new(StringComparer.Ordinal) { ["timeout"] = new(2, 0, 32), ["timeout_high"] = new(3, 0, 32) },
            FfaFunction.MsgSendDirectReq or FfaFunction.MsgSendDirectResp => With(senderReceiver, ("flags", new Slot(2, 0, 32))),
            FfaFunction.MsgSendDirectReq2 => With(senderReceiver, ("uuid", new Slot(2, 0, 64))),
            FfaFunction.MsgSendDirectResp2 => senderReceiver,
            FfaFunction.MsgSend2 => new(StringComparer.Ordinal) { ["sender_vm"] = new(1, 16, 16), ["flags"] = new(2, 0, 32) },
            FfaFunction.NotificationBind => With(senderReceiver, ("flags", new Slot(2, 0, 32)), ("bitmap", bitmap), ("bitmap_high", new Slot(4, 0, 32))),
            FfaFunction.NotificationSet => With(senderReceiver, ("flags", new Slot(2, 0, 16)), ("vcpu", new Slot(2, 16, 16)), ("bitmap", bitmap), ("bitmap_high", new Slot(4, 0, 32))),
            FfaFunction.NotificationUnbind => With(senderReceiver, ("bitmap", bitmap), ("bitmap_high", new Slot(4, 0, 32))),
            FfaFunction.NotificationGet => new(StringComparer.Ordinal) { ["vcpu"] = new(1, 16, 16), ["receiver"] = new(1, 0, 16), ["flags"] = new(2, 0, 32) },
            FfaFunction.MemDonate or FfaFunction.MemLend or FfaFunction.MemShare or FfaFunction.MemRetrieveReq =>
                new(StringComparer.Ordinal) { ["total_length"] = new(1, 0, 32), ["fragment_length"] = new(2, 0, 32), ["address"] = new(3, 0, 64), ["page_count"] = new(4, 0, 32) },
            FfaFunction.MemReclaim => new(StringComparer.Ordinal) { ["handle"] = new(1, 0, 32), ["handle_high"] = new(2, 0, 32), ["flags"] = new(3, 0, 32) },
            FfaFunction.MemFragTx => new(StringComparer.Ordinal) { ["handle"] = new(1, 0, 32), ["handle_high"] = new(2, 0, 32), ["fragment_length"] = new(3, 0, 32), ["endpoint"] = new(4, 16, 16) },
            FfaFunction.MemFragRx => new(StringComparer.Ordinal) { ["handle"] = new(1, 0, 32), ["handle_high"] = new(2, 0, 32), ["offset"] = new(3, 0, 32), ["endpoint"] = new(4, 16, 16) },
            _ => new(StringComparer.Ordinal),
        };
    }

    private static Dictionary<string, Slot> With(Dictionary<string, Slot> baseSlots, params (string Name, Slot Slot)[] more)
    {
        var all = new Dictionary<string, Slot>(baseSlots, StringComparer.Ordinal);
        foreach (var (name, slot) in more)
        {
            all[name] = slot;
        }

        return all;
    }
}
