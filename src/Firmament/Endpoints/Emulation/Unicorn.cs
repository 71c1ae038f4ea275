using System.Runtime.InteropServices;

namespace Firmament.Endpoints.Emulation;

/// <summary>
/// The slice of Unicorn 2's C API the emulated backend uses, P/Invoked from Debian's <c>libunicorn.so.2</c> (there is
/// no NuGet binding). Constants are the values of <c>unicorn.h</c> / <c>arm64.h</c> of Unicorn 2.0.
/// </summary>
internal static class Unicorn
{
    public const string Library = "libunicorn.so.2";

    public const int ArchArm64 = 2;
    public const int ModeArm = 0;

    public const int ErrOk = 0;

    public const uint ProtRead = 1;
    public const uint ProtWrite = 2;
    public const uint ProtExec = 4;

    public const int HookIntr = 1 << 0;
    public const int HookMemUnmapped = (1 << 4) | (1 << 5) | (1 << 6);
    public const int HookMemProt = (1 << 7) | (1 << 8) | (1 << 9);

    /// <summary>uc_mem_type values a memory hook reports.</summary>
    public const int MemReadUnmapped = 19;
    public const int MemWriteUnmapped = 20;
    public const int MemFetchUnmapped = 21;
    public const int MemWriteProt = 22;
    public const int MemReadProt = 23;
    public const int MemFetchProt = 24;

    public const int RegX0 = 199;
    public const int RegX29 = 1;
    public const int RegX30 = 2;
    public const int RegSp = 4;
    public const int RegPc = 260;
    public const int RegCpacrEl1 = 261;
    public const int RegTpidrEl1 = 264;
    public const int RegPstate = 265;
    public const int RegCpReg = 290;

    /// <summary>QEMU's exception numbers, which Unicorn passes to an interrupt hook.</summary>
    public const uint ExceptionUndefined = 1;
    public const uint ExceptionSvc = 2;
    public const uint ExceptionBreakpoint = 7;
    public const uint ExceptionHvc = 11;
    public const uint ExceptionSmc = 13;

    /// <summary>The register number of x<paramref name="n"/> (x0..x28 are consecutive; x29, x30 are not).</summary>
    public static int X(int n) => n switch
    {
        29 => RegX29,
        30 => RegX30,
        _ => RegX0 + n,
    };

    private static readonly Lazy<string?> LoadFailure = new(Probe);

    /// <summary>Whether <c>libunicorn.so.2</c> can be loaded and opens an AArch64 CPU.</summary>
    public static bool IsAvailable => LoadFailure.Value is null;

    /// <summary>Why the emulator cannot be used on this machine (null when it can).</summary>
    public static string? UnavailableReason => LoadFailure.Value;

    private static string? Probe()
    {
        if (!NativeLibrary.TryLoad(Library, typeof(Unicorn).Assembly, DllImportSearchPath.SafeDirectories, out var handle))
        {
            return $"{Library} cannot be loaded (on Debian: apt-get install libunicorn2)";
        }

        NativeLibrary.Free(handle);
        try
        {
            var error = NativeMethods.uc_open(ArchArm64, ModeArm, out var uc);
            if (error != ErrOk)
            {
                return $"{Library} loaded but cannot open an AArch64 CPU: {Describe(error)}";
            }

            _ = NativeMethods.uc_close(uc);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return $"{Library} cannot be used: {e.Message}";
        }
    }

    /// <summary>Unicorn's own text for an error code.</summary>
    public static string Describe(int error) => Marshal.PtrToStringAnsi(NativeMethods.uc_strerror(error)) ?? $"error {error}";

    /// <summary>Throws for an error from a setup call (mapping, hooks): a configuration bug, not a guest fault.</summary>
    public static void Check(int error, string what)
    {
        if (error != ErrOk)
        {
            throw new InvalidOperationException($"unicorn: {what} failed: {Describe(error)}");
        }
    }

    /// <summary>An invalid-memory hook; returning 0 lets the access fail (the emulation stops with an error).</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate byte MemoryHook(IntPtr uc, int type, ulong address, int size, long value, IntPtr userData);

    /// <summary>The system-register form Unicorn reads and writes through <see cref="RegCpReg"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CpReg
    {
        public uint Crn;
        public uint Crm;
        public uint Op0;
        public uint Op1;
        public uint Op2;
        public ulong Value;
    }

    internal static class NativeMethods
    {
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_open(int arch, int mode, out IntPtr uc);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_close(IntPtr uc);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern IntPtr uc_strerror(int code);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_mem_map_ptr(IntPtr uc, ulong address, nuint size, uint perms, IntPtr ptr);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_mem_unmap(IntPtr uc, ulong address, nuint size);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_reg_write(IntPtr uc, int regid, ref ulong value);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_reg_read(IntPtr uc, int regid, out ulong value);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library, EntryPoint = "uc_reg_write")]
        public static extern int uc_reg_write_cp(IntPtr uc, int regid, ref CpReg value);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library, EntryPoint = "uc_reg_read")]
        public static extern int uc_reg_read_cp(IntPtr uc, int regid, ref CpReg value);

        /// <summary>Pointers to pinned arrays (no marshalling); short and never calls back, so no GC transition.</summary>
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        [SuppressGCTransition]
        public static extern int uc_reg_read_batch(IntPtr uc, IntPtr regs, IntPtr values, int count);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        [SuppressGCTransition]
        public static extern int uc_reg_write_batch(IntPtr uc, IntPtr regs, IntPtr values, int count);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_emu_start(IntPtr uc, ulong begin, ulong until, ulong timeout, nuint count);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_emu_stop(IntPtr uc);

        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        [DllImport(Library)]
        public static extern int uc_hook_add(IntPtr uc, out IntPtr hook, int type, IntPtr callback, IntPtr userData, ulong begin, ulong end);
    }
}
