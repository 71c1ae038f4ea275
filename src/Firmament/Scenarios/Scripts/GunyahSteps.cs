using System.Globalization;
using System.Text;
using Firmament.Abi;
using Firmament.Abi.Gunyah;
using Firmament.Endpoints;
using Firmament.Ffa;

namespace Firmament.Scenarios.Scripts;

/// <summary>One input of a hypercall step: a number, or the name of a cap the caller holds (resolved when the step runs).</summary>
public readonly record struct HypercallArg(ulong Value, string? Cap);

/// <summary>What a hypercall step expects: the call blocks, or x0's error and any other registers.</summary>
public sealed record GunyahExpectation(bool Pending, GunyahError? Error, IReadOnlyList<(int Register, ulong Value)> Registers)
{
    public static GunyahExpectation Anything { get; } = new(false, null, []);
}

/// <summary>
/// A Gunyah hypercall made by a scripted VM: the call, through SMCCC or the native HVC immediate, its inputs in order
/// (the reserved slot is filled as the ABI wants it), raw register overrides, what must come back, and optionally a
/// name under which x1 (a new cap) is remembered for later steps.
/// </summary>
public sealed record HypercallStep(
    int Line, string By, ushort Vcpu, GunyahHypercallInfo Call, bool Native, IReadOnlyList<HypercallArg> Args,
    IReadOnlyList<(int Register, ulong Value)> Raw, GunyahExpectation Expect, string? Save) : ScenarioStep(Line);

/// <summary>Reads and runs <c>hypercall:</c> steps (docs/scenarios.md).</summary>
internal static class GunyahSteps
{
    private static readonly string[] Keys = ["hypercall", "by", "vcpu", "native", "args", "expect", "save"];

    /// <summary>Constants the args accept, by the names the hypervisor's API uses.</summary>
    private static readonly Dictionary<string, ulong> Constants = new(StringComparer.Ordinal)
    {
        ["PUSH"] = 1,
        ["UNCHANGED"] = MsgqueueThreshold.Unchanged,
        ["DEPTH"] = MsgqueueThreshold.QueueDepth,
        ["INVALID_CAP"] = CapId.Invalid.Value,
        ["ALL"] = ulong.MaxValue,
    };

    public static HypercallStep Read(PlatformYaml yaml, YamlMap map, YamlItem value, string by, ushort vcpu, PlatformDescription platform)
    {
        var raw = new List<(int, ulong)>();
        foreach (var (key, item) in map.Entries)
        {
            if (Keys.Contains(key.Value, StringComparer.Ordinal))
            {
                continue;
            }

            if (key.Value.Length > 1 && key.Value[0] == 'x' && int.TryParse(key.Value.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var register) && register < RegisterFrame.Count)
            {
                raw.Add((register, yaml.Integer(item, key.Value, 0, ulong.MaxValue)));
                continue;
            }

            throw yaml.Fail(key, $"unknown key '{key.Value}' in a hypercall step (known: {string.Join(", ", Keys)}, x0..x17)");
        }

        if (platform.Gunyah is null)
        {
            throw yaml.Fail(value, "hypercall steps need a platform with a gunyah: section");
        }

        var name = yaml.Text(value, "hypercall");
        if (!GunyahHypercalls.TryParseName(name, out var info))
        {
            throw yaml.Fail(value, $"'{name}' is not a Gunyah hypercall name (e.g. msgqueue_send, GH_DOORBELL_SEND)");
        }

        var args = new List<HypercallArg>();
        if (Get(map, "args") is { } argsItem)
        {
            var items = yaml.List(argsItem, "args");
            if (items.Count > info.Inputs.Count)
            {
                throw yaml.Fail(argsItem, $"{info.SpecName} takes {info.Inputs.Count} inputs ({string.Join(", ", info.Inputs.Select(static i => i.Name))}), not {items.Count}");
            }

            foreach (var item in items)
            {
                args.Add(Arg(yaml, item));
            }
        }

        var native = Get(map, "native") is { } n && yaml.Boolean(n, "native");
        var save = Get(map, "save") is { } s ? yaml.Text(s, "save") : null;
        return new HypercallStep(map.Line, by, vcpu, info, native, args, raw, Expect(yaml, Get(map, "expect")), save);
    }

    private static HypercallArg Arg(PlatformYaml yaml, YamlItem item)
    {
        if (item is YamlText { Plain: true } text && PlatformYaml.TryParseInteger(text.Value, out var number))
        {
            return new HypercallArg(number, null);
        }

        var word = yaml.Text(item, "args");
        if (word.Contains('|', StringComparison.Ordinal) || Constants.ContainsKey(word))
        {
            ulong combined = 0;
            foreach (var part in word.Split('|', StringSplitOptions.TrimEntries))
            {
                combined |= Constants.TryGetValue(part, out var constant) ? constant
                    : PlatformYaml.TryParseInteger(part, out var v) ? v
                    : throw yaml.Fail(item, $"'{part}' is not a constant (known: {string.Join(", ", Constants.Keys)})");
            }

            return new HypercallArg(combined, null);
        }

        return new HypercallArg(0, word); // a cap name, checked when the step runs (caps can be saved by earlier steps)
    }

    private static GunyahExpectation Expect(PlatformYaml yaml, YamlItem? item)
    {
        switch (item)
        {
            case null:
                return GunyahExpectation.Anything;
            case YamlText text when text.Value == "pending":
                return new GunyahExpectation(true, null, []);
            case YamlText text:
                return new GunyahExpectation(false, Error(yaml, text), []);
            case YamlMap map:
                GunyahError? error = null;
                var registers = new List<(int, ulong)>();
                foreach (var (key, value) in map.Entries)
                {
                    if (key.Value == "error")
                    {
                        error = Error(yaml, value);
                    }
                    else if (key.Value.Length > 1 && key.Value[0] == 'x' && int.TryParse(key.Value.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var register) && register < RegisterFrame.Count)
                    {
                        registers.Add((register, value is YamlText { Value: "INVALID_CAP" } ? CapId.Invalid.Value : yaml.Integer(value, key.Value, 0, ulong.MaxValue)));
                    }
                    else
                    {
                        throw yaml.Fail(key, $"unknown key '{key.Value}' in a hypercall expectation (error, x0..x17)");
                    }
                }

                return new GunyahExpectation(false, error, registers);
            default:
                throw yaml.Fail(item, "expect: is OK, an error name (ERROR_MSGQUEUE_FULL), pending, or a mapping of error and registers");
        }
    }

    private static GunyahError Error(PlatformYaml yaml, YamlItem item)
    {
        var text = yaml.Text(item, "error");
        return GunyahErrors.TryParse(text, out var error) ? error : throw yaml.Fail(item, $"'{text}' is not a Gunyah error name (OK, ERROR_ARGUMENT_INVALID, …)");
    }

    private static YamlItem? Get(YamlMap map, string key) =>
        map.Entries.FirstOrDefault(e => string.Equals(e.Key.Value, key, StringComparison.Ordinal)).Value;

    /// <summary>Runs a hypercall step; null when it passed, else (failed?, message, context).</summary>
    public static (bool Failed, string Message, string Context)? Run(Platform platform, HypercallStep step, long budget)
    {
        var partition = platform[step.By];
        var vcpu = partition.Vcpus[step.Vcpu];
        if (vcpu.Backend is not ScriptedVcpu backend)
        {
            return (false, $"{step.By} is not scripted", string.Empty);
        }

        if (backend.InCall || backend.Answers.Count > 0 || vcpu.State != Machine.VcpuState.Held)
        {
            return (false, $"{step.By} vCPU {step.Vcpu} is {vcpu.State} (in a call, or with an answer no step looked at)", string.Empty);
        }

        var frame = default(RegisterFrame);
        var first = step.Native ? 0 : 1;
        if (!step.Native)
        {
            frame[0] = step.Call.SmcccId;
        }

        for (var i = 0; i < step.Args.Count; i++)
        {
            var arg = step.Args[i];
            if (arg.Cap is { } capName)
            {
                if (!platform.TryGetCap(step.By, capName, out var cap))
                {
                    return (false, $"{step.By} holds no cap named '{capName}'", string.Empty);
                }

                frame[first + i] = cap.Value;
            }
            else
            {
                frame[first + i] = arg.Value;
            }
        }

        var slot = first + step.Call.Inputs.Count;
        frame[slot] = step.Call.Reserved == GunyahReservedSlot.AllOnes ? ulong.MaxValue : step.Call.Reserved == GunyahReservedSlot.Zero ? 0 : frame[slot];
        foreach (var (register, value) in step.Raw)
        {
            frame[register] = value;
        }

        backend.Enqueue(frame, step.Native ? step.Call.NativeImmediate : (ushort)0);
        platform.Scheduler.Ready(vcpu, default, vcpu.Pcpu ?? platform.Scheduler.HomeOf(vcpu));
        platform.Run(budget);
        if (backend.InCall)
        {
            return step.Expect.Pending || step.Expect == GunyahExpectation.Anything ? null : (true, "the call blocked, but the step expects an answer", Describe(frame, null));
        }

        if (!backend.Answers.TryDequeue(out var answer))
        {
            return (false, $"{step.By} made no call (is it aborted?)", string.Empty);
        }

        if (step.Expect.Pending)
        {
            return (true, "the step expects the call to block, but it was answered", Describe(frame, answer));
        }

        if (step.Expect.Error is { } error && answer[0] != error.ToRegister())
        {
            return (true, $"expected {error.Name()}, got {GunyahErrors.Name((long)answer[0])}", Describe(frame, answer));
        }

        foreach (var (register, value) in step.Expect.Registers)
        {
            if (answer[register] != value)
            {
                return (true, $"expected x{register} = 0x{value:X}, got 0x{answer[register]:X}", Describe(frame, answer));
            }
        }

        if (step.Save is { } save)
        {
            platform.NameCap(step.By, save, new CapId(answer[1]));
        }

        return null;
    }

    private static string Describe(in RegisterFrame call, RegisterFrame? answer)
    {
        var text = new StringBuilder();
        text.Append("call:   ").Append(call.ToString()).Append('\n');
        if (answer is { } a)
        {
            text.Append("answer: ").Append(a.ToString()).Append("  (").Append(GunyahErrors.Name((long)a[0])).Append(")\n");
        }

        return text.ToString();
    }
}
