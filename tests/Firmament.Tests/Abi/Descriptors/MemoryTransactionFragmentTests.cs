using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

/// <summary>First fragments by §10.7, on the v1.1 golden: header 0-47, EMADs 48-79, composite 80, constituents 96 and 112.</summary>
public class MemoryTransactionFragmentTests
{
    [Fact]
    public void FirstFragment_EndingAfterTheCompositeHeader_ExposesNoConstituentYet()
    {
        var bytes = Golden.MtdV1_1;

        MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes.AsSpan(0, 96), 128, FfaVersion.V1_1, MtdShape.Send, out var view, out var fault)
            .ShouldBeTrue(fault.ToString());

        view.EmadCount.ShouldBe(2);
        view.Composite.ShouldBe(new CompositeMemoryRegion(5, 2));
        view.ConstituentCount.ShouldBe(2);
        view.Constituents.Count.ShouldBe(0);
        view.IsComplete.ShouldBeFalse();
        view.DescriptorLength.ShouldBe(128);
    }

    [Fact]
    public void FirstFragment_WithOneOfTwoConstituents_ExposesThatOne()
    {
        MemoryTransactionDescriptorReader.TryReadFirstFragment(Golden.MtdV1_1.AsSpan(0, 112), 128, FfaVersion.V1_1, MtdShape.Send, out var view, out var fault)
            .ShouldBeTrue(fault.ToString());

        view.Constituents.Count.ShouldBe(1);
        view.GetConstituent(0).ShouldBe(new MemoryRegionConstituent(0x8000_0000, 1));
        view.IsComplete.ShouldBeFalse();
    }

    [Fact]
    public void FirstFragment_HoldingEverything_IsCheckedLikeAWholeDescriptor()
    {
        var bytes = Golden.MtdV1_1.With32(80, 6);

        MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes, 128, FfaVersion.V1_1, MtdShape.Send, out _, out var fault).ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.PageCountMismatch, 80));
    }

    [Fact]
    public void FirstFragment_WithAWrongPageTotal_IsNotCheckedUntilAllConstituentsArrive()
    {
        var bytes = Golden.MtdV1_1.With32(80, 6);

        MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes.AsSpan(0, 112), 128, FfaVersion.V1_1, MtdShape.Send, out _, out var fault)
            .ShouldBeTrue(fault.ToString());
    }

    [Fact]
    public void FirstFragment_EndingInsideTheEmads_IsTooShort()
    {
        MemoryTransactionDescriptorReader.TryReadFirstFragment(Golden.MtdV1_1.AsSpan(0, 64), 128, FfaVersion.V1_1, MtdShape.Send, out _, out var fault)
            .ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.FragmentTooShort, 48));
    }

    [Fact]
    public void FirstFragment_EndingInsideTheCompositeHeader_IsTooShort()
    {
        MemoryTransactionDescriptorReader.TryReadFirstFragment(Golden.MtdV1_1.AsSpan(0, 88), 128, FfaVersion.V1_1, MtdShape.Send, out _, out var fault)
            .ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.FragmentTooShort, 80));
    }

    [Fact]
    public void FirstFragment_EndingInsideTheHeader_IsTooShort()
    {
        MemoryTransactionDescriptorReader.TryReadFirstFragment(Golden.MtdV1_1.AsSpan(0, 32), 128, FfaVersion.V1_1, MtdShape.Send, out _, out var fault)
            .ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.FragmentTooShort, 0));
    }

    [Fact]
    public void FirstFragment_EndingInsideAConstituent_IsRejected()
    {
        MemoryTransactionDescriptorReader.TryReadFirstFragment(Golden.MtdV1_1.AsSpan(0, 104), 128, FfaVersion.V1_1, MtdShape.Send, out _, out var fault)
            .ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.FragmentSplitsConstituent, 104));
    }

    [Fact]
    public void FirstFragment_LongerThanTheTotal_IsRejected()
    {
        MemoryTransactionDescriptorReader.TryReadFirstFragment(Golden.MtdV1_1, 112, FfaVersion.V1_1, MtdShape.Send, out _, out var fault)
            .ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.FragmentLongerThanTotal, 112));
    }

    [Fact]
    public void FirstFragment_WhoseConstituentsExceedTheTotal_IsACountMismatch()
    {
        var bytes = Golden.MtdV1_1.With32(84, 3);

        MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes.AsSpan(0, 112), 128, FfaVersion.V1_1, MtdShape.Send, out _, out var fault)
            .ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.ConstituentCountMismatch, 84));
    }

    [Fact]
    public void FirstFragment_OfA4GiBTotal_IsValidatedWithoutOverflow()
    {
        // Declares 0x0FFFFFF9 constituents: the rest of a ~4 GiB descriptor that will never arrive in one piece.
        var bytes = Golden.MtdV1_1.With32(84, 0x0FFF_FFF9);

        MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes, uint.MaxValue - 15, FfaVersion.V1_1, MtdShape.Send, out var view, out var fault)
            .ShouldBeTrue(fault.ToString());

        view.ConstituentCount.ShouldBe(0x0FFF_FFF9);
        view.Constituents.Count.ShouldBe(2);
    }

    [Fact]
    public void LaterFragment_OfWholeConstituents_IsRead()
    {
        ConstituentFragment.TryRead(Golden.MtdV1_1.AsSpan(96), out var constituents, out var fault).ShouldBeTrue(fault.ToString());

        constituents.ToArray().ShouldBe(Golden.MtdConstituents);
        constituents.SumPageCounts().ShouldBe(5UL);
    }

    [Fact]
    public void LaterFragment_EndingInsideAConstituent_IsRejected()
    {
        ConstituentFragment.TryRead(Golden.MtdV1_1.AsSpan(96, 24), out _, out var fault).ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.FragmentSplitsConstituent, 16));
    }

    [Fact]
    public void LaterFragment_WithAMisalignedAddress_IsRejected()
    {
        var bytes = Golden.MtdV1_1.With64(112, 0x10);

        ConstituentFragment.TryRead(bytes.AsSpan(96), out _, out var fault).ShouldBeFalse();

        fault.ShouldBe(new DescriptorFault(DescriptorError.AddressMisaligned, 16));
    }
}
