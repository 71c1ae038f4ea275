using Firmament.Abi.Gunyah;
using Firmament.Abi.Gunyah.Rm;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Gunyah;

public class GunyahErrorTests
{
    [Theory]
    [InlineData(GunyahError.Ok, 0, "OK")]
    [InlineData(GunyahError.Unimplemented, -1, "ERROR_UNIMPLEMENTED")]
    [InlineData(GunyahError.Retry, -2, "ERROR_RETRY")]
    [InlineData(GunyahError.ArgumentInvalid, 1, "ERROR_ARGUMENT_INVALID")]
    [InlineData(GunyahError.NoResources, 11, "ERROR_NORESOURCES")]
    [InlineData(GunyahError.AddrInvalid, 22, "ERROR_ADDR_INVALID")]
    [InlineData(GunyahError.Failure, 36, "ERROR_FAILURE")]
    [InlineData(GunyahError.VirqNotBound, 41, "ERROR_VIRQ_NOT_BOUND")]
    [InlineData(GunyahError.CspaceFull, 54, "ERROR_CSPACE_FULL")]
    [InlineData(GunyahError.MsgqueueEmpty, 60, "ERROR_MSGQUEUE_EMPTY")]
    [InlineData(GunyahError.MsgqueueFull, 61, "ERROR_MSGQUEUE_FULL")]
    [InlineData(GunyahError.MemdbNotOwner, 111, "ERROR_MEMDB_NOT_OWNER")]
    [InlineData(GunyahError.MemextentType, 121, "ERROR_MEMEXTENT_TYPE")]
    [InlineData(GunyahError.ExistingMapping, 200, "ERROR_EXISTING_MAPPING")]
    public void HypervisorErrors_HaveTheSpecValuesAndNames(GunyahError error, int value, string name)
    {
        ((int)error).ShouldBe(value);
        error.Name().ShouldBe(name);
        GunyahErrors.TryParse(name, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(error);
    }

    [Fact]
    public void HypervisorErrors_AreExactlyTheThirtyOneOfTheSpec()
    {
        Enum.GetValues<GunyahError>().Length.ShouldBe(31);
        Enum.GetValues<GunyahError>().ShouldAllBe(static e => GunyahErrors.IsDefined((long)e));
        GunyahErrors.IsDefined(4).ShouldBeFalse();
        GunyahErrors.Name(4).ShouldBe("ERROR_UNKNOWN(4)");
    }

    [Fact]
    public void ErrorRegister_IsSignExtended_AndAnythingElseIsNotAnError()
    {
        GunyahError.Unimplemented.ToRegister().ShouldBe(ulong.MaxValue);
        GunyahError.Retry.ToRegister().ShouldBe(0xFFFF_FFFF_FFFF_FFFEUL);
        GunyahErrors.TryFromRegister(ulong.MaxValue, out var minusOne).ShouldBeTrue();
        minusOne.ShouldBe(GunyahError.Unimplemented);
        GunyahErrors.TryFromRegister(0xFFFF_FFFF, out _).ShouldBeFalse(); // not sign-extended
        GunyahErrors.TryFromRegister(0x1_0000_0001, out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData(RmError.Ok, 0x0u, "OK")]
    [InlineData(RmError.Unimplemented, 0xFFFFFFFFu, "UNIMPLEMENTED")]
    [InlineData(RmError.NoMem, 0x1u, "NOMEM")]
    [InlineData(RmError.MsgInvalid, 0x4u, "MSG_INVALID")]
    [InlineData(RmError.VmidInvalid, 0xDu, "VMID_INVALID")]
    [InlineData(RmError.IrqReleased, 0x11u, "IRQ_RELEASED")]
    [InlineData(RmError.VmState, 0x14u, "VM_STATE")]
    public void RmErrors_HaveTheSpecValuesAndNames(RmError error, uint value, string name)
    {
        ((uint)error).ShouldBe(value);
        error.Name().ShouldBe(name);
        RmErrors.IsDefined(value).ShouldBeTrue();
    }

    [Theory]
    [InlineData(GunyahError.Ok, RmError.Ok)]
    [InlineData(GunyahError.Unimplemented, RmError.Unimplemented)]
    [InlineData(GunyahError.NoResources, RmError.NoResource)]
    [InlineData(GunyahError.AddrOverflow, RmError.MemInvalid)]
    [InlineData(GunyahError.AddrInvalid, RmError.MemInvalid)]
    [InlineData(GunyahError.ArgumentInvalid, RmError.ArgumentInvalid)]
    [InlineData(GunyahError.CspaceCapNull, RmError.Denied)]
    [InlineData(GunyahError.Retry, RmError.Denied)]
    public void RmErrors_FromHypervisor_FollowsRmsMapping(GunyahError error, RmError expected) =>
        RmErrors.FromHypervisor(error).ShouldBe(expected);

    [Theory]
    [InlineData(GunyahError.MsgqueueFull, RmError.Busy)]
    [InlineData(GunyahError.MsgqueueEmpty, RmError.Busy)]
    [InlineData(GunyahError.ArgumentSize, RmError.Denied)]
    public void RmErrors_FromTransport_MakesAFullOrEmptyQueueBusy(GunyahError error, RmError expected) =>
        RmErrors.FromTransport(error).ShouldBe(expected);
}
