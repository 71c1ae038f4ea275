using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Descriptors;

namespace Firmament.Tests.Abi.Descriptors;

/// <summary>
/// Descriptors written out byte by byte from the layouts in the reference (ffa-abi.md §6.2, §7.3, §8.3, §10.3), not
/// produced by the writer. Each property returns a fresh copy, so tests may poke bytes.
/// </summary>
internal static class Golden
{
    // ---- partition information (§6.2) ------------------------------------------------------------------------------

    /// <summary>v1.0, 8 bytes: SP 0x8001, 4 execution contexts, receives + sends direct requests.</summary>
    public static byte[] PartitionInfoV1_0 =>
    [
        0x01, 0x80,             // 0: partition ID 0x8001
        0x04, 0x00,             // 2: execution-context count 4
        0x03, 0x00, 0x00, 0x00, // 4: properties: bit 0 receives direct req, bit 1 sends direct req
    ];

    public static PartitionInfo PartitionInfoV1_0Value =>
        new(new EndpointId(0x8001), 4, PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests, Uuid.Nil);

    /// <summary>v1.1/v1.2, 24 bytes: SP 0x8002, 8 contexts, bits 0-3 + PE endpoint + AArch64 + receives REQ2, and a UUID.</summary>
    public static byte[] PartitionInfoV1_1 =>
    [
        0x02, 0x80,             // 0: partition ID 0x8002
        0x08, 0x00,             // 2: execution-context count 8
        0x0F, 0x03, 0x00, 0x00, // 4: properties 0x30F: bits 3:0, ID type 0 (PE endpoint), bit 8 AArch64, bit 9 receives REQ2
        0xB4, 0xB5, 0x67, 0x1E, // 8: UUID b4b5671e-4a90-4fe1-b81f-fb13dae1dacb in RFC 4122 byte order
        0x4A, 0x90, 0x4F, 0xE1,
        0xB8, 0x1F, 0xFB, 0x13,
        0xDA, 0xE1, 0xDA, 0xCB,
    ];

    public static PartitionInfo PartitionInfoV1_1Value => new(
        new EndpointId(0x8002),
        8,
        PartitionProperties.ReceivesDirectRequests | PartitionProperties.SendsDirectRequests
            | PartitionProperties.SupportsIndirectMessages | PartitionProperties.ReceivesNotifications
            | PartitionProperties.AArch64 | PartitionProperties.ReceivesDirectRequests2,
        Uuid.Parse("b4b5671e-4a90-4fe1-b81f-fb13dae1dacb"));

    // ---- memory transaction (§10.3): a share from VM 1 to SPs 0x8001 (RW) and 0x8002 (RO), 5 pages in 2 ranges ----

    /// <summary>v1.0: 32-byte header, two 16-byte EMADs at 32, composite at 64, constituents at 80 and 96.</summary>
    public static byte[] MtdV1_0 =>
    [
        // header
        0x01, 0x00,                                     //  0: sender 0x0001
        0x2F,                                           //  2: attributes (u8): normal, write-back, inner shareable
        0x00,                                           //  3: reserved
        0x00, 0x00, 0x00, 0x00,                         //  4: flags
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  8: handle 0 (a send)
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 16: tag 7
        0x00, 0x00, 0x00, 0x00,                         // 24: reserved
        0x02, 0x00, 0x00, 0x00,                         // 28: EMAD count 2
        // emad[0] at 32
        0x01, 0x80,                                     // receiver 0x8001
        0x02,                                           // permissions: RW, instruction access not specified
        0x00,                                           // flags
        0x40, 0x00, 0x00, 0x00,                         // composite offset 64
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // emad[1] at 48
        0x02, 0x80,                                     // receiver 0x8002
        0x01,                                           // permissions: RO
        0x00,                                           // flags
        0x40, 0x00, 0x00, 0x00,                         // composite offset 64
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // composite at 64
        0x05, 0x00, 0x00, 0x00,                         // total page count 5
        0x02, 0x00, 0x00, 0x00,                         // constituent count 2
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // constituent[0] at 80
        0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, // address 0x80000000
        0x01, 0x00, 0x00, 0x00,                         // 1 page
        0x00, 0x00, 0x00, 0x00,                         // reserved
        // constituent[1] at 96
        0x00, 0x10, 0x00, 0x80, 0x08, 0x00, 0x00, 0x00, // address 0x880001000
        0x04, 0x00, 0x00, 0x00,                         // 4 pages
        0x00, 0x00, 0x00, 0x00,                         // reserved
    ];

    /// <summary>v1.1: 48-byte header with EMAD size 16, EMADs at 48, composite at 80, constituents at 96 and 112.</summary>
    public static byte[] MtdV1_1 =>
    [
        // header
        0x01, 0x00,                                     //  0: sender 0x0001
        0x2F, 0x00,                                     //  2: attributes (u16): normal, write-back, inner shareable
        0x00, 0x00, 0x00, 0x00,                         //  4: flags
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  8: handle 0
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 16: tag 7
        0x10, 0x00, 0x00, 0x00,                         // 24: EMAD size 16
        0x02, 0x00, 0x00, 0x00,                         // 28: EMAD count 2
        0x30, 0x00, 0x00, 0x00,                         // 32: EMAD offset 48
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 36: reserved (12 bytes)
        0x00, 0x00, 0x00, 0x00,
        // emad[0] at 48
        0x01, 0x80, 0x02, 0x00,                         // receiver 0x8001, RW, flags 0
        0x50, 0x00, 0x00, 0x00,                         // composite offset 80
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // emad[1] at 64
        0x02, 0x80, 0x01, 0x00,                         // receiver 0x8002, RO, flags 0
        0x50, 0x00, 0x00, 0x00,                         // composite offset 80
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // composite at 80
        0x05, 0x00, 0x00, 0x00,                         // total page count 5
        0x02, 0x00, 0x00, 0x00,                         // constituent count 2
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // constituent[0] at 96
        0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, // address 0x80000000
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 1 page, reserved
        // constituent[1] at 112
        0x00, 0x10, 0x00, 0x80, 0x08, 0x00, 0x00, 0x00, // address 0x880001000
        0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 4 pages, reserved
    ];

    /// <summary>v1.2: 48-byte header with EMAD size 32, EMADs at 48 (the first with an impdef value), composite at 112.</summary>
    public static byte[] MtdV1_2 =>
    [
        // header
        0x01, 0x00,                                     //  0: sender 0x0001
        0x2F, 0x00,                                     //  2: attributes: normal, write-back, inner shareable
        0x00, 0x00, 0x00, 0x00,                         //  4: flags
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  8: handle 0
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 16: tag 7
        0x20, 0x00, 0x00, 0x00,                         // 24: EMAD size 32
        0x02, 0x00, 0x00, 0x00,                         // 28: EMAD count 2
        0x30, 0x00, 0x00, 0x00,                         // 32: EMAD offset 48
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 36: reserved (12 bytes)
        0x00, 0x00, 0x00, 0x00,
        // emad[0] at 48
        0x01, 0x80, 0x02, 0x00,                         // receiver 0x8001, RW, flags 0
        0x70, 0x00, 0x00, 0x00,                         // composite offset 112
        0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, // impdef bytes 0-7:  low u64 0xFEDCBA9876543210
        0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01, // impdef bytes 8-15: high u64 0x0123456789ABCDEF
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // emad[1] at 80
        0x02, 0x80, 0x01, 0x00,                         // receiver 0x8002, RO, flags 0
        0x70, 0x00, 0x00, 0x00,                         // composite offset 112
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // impdef 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // composite at 112
        0x05, 0x00, 0x00, 0x00,                         // total page count 5
        0x02, 0x00, 0x00, 0x00,                         // constituent count 2
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        // constituent[0] at 128
        0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, // address 0x80000000
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 1 page, reserved
        // constituent[1] at 144
        0x00, 0x10, 0x00, 0x80, 0x08, 0x00, 0x00, 0x00, // address 0x880001000
        0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 4 pages, reserved
    ];

    public static MemoryTransactionHeader MtdSendHeader =>
        new(new EndpointId(0x0001), MemoryRegionAttributes.Normal(Cacheability.WriteBack, Shareability.InnerShareable), MemoryTransactionFlags.None, new MemoryHandle(0), 7);

    public static EndpointMemoryAccess[] MtdReceivers(bool withImpdef) =>
    [
        new(new EndpointId(0x8001), MemoryAccessPermissions.Of(DataAccess.ReadWrite, InstructionAccess.NotSpecified), EmadFlags.None,
            withImpdef ? new UInt128(0x0123456789ABCDEF, 0xFEDCBA9876543210) : UInt128.Zero),
        new(new EndpointId(0x8002), MemoryAccessPermissions.Of(DataAccess.ReadOnly, InstructionAccess.NotSpecified)),
    ];

    public static MemoryRegionConstituent[] MtdConstituents => [new(0x8000_0000, 1), new(0x8_8000_1000, 4)];

    /// <summary>v1.2 retrieve request by SP 0x8001 for handle 0x8000000000000009: one EMAD, no composite.</summary>
    public static byte[] RetrieveRequestV1_2 =>
    [
        0x01, 0x00,                                     //  0: sender 0x0001 (the owner)
        0x2F, 0x00,                                     //  2: attributes
        0x0A, 0x00, 0x00, 0x00,                         //  4: flags: bit 1 time slicing, bits 4:3 = 1 (share)
        0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, //  8: handle 0x8000000000000009 (hypervisor-allocated)
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 16: tag 7
        0x20, 0x00, 0x00, 0x00,                         // 24: EMAD size 32
        0x01, 0x00, 0x00, 0x00,                         // 28: EMAD count 1
        0x30, 0x00, 0x00, 0x00,                         // 32: EMAD offset 48
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 36: reserved
        0x00, 0x00, 0x00, 0x00,
        // emad[0] at 48
        0x01, 0x80,                                     // receiver 0x8001
        0x06,                                           // permissions: RW (2) | NX (1 << 2)
        0x00,                                           // flags
        0x00, 0x00, 0x00, 0x00,                         // composite offset 0: a retrieve request has none
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // impdef 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
    ];

    /// <summary>v1.1 hypervisor retrieve request for handle 0x42: the header alone, EMAD count 0.</summary>
    public static byte[] HypervisorRetrieveV1_1 =>
    [
        0x00, 0x00,                                     //  0: sender 0 (as pKVM sends it)
        0x00, 0x00,                                     //  2: attributes
        0x00, 0x00, 0x00, 0x00,                         //  4: flags
        0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //  8: handle 0x42 (SPMC-allocated)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 16: tag 0
        0x10, 0x00, 0x00, 0x00,                         // 24: EMAD size 16
        0x00, 0x00, 0x00, 0x00,                         // 28: EMAD count 0
        0x30, 0x00, 0x00, 0x00,                         // 32: EMAD offset 48
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 36: reserved
        0x00, 0x00, 0x00, 0x00,
    ];

    // ---- relinquish (§10.3) ----------------------------------------------------------------------------------------

    public static byte[] Relinquish =>
    [
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, //  0: handle 0x8000000000000005
        0x01, 0x00, 0x00, 0x00,                         //  8: flags: bit 0 zero after relinquish
        0x01, 0x00, 0x00, 0x00,                         // 12: endpoint count 1
        0x01, 0x80,                                     // 16: endpoint 0x8001
    ];

    // ---- indirect message header (§8.3) ----------------------------------------------------------------------------

    /// <summary>v1.1: VM 1 to SP 0x8003, payload "hello" right after the 20-byte header.</summary>
    public static byte[] IndirectV1_1 =>
    [
        0x00, 0x00, 0x00, 0x00, //  0: flags
        0x00, 0x00, 0x00, 0x00, //  4: reserved
        0x14, 0x00, 0x00, 0x00, //  8: offset 20
        0x03, 0x80,             // 12: receiver 0x8003 (send_recv_id bits 15:0)
        0x01, 0x00,             // 14: sender 0x0001 (send_recv_id bits 31:16)
        0x05, 0x00, 0x00, 0x00, // 16: size 5
        0x68, 0x65, 0x6C, 0x6C, 0x6F, // 20: payload "hello"
    ];

    /// <summary>v1.2: SP 0x8003 to VM 2, UUID, payload "abc" right after the 40-byte header.</summary>
    public static byte[] IndirectV1_2 =>
    [
        0x00, 0x00, 0x00, 0x00, //  0: flags
        0x00, 0x00, 0x00, 0x00, //  4: reserved
        0x28, 0x00, 0x00, 0x00, //  8: offset 40
        0x02, 0x00,             // 12: receiver 0x0002
        0x03, 0x80,             // 14: sender 0x8003
        0x03, 0x00, 0x00, 0x00, // 16: size 3
        0x00, 0x00, 0x00, 0x00, // 20: reserved
        0xB4, 0xB5, 0x67, 0x1E, // 24: UUID b4b5671e-4a90-4fe1-b81f-fb13dae1dacb
        0x4A, 0x90, 0x4F, 0xE1,
        0xB8, 0x1F, 0xFB, 0x13,
        0xDA, 0xE1, 0xDA, 0xCB,
        0x61, 0x62, 0x63,       // 40: payload "abc"
    ];

    // ---- endpoint RX/TX descriptor (§7.3) --------------------------------------------------------------------------

    /// <summary>VM 2's buffers: RX one page at 0x40000000, TX one page at 0x40001000.</summary>
    public static byte[] RxTx =>
    [
        0x02, 0x00,                                     //  0: endpoint 0x0002
        0x00, 0x00,                                     //  2: reserved
        0x10, 0x00, 0x00, 0x00,                         //  4: RX composite offset 16
        0x30, 0x00, 0x00, 0x00,                         //  8: TX composite offset 48
        0x00, 0x00, 0x00, 0x00,                         // 12: pad
        // RX composite at 16
        0x01, 0x00, 0x00, 0x00,                         // total page count 1
        0x01, 0x00, 0x00, 0x00,                         // constituent count 1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, // 32: address 0x40000000
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //     1 page, reserved
        // TX composite at 48
        0x01, 0x00, 0x00, 0x00,                         // total page count 1
        0x01, 0x00, 0x00, 0x00,                         // constituent count 1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // reserved
        0x00, 0x10, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, // 64: address 0x40001000
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //     1 page, reserved
    ];

    /// <summary>Writes a little-endian u32 into a copy-to-poke golden.</summary>
    public static byte[] With32(this byte[] bytes, int offset, uint value)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value);
        return bytes;
    }

    public static byte[] With64(this byte[] bytes, int offset, ulong value)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset), value);
        return bytes;
    }

    public static byte[] With8(this byte[] bytes, int offset, byte value)
    {
        bytes[offset] = value;
        return bytes;
    }
}
