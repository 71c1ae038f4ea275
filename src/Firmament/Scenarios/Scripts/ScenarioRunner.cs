using System.Text;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Endpoints;
using Firmament.Ffa;
using Firmament.Machine;

namespace Firmament.Scenarios.Scripts;

/// <summary>How one scenario ended under one personality.</summary>
public enum ScenarioOutcome
{
    Passed,
    Failed,

    /// <summary>The scenario could not be run as written (a step drives a vCPU that is still in a call, …).</summary>
    Error,
}

/// <summary>The result of one scenario under one personality: the outcome, and for a failure the first mismatch.</summary>
public sealed record ScenarioResult(Scenario Scenario, Personality Personality, ScenarioOutcome Outcome, int Line, string Message, string Context, long Steps)
{
    public string Id => $"{Scenario.Name} [{Personality.Name}]";
}

/// <summary>
/// Runs scenarios: builds the platform under a personality, boots it (scripted SPs end their boot with FFA_MSG_WAIT,
/// except those listed under scripted-boot, which start held inside their boot), then carries out each step — a
/// scripted call is made and the scheduler runs until nothing is left to run — and compares what came back with what
/// the step expects. Stops at the first mismatch.
/// </summary>
public static class ScenarioRunner
{
    /// <summary>Resumes allowed per step before the run is called stuck.</summary>
    public const long StepBudget = 1_000_000;

    public static IEnumerable<ScenarioResult> RunAll(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return scenario.Personalities.Select(p => Run(scenario, p));
    }

    public static ScenarioResult Run(Scenario scenario, Personality personality)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(personality);
        if (scenario.Steps.Count == 0)
        {
            return new ScenarioResult(scenario, personality, ScenarioOutcome.Error, 1, "no steps to run: an explore scenario is run with firmament explore", string.Empty, 0);
        }

        var platform = Platform.Build(scenario.Platform with { Personality = personality }, new TraceRecorder { Enabled = true });
        foreach (var partition in platform.Partitions.Where(p => p.Config is { Scripted: true, Kind: PartitionKind.Sp } && !scenario.ScriptedBoot.Contains(p.Name, StringComparer.Ordinal)))
        {
            foreach (var vcpu in partition.Vcpus)
            {
                ((ScriptedVcpu)vcpu.Backend).Enqueue(RegisterFrame.Of(FfaFunctions.Id32(FfaFunction.MsgWait)));
            }
        }

        platform.Boot();
        platform.Run(StepBudget);
        var run = new Execution(scenario, personality, platform);
        foreach (var step in scenario.Steps)
        {
            var failure = run.Do(step);
            if (failure is not null)
            {
                return failure;
            }
        }

        return new ScenarioResult(scenario, personality, ScenarioOutcome.Passed, 0, string.Empty, string.Empty, platform.Scheduler.Steps);
    }

    private sealed class Execution(Scenario scenario, Personality personality, Platform platform)
    {
        private readonly Dictionary<string, ulong> _ramBase = InitialRamBases(platform);

        private static Dictionary<string, ulong> InitialRamBases(Platform platform)
        {
            var bases = new Dictionary<string, ulong>(StringComparer.Ordinal);
            foreach (var p in platform.Partitions)
            {
                var ram = p.Config.Memory.Count > 0 ? p.Config.Memory[0].Address : p.Config.Kind switch
                {
                    PartitionKind.Sp => Platform.DefaultSpRam,
                    PartitionKind.Kernel => Platform.DefaultKernelRam,
                    _ => Platform.DefaultVmRam,
                };
                if (p.Memory.Stage2.TryGetEntry(ram, out var entry))
                {
                    bases[p.Name] = entry.PhysicalPage << PhysicalMemory.PageShift;
                }
            }

            return bases;
        }

        public ScenarioResult? Do(ScenarioStep step)
        {
            switch (step)
            {
                case CallStep call:
                    return DoCall(call);
                case HypercallStep hypercall:
                    return GunyahSteps.Run(platform, hypercall, StepBudget) is { } problem
                        ? new ScenarioResult(scenario, personality, problem.Failed ? ScenarioOutcome.Failed : ScenarioOutcome.Error, hypercall.Line, problem.Message, problem.Context, platform.Scheduler.Steps)
                        : null;
                case AwaitStep wait:
                    return DoAwait(wait);
                case CheckStep check:
                    return check.Checks.Select(Check).FirstOrDefault(static r => r is not null);
                case WriteStep write:
                    var (space, address) = Where(write.Partition, write.Buffer, write.Offset, write.Of);
                    return space.TryWrite(address, write.Bytes, out var fault) ? null : Error(write.Line, $"write into {write.Partition}: {fault}");
                case NonSecureInterruptStep ns:
                    if (platform.Spmc is null)
                    {
                        return Error(ns.Line, "a non-secure interrupt preempts SPs: this platform has no SPMC");
                    }

                    platform.Spmc.SignalNonSecureInterrupt(platform.Scheduler.Pcpus[ns.Pcpu]);
                    return null;
                case TakeInterruptStep take:
                    var interrupts = platform[take.Partition].Vcpus[take.Vcpu].Interrupts;
                    if (!interrupts.IsPending(take.InterruptId))
                    {
                        return Fail(take.Line, $"interrupt {take.InterruptId} is not pending on {take.Partition}.{take.Vcpu}: nothing to take", default, null);
                    }

                    interrupts.ClearPending(take.InterruptId);
                    return null;
                case PowerStep power:
                    var vm = platform[power.Partition];
                    if (platform.Hypervisor is null || vm.Config.Kind != PartitionKind.Vm || power.Vcpu >= vm.Vcpus.Count)
                    {
                        return Error(power.Line, "power steps take a VM's vCPU offline or online: name a VM and one of its vCPUs");
                    }

                    platform.Hypervisor.SetVcpuOnline(vm.Vcpus[power.Vcpu].Id, power.Online);
                    platform.Run();
                    return null;
                case VirtualInterruptStep vi:
                    var target = platform[vi.Partition];
                    if (platform.Spmc is null || target.Config.Kind != PartitionKind.Sp)
                    {
                        return Error(vi.Line, "virtual interrupts go to SPs");
                    }

                    platform.Spmc.SignalVirtualInterrupt(target.Vcpus[vi.Vcpu], vi.InterruptId);
                    return null;
                default:
                    return Error(step.Line, "unknown step");
            }
        }

        private ScenarioResult? DoCall(CallStep call)
        {
            var vcpu = platform[call.By].Vcpus[call.Vcpu];
            var backend = (ScriptedVcpu)vcpu.Backend;
            if (backend.InCall)
            {
                return Error(call.Line, $"{call.By} is still in a call that has not returned: await it first");
            }

            if (backend.Answers.Count > 0)
            {
                return Error(call.Line, $"{call.By} has an answer no step looked at: await it first");
            }

            if (vcpu.State != VcpuState.Held)
            {
                return Error(call.Line, $"{call.By} vCPU {call.Vcpu} is {vcpu.State}, not held by the script");
            }

            var frame = call.Frame;
            if (call.OwnBuffers)
            {
                var buffers = platform.BuffersOf(platform[call.By].Id);
                (frame[1], frame[2], frame[3]) = (buffers.Tx, buffers.Rx, buffers.Pages);
            }

            backend.Enqueue(frame);
            var pcpu = vcpu.Pcpu ?? platform.Scheduler.HomeOf(vcpu);
            platform.Scheduler.Ready(vcpu, default, pcpu);
            platform.Run(StepBudget);
            var expected = call.Expect.For(personality);
            if (backend.InCall)
            {
                return expected.Pending || expected == FrameExpectation.Anything
                    ? null
                    : Fail(call.Line, "the call blocked (no answer yet), but the step expects an answer", frame, null);
            }

            if (!backend.Answers.TryDequeue(out var answer))
            {
                return Error(call.Line, $"{call.By} made no call (is it aborted?)");
            }

            return Compare(call.Line, expected, frame, answer);
        }

        private ScenarioResult? DoAwait(AwaitStep wait)
        {
            var vcpu = platform[wait.By].Vcpus[wait.Vcpu];
            var backend = (ScriptedVcpu)vcpu.Backend;
            platform.Run(StepBudget);
            if (!backend.Answers.TryDequeue(out var answer))
            {
                return Fail(wait.Line, $"{wait.By}'s call has not returned (it is {vcpu.State})", default, null);
            }

            return Compare(wait.Line, wait.Expect.For(personality), default, answer);
        }

        private ScenarioResult? Compare(int line, FrameExpectation expected, in RegisterFrame call, in RegisterFrame answer)
        {
            if (expected.Pending)
            {
                return Fail(line, "the step expects the call to block, but it was answered", call, answer);
            }

            var w0 = answer.W(0);
            if (expected.Success && w0 != FfaFunctions.Id32(FfaFunction.Success) && w0 != FfaFunctions.Id64(FfaFunction.Success))
            {
                return Fail(line, "expected FFA_SUCCESS", call, answer);
            }

            if (expected.Error is { } error && (w0 != FfaFunctions.Id32(FfaFunction.Error) || (int)answer.W(2) != (int)error))
            {
                return Fail(line, $"expected FFA_ERROR {error.Name()}", call, answer);
            }

            if (expected.Abi is { } abi)
            {
                var ok = FfaFunctions.TryParseName(abi, out var info, out var wide) && wide switch
                {
                    true => w0 == FfaFunctions.Id64(info.Function),
                    false => w0 == FfaFunctions.Id32(info.Function),
                    _ => w0 == FfaFunctions.Id32(info.Function) || w0 == FfaFunctions.Id64(info.Function),
                };
                if (!ok)
                {
                    return Fail(line, $"expected {abi}", call, answer);
                }
            }

            if (expected.Version is { } version && w0 != version.Encode())
            {
                return Fail(line, $"expected FFA_VERSION's answer {version} (0x{version.Encode():X8})", call, answer);
            }

            foreach (var (register, value, is32) in expected.Registers)
            {
                var actual = is32 ? answer.W(register) : answer[register];
                if (actual != (is32 ? (uint)value : value))
                {
                    return Fail(line, $"expected {(is32 ? 'w' : 'x')}{register} = 0x{value:X}, got 0x{actual:X}", call, answer);
                }
            }

            if (expected.Fields.Count > 0)
            {
                // A success is read as the answer to the call it answers (GET's bitmaps, INFO_GET's lists, …).
                FfaFunction? replyTo = FfaFunctions.TryClassify(call.W(0), out var called, out _) ? called.Function : null;
                var description = AbiDescriber.Describe(answer, CallerKind.Vm, FfaVersion.V1_2, null, replyTo);
                foreach (var (field, value) in expected.Fields)
                {
                    var actual = description.Fields.FirstOrDefault(f => f.Name == field);
                    if (actual.Name is null)
                    {
                        return Fail(line, $"expected field {field} = 0x{value:X}, but the answer ({description.Abi}) has no such field", call, answer);
                    }

                    if (actual.Value != value && !(actual.Signed && (long)actual.Value == (long)value))
                    {
                        return Fail(line, $"expected {field} = 0x{value:X}, got 0x{actual.Value:X}", call, answer);
                    }
                }
            }

            return null;
        }

        private ScenarioResult? Check(StateCheck check)
        {
            switch (check)
            {
                case RxOwnerCheck rx:
                    var owner = Endpoint(rx.Partition, rx.AtSpmc)?.Mailbox.RxOwner;
                    return owner == rx.Owner ? null : Fail(rx.Line, $"{rx.Partition}'s RX buffer{(rx.AtSpmc ? " at the SPMC" : string.Empty)} belongs to {Show(owner)}, expected {rx.Owner}", default, null);
                case MappedCheck mapped:
                    var isMapped = Endpoint(mapped.Partition, mapped.AtSpmc)?.Mailbox.IsMapped ?? false;
                    return isMapped == mapped.Mapped ? null : Fail(mapped.Line, $"{mapped.Partition}'s buffers are {(isMapped ? string.Empty : "not ")}mapped{(mapped.AtSpmc ? " at the SPMC" : string.Empty)}", default, null);
                case VersionCheck version:
                    var negotiated = Endpoint(version.Partition, atSpmc: false)?.Version;
                    return negotiated == version.Version ? null : Fail(version.Line, $"{version.Partition}'s version is {negotiated?.ToString() ?? "unknown (no such endpoint)"}, expected {version.Version}", default, null);
                case VersionLockedCheck locked:
                    var isLocked = Endpoint(locked.Partition, atSpmc: false)?.VersionLocked ?? false;
                    return isLocked == locked.Locked ? null : Fail(locked.Line, $"{locked.Partition}'s version is {(isLocked ? string.Empty : "not ")}locked", default, null);
                case VcpuStateCheck state:
                    var actual = platform[state.Partition].Vcpus[state.Vcpu].State;
                    return actual == state.State ? null : Fail(state.Line, $"{state.Partition} vCPU {state.Vcpu} is {actual}, expected {state.State}", default, null);
                case AbortedCheck aborted:
                    var isAborted = platform[aborted.Partition].IsAborted;
                    return isAborted == aborted.Aborted ? null : Fail(aborted.Line, $"{aborted.Partition} is {(isAborted ? string.Empty : "not ")}aborted", default, null);
                case InterruptCheck interrupt:
                    var pending = platform[interrupt.Partition].Vcpus[interrupt.Vcpu].Interrupts.IsPending(interrupt.InterruptId);
                    return pending == interrupt.Pending ? null : Fail(interrupt.Line, $"interrupt {interrupt.InterruptId} is {(pending ? string.Empty : "not ")}pending on {interrupt.Partition}", default, null);
                case FrameworkPendingCheck framework:
                    var ep = Endpoint(framework.Partition, atSpmc: framework.Spm != 0 && platform[framework.Partition].Config.Kind != PartitionKind.Sp);
                    var hyp = Endpoint(framework.Partition, atSpmc: false);
                    var (spm, hv) = (ep?.SpmFrameworkPending ?? 0, hyp?.HypervisorFrameworkPending ?? 0);
                    return spm == framework.Spm && hv == framework.Hypervisor
                        ? null
                        : Fail(framework.Line, $"{framework.Partition}'s framework notifications pending: spm 0x{spm:X}, hypervisor 0x{hv:X}; expected spm 0x{framework.Spm:X}, hypervisor 0x{framework.Hypervisor:X}", default, null);
                case PageCheck page:
                    var pageAddress = page.Of is null ? page.Address : Where(page.Partition, "ram", page.Address, page.Of).Address;
                    var access = platform[page.Partition].Memory.Stage2.TryGetEntry(pageAddress, out var entry) ? entry.Access : Stage2Access.None;
                    return access == page.Access ? null : Fail(page.Line, $"{page.Partition}'s page at 0x{page.Address:X} is {access}, expected {page.Access}", default, null);
                case MemoryCheck memory:
                    var (space, address) = Where(memory.Partition, memory.Buffer, memory.Offset, memory.Of);
                    var bytes = new byte[memory.Bytes.Length];
                    if (!space.TryRead(address, bytes, out var fault))
                    {
                        return Fail(memory.Line, $"reading {memory.Partition}'s memory: {fault}", default, null);
                    }

                    return bytes.AsSpan().SequenceEqual(memory.Bytes)
                        ? null
                        : Fail(memory.Line, $"{memory.Partition} {memory.Buffer}+0x{memory.Offset:X}: expected {Convert.ToHexString(memory.Bytes)}, found {Convert.ToHexString(bytes)}", default, null);
                case OwnerCheck ownerCheck:
                    var physical = Where(ownerCheck.Of, "ram", ownerCheck.Offset, ownerCheck.Of).Address;
                    var expectedOwner = platform[ownerCheck.Owner].Id;
                    var actualOwner = platform.Pages.TryGetPage(physical >> PhysicalMemory.PageShift, out var record) ? record.Owner : (EndpointId?)null;
                    return actualOwner == expectedOwner ? null : Fail(ownerCheck.Line, $"{ownerCheck.Of}'s RAM page +0x{ownerCheck.Offset:X} (PA 0x{physical:X}) is owned by {actualOwner?.ToString() ?? "nobody"}, expected {ownerCheck.Owner} ({expectedOwner})", default, null);
                case TransactionsCheck transactions:
                    var (atSpmc, atHypervisor) = (platform.Spmc?.SharedMemory.Count ?? 0, platform.Hypervisor?.SharedMemory.Count ?? 0);
                    return (transactions.Spmc is null || transactions.Spmc == atSpmc) && (transactions.Hypervisor is null || transactions.Hypervisor == atHypervisor)
                        ? null
                        : Fail(transactions.Line, $"live memory transactions: SPMC {atSpmc}, hypervisor {atHypervisor}; expected SPMC {transactions.Spmc?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any"}, hypervisor {transactions.Hypervisor?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any"}", default, null);
                default:
                    return Error(check.Line, "unknown check");
            }
        }

        /// <summary>An endpoint's record at the manager that serves it (or at the SPMC).</summary>
        private FfaEndpoint? Endpoint(string name, bool atSpmc)
        {
            var partition = platform[name];
            PartitionManager? manager = atSpmc || partition.Config.Kind != PartitionKind.Vm ? platform.Spmc : platform.Hypervisor;
            var id = partition.Config.Kind == PartitionKind.Kernel ? EndpointId.Hypervisor : partition.Id;
            return manager?.Endpoint(id);
        }

        private (AddressSpace Space, ulong Address) Where(string partition, string buffer, ulong offset, string? of = null)
        {
            var p = platform[partition];
            if (of is not null)
            {
                // A page of another partition's RAM, by its physical address: where a borrower maps it (IPA = PA).
                // The RAM's physical base is the one it had at boot (a region is placed contiguously), so the page is
                // still found after it was donated away.
                if (!_ramBase.TryGetValue(of, out var physicalBase))
                {
                    var (ownerSpace, ownerAddress) = Where(of, "ram", 0);
                    physicalBase = ownerSpace.Stage2.TryGetEntry(ownerAddress, out var owned) ? owned.PhysicalPage << PhysicalMemory.PageShift : ownerAddress;
                    _ramBase[of] = physicalBase;
                }

                return (p.Memory, physicalBase + offset);
            }

            var buffers = platform.BuffersOf(p.Id);
            var baseAddress = buffer switch
            {
                "rx" => buffers.Rx,
                "tx" => buffers.Tx,
                _ => p.Config.Memory.Count > 0 ? p.Config.Memory[0].Address : p.Config.Kind switch
                {
                    PartitionKind.Sp => Platform.DefaultSpRam,
                    PartitionKind.Kernel => Platform.DefaultKernelRam,
                    _ => Platform.DefaultVmRam,
                },
            };
            return (p.Memory, baseAddress + offset);
        }

        private static string Show(RxOwner? owner) => owner?.ToString() ?? "nobody (no such endpoint)";

        private ScenarioResult Fail(int line, string message, in RegisterFrame call, RegisterFrame? answer)
        {
            var context = new StringBuilder();
            if (call.X0 != 0)
            {
                context.Append("call:\n").Append(Indent(DecodeText(call)));
            }

            if (answer is { } a)
            {
                context.Append("answer:\n").Append(Indent(DecodeText(a)));
            }

            context.Append("trace (last events):\n");
            var lines = TraceExport.ToText(platform).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var traceLine in lines.Skip(Math.Max(2, lines.Length - 8)))
            {
                context.Append("    ").Append(traceLine).Append('\n');
            }

            return new ScenarioResult(scenario, personality, ScenarioOutcome.Failed, line, message, context.ToString(), platform.Scheduler.Steps);
        }

        private ScenarioResult Error(int line, string message) =>
            new(scenario, personality, ScenarioOutcome.Error, line, message, string.Empty, platform.Scheduler.Steps);

        private static string DecodeText(in RegisterFrame frame)
        {
            var d = AbiDescriber.Describe(frame, CallerKind.Vm, FfaVersion.V1_2, null);
            var sb = new StringBuilder();
            sb.Append(d.Abi).Append(' ').Append(frame.ToString()).Append('\n');
            foreach (var field in d.Fields)
            {
                sb.Append("  ").Append(field.Name).Append(" = ").Append(field.Signed ? field.SignedValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0x" + field.Value.ToString("X", System.Globalization.CultureInfo.InvariantCulture));
                if (field.Text.Length > 0)
                {
                    sb.Append("  ").Append(field.Text);
                }

                sb.Append('\n');
            }

            return sb.ToString();
        }

        private static string Indent(string text) => string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => "    " + l + "\n"));
    }
}
