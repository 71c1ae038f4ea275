using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

public class PartitionInfoTests
{
    [Fact]
    public void Writer_V10_ProducesTheHandWritten8Bytes()
    {
        var buffer = new byte[8];
        PartitionInfoDescriptors.TryWrite([Golden.PartitionInfoV1_0Value], FfaVersion.V1_0, buffer, out var written).ShouldBeTrue();

        written.ShouldBe(8);
        buffer.ShouldBe(Golden.PartitionInfoV1_0);
    }

    [Fact]
    public void Writer_V11_ProducesTheHandWritten24Bytes()
    {
        var buffer = new byte[24];
        PartitionInfoDescriptors.TryWrite([Golden.PartitionInfoV1_1Value], FfaVersion.V1_1, buffer, out var written).ShouldBeTrue();

        written.ShouldBe(24);
        buffer.ShouldBe(Golden.PartitionInfoV1_1);
    }

    [Fact]
    public void Reader_ReadsEveryFieldOfThe8ByteDescriptor()
    {
        PartitionInfoDescriptors.TryRead(Golden.PartitionInfoV1_0, 1, 8, out var list, out var fault).ShouldBeTrue(fault.ToString());

        list.Count.ShouldBe(1);
        list.HasUuid.ShouldBeFalse();
        list[0].ShouldBe(Golden.PartitionInfoV1_0Value);
    }

    [Fact]
    public void Reader_ReadsEveryFieldOfThe24ByteDescriptor()
    {
        PartitionInfoDescriptors.TryRead(Golden.PartitionInfoV1_1, 1, 24, out var list, out var fault).ShouldBeTrue(fault.ToString());

        var p = list[0];
        p.ShouldBe(Golden.PartitionInfoV1_1Value);
        p.Id.ShouldBe(new EndpointId(0x8002));
        p.ExecutionContextCount.ShouldBe((ushort)8);
        p.IdType.ShouldBe(PartitionIdType.PeEndpoint);
        p.ProxyId.ShouldBeNull();
        p.Uuid.ToString().ShouldBe("b4b5671e-4a90-4fe1-b81f-fb13dae1dacb");
    }

    [Fact]
    public void Reader_StepsByTheDescriptorSizeItIsGiven_NotByTheSizeItKnows()
    {
        // Two 48-byte descriptors, as Hafnium sends its v1.3 form: the fields we know keep their offsets.
        var bytes = new byte[96];
        Golden.PartitionInfoV1_1.CopyTo(bytes, 0);
        Golden.PartitionInfoV1_1.CopyTo(bytes, 48);
        bytes[48] = 0x07;
        bytes[40] = 0x02; // v1.3 partition FF-A version: ignored

        PartitionInfoDescriptors.TryRead(bytes, 2, 48, out var list, out var fault).ShouldBeTrue(fault.ToString());

        list.DescriptorSize.ShouldBe(48);
        list[0].ShouldBe(Golden.PartitionInfoV1_1Value);
        list[1].Id.ShouldBe(new EndpointId(0x8007));
        list[1].Uuid.ShouldBe(Golden.PartitionInfoV1_1Value.Uuid);
    }

    [Fact]
    public void Reader_EnumeratesWithoutAllocatingAList()
    {
        var bytes = new byte[16];
        Golden.PartitionInfoV1_0.CopyTo(bytes, 0);
        Golden.PartitionInfoV1_0.CopyTo(bytes, 8);
        PartitionInfoDescriptors.TryRead(bytes, 2, 8, out var list, out _).ShouldBeTrue();

        var ids = 0;
        foreach (var p in list)
        {
            ids += p.Id.Value;
        }

        ids.ShouldBe(2 * 0x8001);
    }

    [Fact]
    public void PartitionInfo_WithOneDescriptorMoreThanTheBytesHold_IsTruncatedAtThatDescriptor()
    {
        PartitionInfoDescriptors.TryRead(Golden.PartitionInfoV1_1, 2, 24, out _, out var fault).ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.Truncated, 24));
    }

    [Fact]
    public void PartitionInfo_WithAHugeCount_IsTruncatedWithoutOverflow()
    {
        PartitionInfoDescriptors.TryRead(Golden.PartitionInfoV1_1, uint.MaxValue, uint.MaxValue, out _, out var fault).ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData(16u)]
    [InlineData(23u)]
    public void PartitionInfo_WithADescriptorSizeNoVersionUses_IsRejected(uint size)
    {
        PartitionInfoDescriptors.TryRead(Golden.PartitionInfoV1_1, 1, size, out _, out var fault).ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.BadDescriptorSize, 0));
    }

    [Fact]
    public void Writer_V10_DropsTheUuidWhichTheLayoutHasNoFieldFor()
    {
        var buffer = new byte[8];
        PartitionInfoDescriptors.TryWrite([Golden.PartitionInfoV1_0Value with { Uuid = Uuid.Parse("b4b5671e-4a90-4fe1-b81f-fb13dae1dacb") }], FfaVersion.V1_0, buffer, out _)
            .ShouldBeTrue();

        buffer.ShouldBe(Golden.PartitionInfoV1_0);
    }

    [Fact]
    public void Writer_WithTooSmallADestination_WritesNothing()
    {
        var buffer = new byte[47];
        PartitionInfoDescriptors.TryWrite([Golden.PartitionInfoV1_1Value, Golden.PartitionInfoV1_1Value], FfaVersion.V1_2, buffer, out var written)
            .ShouldBeFalse();

        written.ShouldBe(0);
        buffer.ShouldAllBe(b => b == 0);
    }

    [Theory]
    [InlineData(PartitionIdType.PeEndpoint, 0x00u)]
    [InlineData(PartitionIdType.SepidIndependent, 0x10u)]
    [InlineData(PartitionIdType.SepidDependent, 0x20u)]
    [InlineData(PartitionIdType.AuxiliaryId, 0x30u)]
    public void IdType_IsTheTwoBitFieldAtBits5To4(PartitionIdType type, uint bits)
    {
        var properties = PartitionProperties.AArch64.WithIdType(type);

        ((uint)properties).ShouldBe(bits | 0x100u);
        properties.IdType().ShouldBe(type);
        properties.WithIdType(PartitionIdType.PeEndpoint).ShouldBe(PartitionProperties.AArch64);
    }

    [Fact]
    public void SepidDependentPartition_CarriesItsProxyAtOffset2()
    {
        var p = new PartitionInfo(new EndpointId(0x8010), 0x8001, PartitionProperties.None.WithIdType(PartitionIdType.SepidDependent), Uuid.Nil);

        p.ProxyId.ShouldBe(new EndpointId(0x8001));
    }

    [Theory]
    [InlineData(1, 0, 0x007u)]
    [InlineData(1, 1, 0x1FFu)]
    [InlineData(1, 2, 0x7FFu)]
    public void DefinedFor_IsTheBitsEachVersionDefines(int major, int minor, uint mask) =>
        ((uint)PartitionPropertiesExtensions.DefinedFor(new FfaVersion((ushort)major, (ushort)minor))).ShouldBe(mask);

    [Theory]
    [InlineData(1, 0, 8)]
    [InlineData(1, 1, 24)]
    [InlineData(1, 2, 24)]
    public void SizeFor_IsTheLayoutOfEachVersion(int major, int minor, int size) =>
        PartitionInfoDescriptors.SizeFor(new FfaVersion((ushort)major, (ushort)minor)).ShouldBe(size);
}
