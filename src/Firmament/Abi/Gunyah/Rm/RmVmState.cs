namespace Firmament.Abi.Gunyah.Rm;

/// <summary>RM VM states: VM_STATUS vm_status and byte 0 of VM_GET_STATE's reply (7 is reserved).</summary>
public enum RmVmState : byte
{
    None = 0,
    Init = 1,
    Ready = 2,
    Running = 3,
    Paused = 4,
    Load = 5,
    Auth = 6,
    InitFailed = 8,
    Exited = 9,
    Resetting = 10,
    Reset = 11,
}

/// <summary>Guest OS states: VM_STATUS os_status and byte 1 of VM_GET_STATE's reply. 0 in VM_SET_STATUS means "no change".</summary>
public enum RmOsState : byte
{
    None = 0,
    EarlyBoot = 1,
    Boot = 2,
    Init = 3,
    Run = 4,
    Shutdown = 5,
    Halted = 6,
    Crashed = 7,
}

/// <summary>Names of the RM VM and OS states.</summary>
public static class RmVmStates
{
    public static string Name(this RmVmState state) => state switch
    {
        RmVmState.None => "NONE",
        RmVmState.Init => "INIT",
        RmVmState.Ready => "READY",
        RmVmState.Running => "RUNNING",
        RmVmState.Paused => "PAUSED",
        RmVmState.Load => "LOAD",
        RmVmState.Auth => "AUTH",
        RmVmState.InitFailed => "INIT_FAILED",
        RmVmState.Exited => "EXITED",
        RmVmState.Resetting => "RESETTING",
        RmVmState.Reset => "RESET",
        _ => $"UNKNOWN({(byte)state})",
    };

    public static string Name(this RmOsState state) => state switch
    {
        RmOsState.None => "NONE",
        RmOsState.EarlyBoot => "EARLY_BOOT",
        RmOsState.Boot => "BOOT",
        RmOsState.Init => "INIT",
        RmOsState.Run => "RUN",
        RmOsState.Shutdown => "SHUTDOWN",
        RmOsState.Halted => "HALTED",
        RmOsState.Crashed => "CRASHED",
        _ => $"UNKNOWN({(byte)state})",
    };

    /// <summary>VM_GET_STATE's reply word: vm_state | os_state &lt;&lt; 8 | app_status &lt;&lt; 16.</summary>
    public static uint PackState(RmVmState vm, RmOsState os, ushort appStatus) => (byte)vm | ((uint)(byte)os << 8) | ((uint)appStatus << 16);

    public static (RmVmState Vm, RmOsState Os, ushort AppStatus) UnpackState(uint word) =>
        ((RmVmState)(byte)word, (RmOsState)(byte)(word >> 8), (ushort)(word >> 16));
}
