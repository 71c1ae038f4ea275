using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Abi.Descriptors;

public class DescriptorDescriberTests
{
    [Fact]
    public void Mtd_V12_IsDescribedSectionBySection()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_2, DescriptorKind.Mtd, FfaVersion.V1_2, MtdShape.Send);

        d.IsValid.ShouldBeTrue(d.ToString());
        d.Warnings.ShouldBeEmpty();
        d.Shape.ShouldBe("send");
        d.Sections.Select(s => s.Name).ShouldBe(["header", "emad[0]", "emad[1]", "composite", "constituent[0]", "constituent[1]"]);
        d.Sections.Select(s => s.Offset).ShouldBe([0, 48, 80, 112, 128, 144]);
        Names(d.Section("header")!).ShouldBe(["sender", "attributes", "flags", "handle", "tag", "emad_size", "emad_count", "emad_offset"]);
        Names(d.Section("emad[0]")!).ShouldBe(["receiver", "permissions", "flags", "composite_offset", "impdef_lo", "impdef_hi"]);
        Names(d.Section("composite")!).ShouldBe(["total_page_count", "constituent_count"]);
        Names(d.Section("constituent[1]")!).ShouldBe(["address", "page_count"]);

        d.Section("header")!.Field("attributes").ShouldBe(DescribedField.Of("attributes", 0x2F, "normal, write-back, inner shareable"));
        d.Section("header")!.Field("sender")!.Value.Text.ShouldBe("VM");
        d.Section("emad[0]")!.Field("receiver")!.Value.Text.ShouldBe("SP");
        d.Section("emad[0]")!.Field("impdef_lo")!.Value.Value.ShouldBe(0xFEDCBA9876543210UL);
        d.Section("emad[1]")!.Field("permissions")!.Value.Text.ShouldBe("RO, instruction unspecified");
        d.Section("composite")!.Field("total_page_count")!.Value.Value.ShouldBe(5UL);
        d.Section("constituent[1]")!.Field("address")!.Value.Value.ShouldBe(0x8_8000_1000UL);
    }

    [Fact]
    public void Mtd_V10_HasNoEmadSizeOrOffsetFields()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_0, DescriptorKind.Mtd, FfaVersion.V1_0, MtdShape.Send);

        d.IsValid.ShouldBeTrue(d.ToString());
        Names(d.Section("header")!).ShouldBe(["sender", "attributes", "flags", "handle", "tag", "emad_count"]);
        Names(d.Section("emad[0]")!).ShouldBe(["receiver", "permissions", "flags", "composite_offset"]);
    }

    [Fact]
    public void Mtd_RetrieveRequest_ReadsPermissionsAndFlagsInWords()
    {
        var d = DescriptorDescriber.Describe(Golden.RetrieveRequestV1_2, DescriptorKind.Mtd, FfaVersion.V1_2, MtdShape.RetrieveRequest);

        d.IsValid.ShouldBeTrue(d.ToString());
        d.Section("emad[0]")!.Field("permissions")!.Value.Text.ShouldBe("RW, NX");
        d.Section("header")!.Field("flags")!.Value.Text.ShouldBe("time-sliced, expects share");
        d.Section("header")!.Field("handle")!.Value.Text.ShouldBe("hypervisor-allocated");
        d.Section("composite").ShouldBeNull();
    }

    [Theory]
    [InlineData(0, "send (inferred)")]
    [InlineData(1, "retrieve request (inferred)")]
    [InlineData(2, "retrieve response (inferred)")]
    [InlineData(3, "hypervisor retrieve request (inferred)")]
    public void Mtd_WithoutAShape_InfersItFromTheBytes(int which, string shape)
    {
        var bytes = which switch
        {
            0 => Golden.MtdV1_1,
            1 => Golden.RetrieveRequestV1_2,
            2 => Golden.MtdV1_1.With64(8, 0x42),
            _ => Golden.HypervisorRetrieveV1_1,
        };

        var d = DescriptorDescriber.Describe(bytes, DescriptorKind.Mtd, FfaVersion.V1_2);

        d.Shape.ShouldBe(shape);
        d.IsValid.ShouldBeTrue(d.ToString());
    }

    [Fact]
    public void Mtd_Truncated_IsDescribedUpToWhereTheBytesEnd_WithTheFault()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_1.AsSpan(0, 104), DescriptorKind.Mtd, FfaVersion.V1_1, MtdShape.Send);

        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.ConstituentCountMismatch, 84));
        d.Sections.Select(s => s.Name).ShouldBe(["header", "emad[0]", "emad[1]", "composite"]);
        d.Warnings.ShouldContain(w => w.Contains("2 of 2 constituents", StringComparison.Ordinal));
    }

    [Fact]
    public void Mtd_ShorterThanItsHeader_HasNoSectionsAndATruncatedFault()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_1.AsSpan(0, 40), DescriptorKind.Mtd, FfaVersion.V1_1);

        d.Sections.ShouldBeEmpty();
        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));
        d.Warnings.ShouldHaveSingleItem().ShouldContain("v1.0 header");
    }

    [Fact]
    public void Mtd_WithReservedAndMbzBitsSet_WarnsAboutEachAndReportsTheFirstAsTheFault()
    {
        var bytes = Golden.MtdV1_1.With8(40, 1).With8(64 + 2, 0x12).With32(112 + 12, 9);

        var d = DescriptorDescriber.Describe(bytes, DescriptorKind.Mtd, FfaVersion.V1_1, MtdShape.Send);

        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 36));
        d.Sections.Count.ShouldBe(6);
        d.Warnings.ShouldContain(w => w == "header: reserved bytes at 36 are not zero");
        d.Warnings.ShouldContain(w => w == "emad[1]: permissions MBZ bits set (0x10)");
        d.Warnings.ShouldContain(w => w == "constituent[1]: reserved bytes at 124 are not zero");
    }

    [Fact]
    public void Mtd_WithAnEightByteAlignedComposite_IsValidButFlagged()
    {
        var bytes = new byte[120];
        Golden.MtdV1_0.AsSpan(0, 64).CopyTo(bytes);
        Golden.MtdV1_0.AsSpan(64).CopyTo(bytes.AsSpan(72));
        bytes.With32(32 + 4, 72).With32(48 + 4, 72);

        var d = DescriptorDescriber.Describe(bytes, DescriptorKind.Mtd, FfaVersion.V1_0, MtdShape.Send);

        d.IsValid.ShouldBeTrue(d.ToString());
        d.Warnings.ShouldContain(w => w.StartsWith("emad[0]: composite offset 72 is 8- but not 16-byte aligned", StringComparison.Ordinal));
        d.Section("composite")!.Offset.ShouldBe(72);
    }

    [Fact]
    public void Mtd_V10BytesGivenAsV11_SuggestTheRightVersion()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_0, DescriptorKind.Mtd, FfaVersion.V1_1, MtdShape.Send);

        d.Fault.Error.ShouldBe(DescriptorError.BadEmadSize);
        d.Warnings.ShouldContain(w => w == "the bytes read cleanly as the v1.0 layout: was the version right?");
    }

    [Fact]
    public void Mtd_V12BytesGivenAsV11_SuggestTheRightVersion()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_2, DescriptorKind.Mtd, FfaVersion.V1_1, MtdShape.Send);

        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.BadEmadSize, 24));
        d.Warnings.ShouldContain(w => w == "EMAD size 32 is the v1.2 layout: was the version right?");
    }

    [Fact]
    public void Mtd_WithEmadsPointingAtDifferentComposites_Warns()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_1.With32(64 + 4, 96), DescriptorKind.Mtd, FfaVersion.V1_1, MtdShape.Send);

        d.IsValid.ShouldBeTrue(d.ToString());
        d.Warnings.ShouldContain(w => w.StartsWith("emad[1]: composite offset 96 differs", StringComparison.Ordinal));
    }

    [Fact]
    public void Mtd_SendWithInstructionAccessOrNsBit_Warns()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_1.With8(2, 0x6F).With8(48 + 2, 0x06), DescriptorKind.Mtd, FfaVersion.V1_1, MtdShape.Send);

        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.MbzBitsSet, 2));
        d.Warnings.ShouldContain(w => w == "header: attributes NS bit set in a send (only a retrieve response may set it)");
        d.Warnings.ShouldContain(w => w == "emad[0]: a send must leave instruction access unspecified");
    }

    [Fact]
    public void Mtd_WithAHugeConstituentCount_ListsWhatIsThere()
    {
        var d = DescriptorDescriber.Describe(Golden.MtdV1_1.With32(84, uint.MaxValue), DescriptorKind.Mtd, FfaVersion.V1_1, MtdShape.Send);

        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.ConstituentCountMismatch, 84));
        d.Sections.Count(s => s.Name.StartsWith("constituent[", StringComparison.Ordinal)).ShouldBe(2);
    }

    [Fact]
    public void Mtd_With4096Constituents_ListsThemAll()
    {
        var model = new MemoryTransactionDescriptor { Header = Golden.MtdSendHeader };
        model.Receivers.AddRange(Golden.MtdReceivers(false));
        model.Constituents.AddRange(Enumerable.Range(0, 4096).Select(i => new MemoryRegionConstituent((ulong)i << 12, 1)));

        var d = DescriptorDescriber.Describe(model.Encode(FfaVersion.V1_2, MtdShape.Send), DescriptorKind.Mtd, FfaVersion.V1_2, MtdShape.Send);

        d.IsValid.ShouldBeTrue();
        d.Sections.Count.ShouldBe(1 + 2 + 1 + 4096);
        d.Section("constituent[4095]")!.Field("address")!.Value.Value.ShouldBe(4095UL << 12);
    }

    [Fact]
    public void PartitionInfo_V11_IsDescribedPerPartition()
    {
        var d = DescriptorDescriber.Describe(Golden.PartitionInfoV1_1, DescriptorKind.PartitionInfo, FfaVersion.V1_2);

        d.IsValid.ShouldBeTrue(d.ToString());
        d.Warnings.ShouldBeEmpty();
        var p = d.Section("partition[0]")!;
        Names(p).ShouldBe(["id", "exec_ctx_count", "properties", "uuid_lo", "uuid_hi"]);
        p.Field("uuid_lo")!.Value.Text.ShouldBe("b4b5671e-4a90-4fe1-b81f-fb13dae1dacb");
        p.Field("properties")!.Value.Text.ShouldBe(
            "receives direct requests, sends direct requests, indirect messages, notifications, PE endpoint, AArch64, receives direct requests 2");
    }

    [Fact]
    public void PartitionInfo_WithBitsTheVersionDoesNotDefine_Warns()
    {
        var d = DescriptorDescriber.Describe(Golden.PartitionInfoV1_1, DescriptorKind.PartitionInfo, FfaVersion.V1_1);

        d.IsValid.ShouldBeTrue();
        d.Warnings.ShouldBe(["partition[0]: properties bits 0x200 are not defined in v1.1"]);
    }

    [Fact]
    public void PartitionInfo_V10_HasNoUuid()
    {
        var d = DescriptorDescriber.Describe(Golden.PartitionInfoV1_0, DescriptorKind.PartitionInfo, FfaVersion.V1_0);

        d.IsValid.ShouldBeTrue(d.ToString());
        Names(d.Section("partition[0]")!).ShouldBe(["id", "exec_ctx_count", "properties"]);
    }

    [Fact]
    public void PartitionInfo_WithAPartialLastDescriptor_IsTruncatedThere()
    {
        byte[] bytes = [.. Golden.PartitionInfoV1_1, .. Golden.PartitionInfoV1_1.AsSpan(0, 10)];

        var d = DescriptorDescriber.Describe(bytes, DescriptorKind.PartitionInfo, FfaVersion.V1_2);

        d.Sections.ShouldHaveSingleItem();
        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.Truncated, 24));
        d.Warnings.ShouldContain(w => w == "10 trailing bytes are not a whole 24-byte descriptor");
    }

    [Fact]
    public void PartitionInfo_SepidDependent_ShowsTheProxy()
    {
        var bytes = Golden.PartitionInfoV1_1.With32(4, 0x20).With8(2, 0x01).With8(3, 0x80);

        var d = DescriptorDescriber.Describe(bytes, DescriptorKind.PartitionInfo, FfaVersion.V1_2);

        d.Section("partition[0]")!.Field("proxy_id").ShouldBe(DescribedField.Of("proxy_id", 0x8001, "SP"));
    }

    [Fact]
    public void Indirect_V12_IsDescribed()
    {
        var d = DescriptorDescriber.Describe(Golden.IndirectV1_2, DescriptorKind.Indirect, FfaVersion.V1_2);

        d.IsValid.ShouldBeTrue(d.ToString());
        Names(d.Section("header")!).ShouldBe(["flags", "offset", "receiver", "sender", "size", "uuid_lo", "uuid_hi"]);
        d.Section("header")!.Field("sender")!.Value.Value.ShouldBe(0x8003UL);
    }

    [Fact]
    public void Indirect_V12_LegacyLinuxHeader_IsRecognised()
    {
        var bytes = new byte[4096];
        Golden.IndirectV1_2.AsSpan(0, 20).CopyTo(bytes);
        Golden.IndirectV1_2.AsSpan(24, 16).CopyTo(bytes.AsSpan(20));
        bytes.With32(8, 36);

        var d = DescriptorDescriber.Describe(bytes, DescriptorKind.Indirect, FfaVersion.V1_2);

        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.ReservedNotZero, 20));
        d.Warnings.ShouldContain(w => w.StartsWith("offset 36 is the header of Linux before the 2025 fix", StringComparison.Ordinal));
    }

    [Fact]
    public void Indirect_V11HeaderGivenAsV12_SuggestsTheRightVersion()
    {
        var d = DescriptorDescriber.Describe(Golden.IndirectV1_1, DescriptorKind.Indirect, FfaVersion.V1_2);

        d.Fault.ShouldBe(new DescriptorFault(DescriptorError.Truncated, 0));
        d.Warnings.ShouldContain(w => w == "offset 20 is the v1.1 header size: was the version right?");
    }

    [Fact]
    public void Indirect_V10_HasNoLayout() =>
        DescriptorDescriber.Describe(Golden.IndirectV1_1, DescriptorKind.Indirect, FfaVersion.V1_0).Fault
            .ShouldBe(new DescriptorFault(DescriptorError.UnsupportedLayout, 0));

    [Fact]
    public void Relinquish_IsDescribed()
    {
        var d = DescriptorDescriber.Describe(Golden.Relinquish, DescriptorKind.Relinquish, FfaVersion.V1_1);

        d.IsValid.ShouldBeTrue(d.ToString());
        d.Sections.Select(s => s.Name).ShouldBe(["header", "endpoint[0]"]);
        Names(d.Section("header")!).ShouldBe(["handle", "flags", "endpoint_count"]);
        d.Section("header")!.Field("flags")!.Value.Text.ShouldBe("zero after relinquish");
    }

    [Fact]
    public void RxTx_IsDescribed()
    {
        var d = DescriptorDescriber.Describe(Golden.RxTx, DescriptorKind.RxTx, FfaVersion.V1_1);

        d.IsValid.ShouldBeTrue(d.ToString());
        d.Sections.Select(s => s.Name).ShouldBe(["header", "rx_composite", "rx_constituent[0]", "tx_composite", "tx_constituent[0]"]);
        Names(d.Section("header")!).ShouldBe(["endpoint", "rx_composite_offset", "tx_composite_offset"]);
    }

    [Fact]
    public void RxTx_V10_HasNoLayout() =>
        DescriptorDescriber.Describe(Golden.RxTx, DescriptorKind.RxTx, FfaVersion.V1_0).Fault
            .ShouldBe(new DescriptorFault(DescriptorError.UnsupportedLayout, 0));

    [Fact]
    public void ToString_ShowsSectionsFieldsAndTheVerdict()
    {
        var text = DescriptorDescriber.Describe(Golden.Relinquish, DescriptorKind.Relinquish, FfaVersion.V1_2).ToString();

        text.ShouldBe(
            """
            Relinquish (layout v1.2)
              header @0
                handle = 0x8000000000000005 (hypervisor-allocated)
                flags = 0x1 (zero after relinquish)
                endpoint_count = 0x1
              endpoint[0] @16
                endpoint = 0x8001 (SP)
              valid

            """,
            StringCompareShould.IgnoreLineEndings);
    }

    [Theory]
    [InlineData("mtd", DescriptorKind.Mtd)]
    [InlineData("partition-info", DescriptorKind.PartitionInfo)]
    [InlineData("PARTITION_INFO", DescriptorKind.PartitionInfo)]
    [InlineData("indirect", DescriptorKind.Indirect)]
    [InlineData("relinquish", DescriptorKind.Relinquish)]
    [InlineData("rxtx", DescriptorKind.RxTx)]
    public void TryParseKind_ReadsTheCliSpelling(string text, DescriptorKind kind)
    {
        DescriptorDescriber.TryParseKind(text, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(kind);
    }

    [Fact]
    public void TryParseKind_RejectsAnythingElse() => DescriptorDescriber.TryParseKind("bogus", out _).ShouldBeFalse();

    private static List<string> Names(DescriptorSection section) => [.. section.Fields.Select(f => f.Name)];
}
