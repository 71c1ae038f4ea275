using Firmament.Machine;
using Gee.External.Capstone;
using Gee.External.Capstone.Arm64;

namespace Firmament.Endpoints.Emulation;

/// <summary>
/// Why an emulated vCPU was stopped for good: where (PC), what (the reason), and the faulting instruction as bytes
/// and disassembled with Capstone.
/// </summary>
/// <param name="Vcpu">The vCPU that faulted.</param>
/// <param name="Pc">The address of the faulting instruction.</param>
/// <param name="Reason">What went wrong, in the architecture's terms.</param>
/// <param name="Instruction">The instruction word, when PC was readable.</param>
/// <param name="Disassembly">The instruction as Capstone reads it, or why it could not be read.</param>
public sealed record FaultReport(VcpuId Vcpu, ulong Pc, string Reason, uint? Instruction, string Disassembly)
{
    public override string ToString() => Instruction is { } word
        ? $"{Reason} at PC 0x{Pc:X}: {Disassembly} ({word:x8})"
        : $"{Reason} at PC 0x{Pc:X}: {Disassembly}";

    /// <summary>Builds a report, reading the instruction at <paramref name="pc"/> through the partition's stage-2 map.</summary>
    public static FaultReport Create(VcpuId vcpu, ulong pc, string reason, AddressSpace memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        Span<byte> bytes = stackalloc byte[4];
        if (!memory.TryRead(pc, bytes, out var fault))
        {
            return new FaultReport(vcpu, pc, reason, null, $"instruction not readable ({fault})");
        }

        var word = BitConverter.ToUInt32(bytes);
        return new FaultReport(vcpu, pc, reason, word, Disassemble(bytes.ToArray(), pc));
    }

    /// <summary>One instruction's text, or a note when Capstone cannot decode it (or cannot be loaded).</summary>
    public static string Disassemble(byte[] code, ulong address)
    {
        ArgumentNullException.ThrowIfNull(code);
        try
        {
            using var disassembler = CapstoneDisassembler.CreateArm64Disassembler(Arm64DisassembleMode.Arm);
            var instructions = disassembler.Disassemble(code, (long)address);
            if (instructions.Length == 0)
            {
                // Capstone 4 has no name for UDF (and none for an unallocated encoding): give the word.
                return $".inst 0x{BitConverter.ToUInt32(code):x8} (no instruction Capstone knows)";
            }

            var first = instructions[0];
            return string.IsNullOrEmpty(first.Operand) ? first.Mnemonic : $"{first.Mnemonic} {first.Operand}";
        }
#pragma warning disable CA1031 // The report must be written even when the disassembler cannot be loaded.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return $"(no disassembly: {e.GetType().Name}: {e.Message})";
        }
    }
}
