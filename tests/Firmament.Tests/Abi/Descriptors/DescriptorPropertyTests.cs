using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using FsCheck;
using FsCheck.Fluent;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

/// <summary>
/// Round trips of random valid models for every kind and layout, and the untrusted-input contract: random bytes and
/// damaged descriptors never make a reader (or the describer) throw or read out of bounds — an out-of-bounds span
/// access would throw — and every reader either decodes or names a fault, never both.
/// </summary>
public class DescriptorPropertyTests
{
    private static readonly Config Fuzz = Config.QuickThrowOnFailure.WithMaxTest(400);

    [Fact]
    public void Mtd_RandomValidModels_RoundTripThroughEveryLayoutAndShape()
    {
        foreach (var layout in DescriptorGen.Layouts)
        {
            foreach (var shape in DescriptorGen.Shapes)
            {
                Prop.ForAll(DescriptorGen.Mtd(layout, shape).ToArbitrary(), model =>
                {
                    var bytes = model.Encode(layout, shape);
                    MemoryTransactionDescriptor.TryDecode(bytes, layout, shape, out var back, out var fault)
                        .ShouldBeTrue($"v{layout} {shape}: {fault}");
                    back.ContentEquals(model).ShouldBeTrue($"v{layout} {shape}");
                    back.Encode(layout, shape).ShouldBe(bytes);
                    DescriptorDescriber.Describe(bytes, DescriptorKind.Mtd, layout, shape).Fault.ShouldBe(DescriptorFault.None);
                }).QuickCheckThrowOnFailure();
            }
        }
    }

    [Fact]
    public void Mtd_EveryPrefixOfAValidDescriptor_IsAValidFirstFragmentOrAPreciseFault()
    {
        Prop.ForAll(DescriptorGen.AnyMtd.ToArbitrary(), sample =>
        {
            var (layout, shape, bytes) = sample;
            for (var length = 0; length <= bytes.Length; length++)
            {
                var ok = MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes.AsSpan(0, length), (uint)bytes.Length, layout, shape, out var view, out var fault);
                ok.ShouldBe(fault.IsNone);
                if (ok)
                {
                    Walk(view);
                    view.DescriptorLength.ShouldBe(bytes.Length);
                }
                else
                {
                    fault.Error.ShouldBeOneOf(DescriptorError.FragmentTooShort, DescriptorError.FragmentSplitsConstituent);
                }
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void PartitionInfo_RandomValidArrays_RoundTripInEveryLayout()
    {
        foreach (var version in DescriptorGen.Layouts)
        {
            Prop.ForAll(DescriptorGen.Partitions(version).ToArbitrary(), partitions =>
            {
                var bytes = new byte[PartitionInfoDescriptors.RequiredLength(partitions.Length, version)];
                PartitionInfoDescriptors.TryWrite(partitions, version, bytes, out var written).ShouldBeTrue();
                written.ShouldBe(bytes.Length);
                var size = (uint)PartitionInfoDescriptors.SizeFor(version);
                PartitionInfoDescriptors.TryRead(bytes, (uint)partitions.Length, size, out var list, out var fault).ShouldBeTrue(fault.ToString());
                list.ToArray().ShouldBe(partitions);
            }).QuickCheckThrowOnFailure();
        }
    }

    [Fact]
    public void Relinquish_RandomValidModels_RoundTrip()
    {
        Prop.ForAll(DescriptorGen.Relinquish.ToArbitrary(), model =>
        {
            var bytes = model.Encode();
            MemoryRelinquish.TryDecode(bytes, out var back, out var fault).ShouldBeTrue(fault.ToString());
            back.ContentEquals(model).ShouldBeTrue();
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Indirect_RandomValidHeaders_RoundTripInEveryLayout()
    {
        foreach (var version in new[] { FfaVersion.V1_1, FfaVersion.V1_2 })
        {
            Prop.ForAll(DescriptorGen.Indirect(version).ToArbitrary(), sample =>
            {
                IndirectMessageHeader.TryRead(sample.Buffer, version, out var header, out var fault).ShouldBeTrue(fault.ToString());
                header.ShouldBe(sample.Header);
                header.Payload(sample.Buffer).Length.ShouldBe((int)sample.Header.Size);
            }).QuickCheckThrowOnFailure();
        }
    }

    [Fact]
    public void RxTx_RandomValidModels_RoundTrip()
    {
        Prop.ForAll(DescriptorGen.RxTx.ToArbitrary(), model =>
        {
            var bytes = model.Encode();
            EndpointRxTx.TryDecode(bytes, out var back, out var fault).ShouldBeTrue(fault.ToString());
            back.ContentEquals(model).ShouldBeTrue();
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void RandomBytes_NeverThrow_AndEitherDecodeOrFault() =>
        Check.One(Fuzz, Prop.ForAll(DescriptorGen.Bytes(0, 320).ToArbitrary(), ReadEverything));

    [Fact]
    public void DamagedMtds_NeverThrow_AndEitherDecodeOrFault() =>
        Check.One(Fuzz, Prop.ForAll(DescriptorGen.Mutated(DescriptorGen.AnyMtd.Select(s => s.Bytes)).ToArbitrary(), ReadEverything));

    [Fact]
    public void DamagedSmallDescriptors_NeverThrow_AndEitherDecodeOrFault()
    {
        var valid = Gen.OneOf(
            DescriptorGen.Relinquish.Select(r => r.Encode()),
            DescriptorGen.RxTx.Select(r => r.Encode()),
            DescriptorGen.Indirect(FfaVersion.V1_1).Select(s => s.Buffer),
            DescriptorGen.Indirect(FfaVersion.V1_2).Select(s => s.Buffer),
            DescriptorGen.Partitions(FfaVersion.V1_2).Select(p => WritePartitions(p, FfaVersion.V1_2)));
        Check.One(Fuzz, Prop.ForAll(DescriptorGen.Mutated(valid).ToArbitrary(), ReadEverything));
    }

    /// <summary>Every reader, in every layout and shape, and the describer for every kind: none may throw.</summary>
    private static void ReadEverything(byte[] bytes)
    {
        FfaVersion[] versions = [FfaVersion.V1_0, FfaVersion.V1_1, FfaVersion.V1_2, new FfaVersion(1, 3), new FfaVersion(2, 0)];
        foreach (var version in versions)
        {
            foreach (var shape in DescriptorGen.Shapes)
            {
                var ok = MemoryTransactionDescriptorReader.TryRead(bytes, version, shape, out var view, out var fault);
                ok.ShouldBe(fault.IsNone);
                if (ok)
                {
                    Walk(view);
                    view.DescriptorLength.ShouldBeLessThanOrEqualTo(bytes.Length);
                    (view.Constituents.SumPageCounts() == view.Composite.TotalPageCount || !view.HasComposite).ShouldBeTrue();
                }

                // The same bytes as the first fragment of a longer descriptor, and of one that says it is shorter.
                foreach (var total in new[] { (uint)bytes.Length + 16, (uint)bytes.Length + 4096, uint.MaxValue, (uint)Math.Max(0, bytes.Length - 1) })
                {
                    ok = MemoryTransactionDescriptorReader.TryReadFirstFragment(bytes, total, version, shape, out view, out fault);
                    ok.ShouldBe(fault.IsNone);
                    if (ok)
                    {
                        Walk(view);
                    }
                }

                DescriptorDescriber.Describe(bytes, DescriptorKind.Mtd, version, shape).ToString().ShouldNotBeEmpty();
            }

            DescriptorDescriber.Describe(bytes, DescriptorKind.Mtd, version).ToString().ShouldNotBeEmpty();
            foreach (var kind in new[] { DescriptorKind.PartitionInfo, DescriptorKind.Indirect, DescriptorKind.Relinquish, DescriptorKind.RxTx })
            {
                DescriptorDescriber.Describe(bytes, kind, version).ToString().ShouldNotBeEmpty();
            }

            if (IndirectMessageHeader.TryRead(bytes, version, out var header, out var indirectFault))
            {
                indirectFault.IsNone.ShouldBeTrue();
                header.Payload(bytes).Length.ShouldBe((int)header.Size);
            }
            else
            {
                indirectFault.IsNone.ShouldBeFalse();
            }
        }

        var count = bytes.Length > 0 ? bytes[0] : 0u;
        foreach (var size in new uint[] { 0, 8, 16, 24, 48, 0xFFFF_FFFF })
        {
            if (PartitionInfoDescriptors.TryRead(bytes, count, size, out var partitions, out var partitionFault))
            {
                partitionFault.IsNone.ShouldBeTrue();
                partitions.ToArray().Length.ShouldBe((int)count);
            }
            else
            {
                partitionFault.IsNone.ShouldBeFalse();
            }
        }

        if (MemoryRelinquishDescriptor.TryRead(bytes, out var relinquish, out var relinquishFault))
        {
            relinquishFault.IsNone.ShouldBeTrue();
            for (var i = 0; i < relinquish.EndpointCount; i++)
            {
                _ = relinquish.GetEndpoint(i);
            }

            _ = relinquish.Handle;
            _ = relinquish.Flags;
        }
        else
        {
            relinquishFault.IsNone.ShouldBeFalse();
        }

        if (EndpointRxTxDescriptor.TryRead(bytes, out var rxtx, out var rxtxFault))
        {
            rxtxFault.IsNone.ShouldBeTrue();
            rxtx.Rx.SumPageCounts().ShouldBe(rxtx.RxComposite.TotalPageCount);
            rxtx.Tx.SumPageCounts().ShouldBe(rxtx.TxComposite.TotalPageCount);
            _ = rxtx.Rx.ToArray();
            _ = rxtx.Tx.ToArray();
            _ = rxtx.Endpoint;
        }
        else
        {
            rxtxFault.IsNone.ShouldBeFalse();
        }

        if (ConstituentFragment.TryRead(bytes, out var constituents, out var fragmentFault))
        {
            fragmentFault.IsNone.ShouldBeTrue();
            _ = constituents.ToArray();
        }
        else
        {
            fragmentFault.IsNone.ShouldBeFalse();
        }
    }

    /// <summary>Touches everything a view exposes.</summary>
    private static void Walk(MemoryTransactionView view)
    {
        _ = view.Header;
        for (var i = 0; i < view.EmadCount; i++)
        {
            _ = view.GetEmad(i);
            _ = view.GetCompositeOffset(i);
        }

        _ = view.EmadsShareComposite(out _);
        _ = view.Composite;
        var constituents = view.Constituents;
        for (var i = 0; i < constituents.Count; i++)
        {
            (view.GetConstituent(i).Address % MemoryRegionConstituent.PageSize).ShouldBe(0UL);
        }

        constituents.Count.ShouldBeLessThanOrEqualTo(view.ConstituentCount);
    }

    private static byte[] WritePartitions(PartitionInfo[] partitions, FfaVersion version)
    {
        var bytes = new byte[PartitionInfoDescriptors.RequiredLength(partitions.Length, version)];
        PartitionInfoDescriptors.TryWrite(partitions, version, bytes, out _);
        return bytes;
    }
}
