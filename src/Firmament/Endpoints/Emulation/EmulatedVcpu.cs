using System.Runtime.InteropServices;
using Firmament.Abi;
using Firmament.Machine;

namespace Firmament.Endpoints.Emulation;

/// <summary>
/// Runs one vCPU's AArch64 machine code in its own Unicorn CPU. The guest traps to its partition manager with HVC,
/// SMC or SVC: the interrupt hook reads x0..x17, hands the frame to the vCPU's <see cref="ICallHandler"/> and, when
/// the call completes at once, writes the answer back and lets the CPU run on. Only a call that blocks (or yields the
/// pCPU) stops the CPU; the scheduler later resumes it with the answer in x0..x17. The instruction budget of one run
/// is the time slice: when it is spent, the vCPU reaches a preemption point like a completed call.
/// Guest memory is the partition's stage-2 view: every mapped IPA page is the very page of
/// <see cref="PhysicalMemory"/> (shared with Unicorn through <c>uc_mem_map_ptr</c>), and each stage-2 change is
/// applied to the CPU's map at once. Identity ranges of a stage-2 map (the managers' view of normal RAM) are not
/// mapped: partitions do not have them.
/// A fault (unmapped access, permission fault, undefined instruction, BRK, an exception in the hook) stops the CPU
/// and aborts the partition with a <see cref="FaultReport"/>; nothing escapes into native code.
/// </summary>
public sealed class EmulatedVcpu : IVcpuBackend, IDisposable
{
    /// <summary>Virtual nanoseconds charged per instruction when a budget is spent.</summary>
    public const ulong InstructionCost = 1;

    /// <summary>PSCI CPU_OFF (SMC32): the guest's way to end its code, as a managed program returns.</summary>
    public const uint PsciCpuOff = 0x8400_0002;

    /// <summary>Bit 30 of an SMCCC function ID: the SMC64/HVC64 convention.</summary>
    private const ulong SmcccConvention64 = 1UL << 30;

    /// <summary>SCR_EL3.HCE: without it an EL1 <c>hvc</c> is an undefined instruction.</summary>
    private const ulong ScrHce = 1UL << 8;

    /// <summary>CPACR_EL1.FPEN = 0b11: FP/SIMD does not trap (the guest library avoids it; compilers may not).</summary>
    private const ulong CpacrFpen = 3UL << 20;

    private readonly Scheduler _scheduler;
    private readonly AddressSpace _memory;
    private readonly GuestImage _image;
    // x0..x17 as Unicorn reads them (register IDs, values, pointers to the values), and a compacted list of the
    // registers an answer changes: all pinned, so the batched calls pass raw pointers and marshal nothing.
    private readonly int[] _registerIds = GC.AllocateArray<int>(RegisterFrame.Count, pinned: true);
    private readonly ulong[] _values = GC.AllocateArray<ulong>(RegisterFrame.Count, pinned: true);
    private readonly IntPtr[] _pointers = GC.AllocateArray<IntPtr>(RegisterFrame.Count, pinned: true);
    private readonly int[] _writeIds = GC.AllocateArray<int>(RegisterFrame.Count, pinned: true);
    private readonly ulong[] _writeValues = GC.AllocateArray<ulong>(RegisterFrame.Count, pinned: true);
    private readonly IntPtr[] _writePointers = GC.AllocateArray<IntPtr>(RegisterFrame.Count, pinned: true);
    private readonly IntPtr _idsAddress;
    private readonly IntPtr _pointersAddress;
    private readonly IntPtr _writeIdsAddress;
    private readonly IntPtr _writePointersAddress;
    private int _registersRead;
    private readonly HashSet<ulong> _mappedPages = [];
    private readonly Unicorn.MemoryHook _memoryHook;
    private Engine? _engine;
    private Vcpu? _vcpu;
    private RegisterFrame _frame;
    private Stop _stop;
    private bool _deliver;
    private string? _hookFault;
    private ulong _hookFaultPc;
    private (int Type, ulong Address)? _memoryFault;

    public EmulatedVcpu(Scheduler scheduler, AddressSpace memory, GuestImage image, ulong budget = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentOutOfRangeException.ThrowIfZero(budget);
        _scheduler = scheduler;
        _memory = memory;
        _image = image;
        Budget = budget;
        for (var i = 0; i < RegisterFrame.Count; i++)
        {
            _registerIds[i] = Unicorn.X(i);
            _pointers[i] = Marshal.UnsafeAddrOfPinnedArrayElement(_values, i);
            _writePointers[i] = Marshal.UnsafeAddrOfPinnedArrayElement(_writeValues, i);
        }

        _idsAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_registerIds, 0);
        _pointersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_pointers, 0);
        _writeIdsAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_writeIds, 0);
        _writePointersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_writePointers, 0);

        _memoryHook = OnInvalidMemory;
        memory.Stage2.Changed += OnStage2Changed;
    }

    private enum Stop : byte
    {
        None = 0,
        Parked,
        Ended,
    }

    /// <summary>Instructions one run may execute before the vCPU reaches a preemption point (the time slice).</summary>
    public ulong Budget { get; }

    /// <summary>Why the vCPU was stopped for good, if it faulted.</summary>
    public FaultReport? Fault { get; private set; }

    /// <summary>Runs (uc_emu_start calls) so far: each is a restart after a stop.</summary>
    public long Runs { get; private set; }

    /// <summary>Calls served inside the hook without stopping the CPU.</summary>
    public long FastCalls { get; private set; }

    /// <summary>IPA pages currently mapped in the CPU (for tests of stage-2 changes).</summary>
    public IReadOnlyCollection<ulong> MappedPages => _mappedPages;

    /// <summary>Whether the CPU currently maps the page holding <paramref name="ipa"/>.</summary>
    public bool Maps(ulong ipa) => _mappedPages.Contains(ipa >> PhysicalMemory.PageShift);

    public void Resume(Vcpu vcpu)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        if (_hookFault is not null && _engine is not null)
        {
            // A stage-2 change could not be applied while the vCPU was parked: it must not run on a stale map.
            _ = Unicorn.NativeMethods.uc_reg_read(_engine.Handle, Unicorn.RegPc, out var stalePc);
            Stopped(vcpu, stalePc, _hookFault);
            return;
        }

        if (_engine is null)
        {
            if (Fault is not null || !TryStart(vcpu))
            {
                return;
            }
        }
        else if (_deliver)
        {
            _registersRead = 0; // the registers may have changed since: write every one the answer's convention has
            WriteAnswer(vcpu.Result);
            _scheduler.OnReturn(vcpu, vcpu.Result);
        }

        _deliver = false;
        _stop = Stop.None;
        _memoryFault = null;
        var uc = _engine!.Handle;
        _ = Unicorn.NativeMethods.uc_reg_read(uc, Unicorn.RegPc, out var pc);
        Runs++;
        var error = Unicorn.NativeMethods.uc_emu_start(uc, pc, ulong.MaxValue, 0, (nuint)Budget);
        if (_hookFault is not null)
        {
            Stopped(vcpu, _hookFaultPc, _hookFault);
            return;
        }

        if (error != Unicorn.ErrOk)
        {
            _ = Unicorn.NativeMethods.uc_reg_read(uc, Unicorn.RegPc, out pc);
            Stopped(vcpu, pc, MemoryFaultText(error));
            return;
        }

        switch (_stop)
        {
            case Stop.Parked:
                return;
            case Stop.Ended:
                Close();
                vcpu.Handler.OnStopped(vcpu, null);
                _scheduler.AfterBlockedCall(vcpu);
                return;
            default:
                // The budget is spent: a preemption point with no call. The registers stay as they are.
                var pcpu = vcpu.Pcpu!;
                pcpu.Time += Budget * InstructionCost;
                ReadFrame(ref _frame);
                if (!_scheduler.YieldAfterCompletedCall(vcpu, _frame))
                {
                    _scheduler.Ready(vcpu, _frame, pcpu);
                }

                return;
        }
    }

    public void Dispose()
    {
        _memory.Stage2.Changed -= OnStage2Changed;
        Close();
    }

    /// <summary>Starts the CPU; a failure (Unicorn refusing a mapping or a register) stops the vCPU with a report.</summary>
    private bool TryStart(Vcpu vcpu)
    {
        try
        {
            return Start(vcpu);
        }
        catch (InvalidOperationException e)
        {
            Stopped(vcpu, _image.EntryPoint, $"the emulator could not be set up: {e.Message}");
            return false;
        }
    }

    /// <summary>Opens the CPU, maps the partition's memory, sets the entry state. False if that failed (the vCPU is stopped).</summary>
    private bool Start(Vcpu vcpu)
    {
        _vcpu = vcpu;
        var error = Unicorn.NativeMethods.uc_open(Unicorn.ArchArm64, Unicorn.ModeArm, out var uc);
        if (error != Unicorn.ErrOk)
        {
            Stopped(vcpu, _image.EntryPoint, $"the emulator cannot open a CPU: {Unicorn.Describe(error)}");
            return false;
        }

        _engine = new Engine(uc, this);
        Unicorn.Check(Unicorn.NativeMethods.uc_hook_add(uc, out _, Unicorn.HookIntr, InterruptHookAddress, _engine.Self, 1, 0), "uc_hook_add(INTR)");
        Unicorn.Check(Unicorn.NativeMethods.uc_hook_add(uc, out _, Unicorn.HookMemUnmapped | Unicorn.HookMemProt, Marshal.GetFunctionPointerForDelegate(_memoryHook), IntPtr.Zero, 1, 0), "uc_hook_add(MEM_INVALID)");
        foreach (var (page, entry) in _memory.Stage2.Entries())
        {
            MapPage(page, entry);
        }

        var scr = new Unicorn.CpReg { Crn = 1, Crm = 1, Op0 = 3, Op1 = 6, Op2 = 0 };
        Unicorn.Check(Unicorn.NativeMethods.uc_reg_read_cp(uc, Unicorn.RegCpReg, ref scr), "reading SCR_EL3");
        scr.Value |= ScrHce;
        Unicorn.Check(Unicorn.NativeMethods.uc_reg_write_cp(uc, Unicorn.RegCpReg, ref scr), "writing SCR_EL3");
        _ = Unicorn.NativeMethods.uc_reg_read(uc, Unicorn.RegCpacrEl1, out var cpacr);
        cpacr |= CpacrFpen;
        Unicorn.Check(Unicorn.NativeMethods.uc_reg_write(uc, Unicorn.RegCpacrEl1, ref cpacr), "writing CPACR_EL1");
        var index = (ulong)vcpu.Id.Index;
        Unicorn.Check(Unicorn.NativeMethods.uc_reg_write(uc, Unicorn.RegTpidrEl1, ref index), "writing TPIDR_EL1");

        var entryFrame = default(RegisterFrame);
        entryFrame[0] = index;
        for (var i = 0; i < _image.Arguments.Count && i < GuestImage.MaxArguments; i++)
        {
            entryFrame[1 + i] = _image.Arguments[i];
        }

        WriteFrame(entryFrame);
        var pc = _image.EntryPoint;
        Unicorn.Check(Unicorn.NativeMethods.uc_reg_write(uc, Unicorn.RegPc, ref pc), "writing PC");
        return true;
    }

    /// <summary>
    /// The trap hook as Unicorn calls it: a plain C function pointer (no delegate, no marshalling stub), with this
    /// vCPU found through the weak GC handle passed as the hook's user data.
    /// </summary>
    private static unsafe IntPtr InterruptHookAddress => (IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, uint, IntPtr, void>)&OnInterruptEntry;

    [UnmanagedCallersOnly(CallConvs = [typeof(System.Runtime.CompilerServices.CallConvCdecl)])]
    private static void OnInterruptEntry(IntPtr uc, uint intno, IntPtr userData)
    {
        if (GCHandle.FromIntPtr(userData).Target is EmulatedVcpu self)
        {
            self.OnInterrupt(uc, intno);
        }
        else
        {
            _ = Unicorn.NativeMethods.uc_emu_stop(uc); // the vCPU is gone: nothing may run on
        }
    }

    /// <summary>The trap hook: HVC, SMC and SVC are calls; any other exception is a fault. Nothing may escape it.</summary>
    private void OnInterrupt(IntPtr uc, uint intno)
    {
        try
        {
            switch (intno)
            {
                case Unicorn.ExceptionHvc or Unicorn.ExceptionSmc or Unicorn.ExceptionSvc:
                    Call(uc);
                    break;
                case Unicorn.ExceptionUndefined:
                    FaultInHook(uc, "undefined instruction", rewind: false);
                    break;
                case Unicorn.ExceptionBreakpoint:
                    FaultInHook(uc, "breakpoint (BRK)", rewind: false);
                    break;
                default:
                    FaultInHook(uc, $"unexpected exception {intno}", rewind: false);
                    break;
            }
        }
#pragma warning disable CA1031 // Nothing may unwind into native code: whatever it is, the partition is aborted.
        catch (Exception e)
#pragma warning restore CA1031
        {
            FaultInHook(uc, $"exception escaping the trap hook: {e.GetType().Name}: {e.Message}", rewind: true);
        }
    }

    private void Call(IntPtr uc)
    {
        var vcpu = _vcpu!;
        ReadCall(ref _frame);
        if ((uint)_frame[0] == PsciCpuOff)
        {
            _stop = Stop.Ended;
            _ = Unicorn.NativeMethods.uc_emu_stop(uc);
            return;
        }

        _scheduler.OnCall(vcpu, _frame);
        if (vcpu.Handler.Call(vcpu, ref _frame) == CallOutcome.Completed)
        {
            if (!_scheduler.YieldAfterCompletedCall(vcpu, _frame))
            {
                _scheduler.OnReturn(vcpu, _frame);
                WriteAnswer(_frame);
                FastCalls++;
                return;
            }
        }
        else
        {
            _scheduler.AfterBlockedCall(vcpu);
        }

        // Parked (or made to wait for its pCPU): the answer arrives in Result when the scheduler resumes it.
        _deliver = true;
        _stop = Stop.Parked;
        _ = Unicorn.NativeMethods.uc_emu_stop(uc);
    }

    /// <summary>
    /// Records a fault raised in the hook and stops the CPU. For UDF and BRK the PC Unicorn reports is the faulting
    /// instruction; after an HVC/SMC it is the next one (<paramref name="rewind"/> points back at the trap).
    /// </summary>
    private void FaultInHook(IntPtr uc, string reason, bool rewind)
    {
        _ = Unicorn.NativeMethods.uc_reg_read(uc, Unicorn.RegPc, out var pc);
        _hookFaultPc = rewind ? pc - 4 : pc;
        _hookFault = reason;
        _ = Unicorn.NativeMethods.uc_emu_stop(uc);
    }

    private byte OnInvalidMemory(IntPtr uc, int type, ulong address, int size, long value, IntPtr userData)
    {
        _memoryFault = (type, address);
        return 0;
    }

    private string MemoryFaultText(int error)
    {
        if (_memoryFault is not { } fault)
        {
            return $"emulation stopped: {Unicorn.Describe(error)}";
        }

        var need = fault.Type switch
        {
            Unicorn.MemWriteUnmapped or Unicorn.MemWriteProt => Stage2Access.Write,
            Unicorn.MemFetchUnmapped or Unicorn.MemFetchProt => Stage2Access.Execute,
            _ => Stage2Access.Read,
        };
        if (_memory.Stage2.TryTranslate(fault.Address, need, out _, out var memoryFault))
        {
            return $"memory access refused at IPA 0x{fault.Address:X} ({need}): {Unicorn.Describe(error)}";
        }

        return memoryFault.ToString();
    }

    private void Stopped(Vcpu vcpu, ulong pc, string reason)
    {
        Fault = FaultReport.Create(vcpu.Id, pc, reason, _memory);
        _hookFault = null;
        Close();
        vcpu.Handler.OnStopped(vcpu, Fault.ToString());
        _scheduler.AfterBlockedCall(vcpu);
    }

    private void OnStage2Changed(ulong firstPage, ulong count)
    {
        if (_engine is null)
        {
            return; // mapped as a whole when the CPU starts
        }

        try
        {
            for (var page = firstPage; page < firstPage + count; page++)
            {
                if (_mappedPages.Remove(page))
                {
                    Unicorn.Check(Unicorn.NativeMethods.uc_mem_unmap(_engine.Handle, page << PhysicalMemory.PageShift, PhysicalMemory.PageSize), "uc_mem_unmap");
                }

                if (_memory.Stage2.TryGetEntry(page << PhysicalMemory.PageShift, out var entry))
                {
                    MapPage(page, entry);
                }
            }
        }
        catch (InvalidOperationException e)
        {
            // The manager's change stands; this vCPU stops before it runs again (at once, if it is running).
            _hookFault = $"a stage-2 change could not be applied to the emulated CPU: {e.Message}";
            _hookFaultPc = 0;
            _ = Unicorn.NativeMethods.uc_emu_stop(_engine.Handle);
        }
    }

    private void MapPage(ulong page, Stage2Entry entry)
    {
        if (entry.Access == Stage2Access.None || !_memory.Memory.TryGetPage(entry.PhysicalPage, out var bytes))
        {
            return; // an access faults, and the report says why (stage 2 has the answer)
        }

        var perms = ((entry.Access & Stage2Access.Read) != 0 ? Unicorn.ProtRead : 0)
            | ((entry.Access & Stage2Access.Write) != 0 ? Unicorn.ProtWrite : 0)
            | ((entry.Access & Stage2Access.Execute) != 0 ? Unicorn.ProtExec : 0);
        Unicorn.Check(
            Unicorn.NativeMethods.uc_mem_map_ptr(_engine!.Handle, page << PhysicalMemory.PageShift, PhysicalMemory.PageSize, perms, Marshal.UnsafeAddrOfPinnedArrayElement(bytes, 0)),
            $"mapping IPA page 0x{page << PhysicalMemory.PageShift:X}");
        _mappedPages.Add(page);
    }

    /// <summary>
    /// Reads a call's registers: x0..x7 for an SMC32/HVC32 function ID (SMCCC: its arguments are w0..w7 and x8..x17
    /// are preserved; they are passed as zero), x0..x17 for an SMC64 one (FF-A v1.2 uses them all, and checks them).
    /// Register access through Unicorn costs a few ns per register: reading half of them halves that.
    /// </summary>
    private void ReadCall(ref RegisterFrame frame)
    {
        var uc = _engine!.Handle;
        _ = Unicorn.NativeMethods.uc_reg_read_batch(uc, _idsAddress, _pointersAddress, 8);
        _registersRead = 8;
        if ((_values[0] & SmcccConvention64) != 0)
        {
            _ = Unicorn.NativeMethods.uc_reg_read_batch(uc, _idsAddress + (8 * sizeof(int)), _pointersAddress + (8 * IntPtr.Size), RegisterFrame.Count - 8);
            _registersRead = RegisterFrame.Count;
        }
        else
        {
            _values.AsSpan(8).Clear();
        }

        _values.AsSpan().CopyTo(frame.AsSpan());
    }

    /// <summary>Reads all of x0..x17 (at a preemption point, where no call says which matter).</summary>
    private void ReadFrame(ref RegisterFrame frame)
    {
        _ = Unicorn.NativeMethods.uc_reg_read_batch(_engine!.Handle, _idsAddress, _pointersAddress, RegisterFrame.Count);
        _registersRead = RegisterFrame.Count;
        _values.AsSpan().CopyTo(frame.AsSpan());
    }

    /// <summary>
    /// Writes an answer: the registers of its convention (x0..x7, or x0..x17 for an SMC64 answer), only those that
    /// differ from what the call left in them (unknown registers are always written).
    /// </summary>
    private void WriteAnswer(in RegisterFrame frame)
    {
        var count = (frame[0] & SmcccConvention64) != 0 ? RegisterFrame.Count : 8;
        var changed = 0;
        for (var i = 0; i < count; i++)
        {
            if (i >= _registersRead || frame[i] != _values[i])
            {
                _writeIds[changed] = _registerIds[i];
                _writeValues[changed] = frame[i];
                changed++;
            }
        }

        if (changed > 0)
        {
            _ = Unicorn.NativeMethods.uc_reg_write_batch(_engine!.Handle, _writeIdsAddress, _writePointersAddress, changed);
        }
    }

    /// <summary>Writes all of x0..x17 (the entry registers).</summary>
    private void WriteFrame(in RegisterFrame frame)
    {
        frame.AsReadOnlySpan().CopyTo(_values);
        _ = Unicorn.NativeMethods.uc_reg_write_batch(_engine!.Handle, _idsAddress, _pointersAddress, RegisterFrame.Count);
    }

    private void Close()
    {
        _engine?.Dispose();
        _engine = null;
        _mappedPages.Clear();
    }

    /// <summary>The uc_engine handle, closed when disposed or finalized.</summary>
    private sealed class Engine : SafeHandle
    {
        private GCHandle _self;

        public Engine(IntPtr uc, EmulatedVcpu owner)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle(uc);
            _self = GCHandle.Alloc(owner, GCHandleType.Weak);
        }

        public IntPtr Handle => handle;

        /// <summary>The owning vCPU, as the trap hook's user data (weak: the engine must not keep its vCPU alive).</summary>
        public IntPtr Self => GCHandle.ToIntPtr(_self);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            var closed = Unicorn.NativeMethods.uc_close(handle) == Unicorn.ErrOk;
            _self.Free();
            return closed;
        }
    }
}
