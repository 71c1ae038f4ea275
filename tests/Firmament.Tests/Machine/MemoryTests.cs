using Firmament.Machine;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Machine;

public class MemoryTests
{
    private static (PhysicalMemory Memory, Stage2Map Map, AddressSpace Space) Setup()
    {
        var memory = new PhysicalMemory();
        memory.AddRange(0x8000_0000, 0x10_0000, "ram");
        var map = new Stage2Map();
        map.TryMap(0x4000_0000, 0x8000_0000, 2, Stage2Access.ReadWrite).ShouldBeTrue();
        map.TryMap(0x4000_2000, 0x8000_2000, 1, Stage2Access.Read).ShouldBeTrue();
        return (memory, map, new AddressSpace(memory, map));
    }

    [Fact]
    public void ReadsAndWrites_GoThroughStage2_ToTheSamePhysicalBytes_AcrossPages()
    {
        var (memory, map, space) = Setup();
        var data = Enumerable.Range(0, 100).Select(static i => (byte)i).ToArray();
        space.TryWrite(0x4000_0FD0, data, out var fault).ShouldBeTrue(fault.ToString());
        var other = new AddressSpace(memory, new Stage2Map());
        other.Stage2.TryMap(0x1000, 0x8000_0000, 2, Stage2Access.Read);
        var back = new byte[100];
        other.TryRead(0x1FD0, back, out _).ShouldBeTrue();
        back.ShouldBe(data);
        map.Generation.ShouldBe(2UL);
    }

    [Fact]
    public void AWriteToAReadOnlyPage_IsAPermissionFault_AndWritesNothing_EvenOnThePagesBefore()
    {
        var (_, _, space) = Setup();
        var data = new byte[32];
        Array.Fill(data, (byte)0xAA);
        space.TryWrite(0x4000_1FF0, data, out var fault).ShouldBeFalse();
        fault.Kind.ShouldBe(MemoryFaultKind.Permission);
        fault.Address.ShouldBe(0x4000_2000UL);
        var before = new byte[16];
        space.TryRead(0x4000_1FF0, before, out _).ShouldBeTrue();
        before.ShouldAllBe(static b => b == 0);
    }

    [Fact]
    public void AnAccessToAnUnmappedAddress_IsATranslationFault_NotAnException()
    {
        var (_, _, space) = Setup();
        space.TryRead(0x5000_0000, new byte[4], out var fault).ShouldBeFalse();
        fault.Kind.ShouldBe(MemoryFaultKind.Unmapped);
        space.TryRead(ulong.MaxValue - 1, new byte[4], out fault).ShouldBeFalse();
        fault.Kind.ShouldBe(MemoryFaultKind.Unmapped);
    }

    [Fact]
    public void MappingOverAnExistingPage_IsRefused_AndChangesNothing()
    {
        var (_, map, _) = Setup();
        var generation = map.Generation;
        map.TryMap(0x4000_1000, 0x8000_5000, 2, Stage2Access.All).ShouldBeFalse();
        map.Generation.ShouldBe(generation);
        map.TryGetEntry(0x4000_1000, out var entry).ShouldBeTrue();
        entry.PhysicalPage.ShouldBe(0x8000_1000UL >> 12);
    }

    [Fact]
    public void IdentityRanges_MapPhysicalMemoryToItself()
    {
        var memory = new PhysicalMemory();
        memory.AddRange(0x8000_0000, 0x10_0000, "ram");
        var map = new Stage2Map();
        map.AddIdentityRange(0x8000_0000, 0x10_0000, Stage2Access.ReadWrite);
        map.TryTranslate(0x8000_1234, Stage2Access.Write, out var pa, out _).ShouldBeTrue();
        pa.ShouldBe(0x8000_1234UL);
        map.TryTranslate(0x8010_0000, Stage2Access.Read, out _, out _).ShouldBeFalse();
    }
}
