namespace Firmament.Abi.Gunyah;

/// <summary>
/// vcpu_run (0x65): donate CPU time to a proxy-scheduled vCPU. Resume data depends on the state the previous call
/// returned (the value read, for ADDRSPACE_VMMIO_READ; otherwise 0). The result is a <see cref="VcpuRunResult"/>.
/// Needs THREAD AFFINITY and YIELD_TO.
/// </summary>
public readonly record struct VcpuRun(CapId Vcpu, ulong ResumeData0, ulong ResumeData1, ulong ResumeData2) : IGunyahCallView<VcpuRun>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.VcpuRun;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out VcpuRun value, out AbiViolation violation)
    {
        value = default;
        if (!GunyahFrame.TryOpen(frame, convention, Hypercall, out var a, out violation))
        {
            return false;
        }

        var x = frame.AsReadOnlySpan();
        value = new VcpuRun(new CapId(x[a]), x[a + 1], x[a + 2], x[a + 3]);
        return true;
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention)
    {
        var a = GunyahFrame.Open(ref frame, convention, Hypercall);
        frame[a] = Vcpu.Value;
        frame[a + 1] = ResumeData0;
        frame[a + 2] = ResumeData1;
        frame[a + 3] = ResumeData2;
    }
}

/// <summary>hypervisor_identify (0x00): no inputs and no reserved slot. The result is a <see cref="HypervisorIdentifyResult"/>.</summary>
public readonly record struct HypervisorIdentify : IGunyahCallView<HypervisorIdentify>
{
    public static GunyahHypercall Hypercall => GunyahHypercall.HypervisorIdentify;

    public static bool TryDecode(in RegisterFrame frame, GunyahConvention convention, out HypervisorIdentify value, out AbiViolation violation)
    {
        value = default;
        return GunyahFrame.TryOpen(frame, convention, Hypercall, out _, out violation);
    }

    public void Encode(ref RegisterFrame frame, GunyahConvention convention) => GunyahFrame.Open(ref frame, convention, Hypercall);
}
