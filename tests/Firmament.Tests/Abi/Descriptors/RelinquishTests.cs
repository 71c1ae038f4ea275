using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

public class RelinquishTests
{
    [Fact]
    public void Writer_ProducesTheHandWrittenBytes()
    {
        var buffer = new byte[18];
        MemoryRelinquishDescriptor.TryWrite(buffer, new MemoryHandle(0x8000_0000_0000_0005), RelinquishFlags.Of(zeroAfterRelinquish: true), [new EndpointId(0x8001)], out var written)
            .ShouldBeTrue();

        written.ShouldBe(18);
        buffer.ShouldBe(Golden.Relinquish);
    }

    [Fact]
    public void Reader_ReadsEveryField()
    {
        MemoryRelinquishDescriptor.TryRead(Golden.Relinquish, out var view, out var fault).ShouldBeTrue(fault.ToString());

        view.Handle.ShouldBe(new MemoryHandle(0x8000_0000_0000_0005));
        view.Handle.IsHypervisorAllocated.ShouldBeTrue();
        view.Flags.ZeroAfterRelinquish.ShouldBeTrue();
        view.Flags.TimeSlice.ShouldBeFalse();
        view.EndpointCount.ShouldBe(1);
        view.GetEndpoint(0).ShouldBe(new EndpointId(0x8001));
        view.DescriptorLength.ShouldBe(18);
    }

    [Fact]
    public void Writer_WithNoEndpoint_Throws() =>
        Should.Throw<ArgumentException>(() => MemoryRelinquishDescriptor.TryWrite(new byte[32], new MemoryHandle(1), RelinquishFlags.None, [], out _));

    [Fact]
    public void Relinquish_ShorterThanItsHeader_IsTruncated() =>
        Read(Golden.Relinquish[..15]).ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));

    [Fact]
    public void Relinquish_WithFlagsBit2Set_IsRejected() =>
        Read(Golden.Relinquish.With32(8, 4)).ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 8));

    [Fact]
    public void Relinquish_WithNoEndpoint_IsRejected() =>
        Read(Golden.Relinquish.With32(12, 0)).ShouldBe(new DescriptorFault(DescriptorError.NoEndpoints, 12));

    [Fact]
    public void Relinquish_WithMoreEndpointsThanBytes_IsRejected() =>
        Read(Golden.Relinquish.With32(12, 2)).ShouldBe(new DescriptorFault(DescriptorError.EndpointArrayOutOfRange, 12));

    [Fact]
    public void Relinquish_WithHugeEndpointCount_IsRejectedWithoutOverflow() =>
        Read(Golden.Relinquish.With32(12, uint.MaxValue)).ShouldBe(new DescriptorFault(DescriptorError.EndpointArrayOutOfRange, 12));

    private static DescriptorFault Read(byte[] bytes)
    {
        MemoryRelinquishDescriptor.TryRead(bytes, out _, out var fault).ShouldBe(fault.IsNone);
        return fault;
    }
}
