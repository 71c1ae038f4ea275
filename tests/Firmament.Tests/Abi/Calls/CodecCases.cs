using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace Firmament.Tests.Abi.Calls;

/// <summary>Every typed call and return, each with a generator of its valid values.</summary>
public static class CodecCases
{
    private static readonly Gen<DirectMessageKind> DirectKind = Gen.Frequency(
        (2, Gen.Constant(DirectMessageKind.Partition)),
        (1, Gen.Choose(0, 255).Select(static t => (DirectMessageKind)(0x8000_0000u | (uint)t))));

    private static readonly Gen<MemoryTransaction> Transaction32 =
        from total in Gens.U32 from fragment in Gens.U32 from address in Gens.Reg(false) from pages in Gens.U32
        select new MemoryTransaction(total, fragment, address, pages);

    private static readonly Gen<MemoryTransaction> Transaction64 =
        from total in Gens.U32 from fragment in Gens.U32 from address in Gens.U64 from pages in Gens.U32
        select new MemoryTransaction(total, fragment, address, pages);

    private static readonly Gen<(bool Is64, MemoryTransaction Transaction)> Transaction =
        from is64 in Gens.Bool from t in is64 ? Transaction64 : Transaction32 select (is64, t);

    private static readonly Gen<DirectMessage2Payload> Payload2 =
        Gen.ArrayOf(Gens.U64, DirectMessage2Payload.Count).Select(static words => new DirectMessage2Payload(words));

    public static readonly IReadOnlyList<CodecCase> All =
    [
        // Discovery
        new CodecCase<VersionCall>(Gens.Version.Select(static v => new VersionCall(v))),
        new CodecCase<Features>(Gen.OneOf(
            from fn in Gens.U32 from props in Gens.U32 select new Features(new FeatureQuery(fn | 0x8000_0000), props),
            from feature in Gen.Choose(0, 255) select new Features(new FeatureQuery((uint)feature), 0))),
        new CodecCase<IdGet>(Gen.Constant(default(IdGet))),
        new CodecCase<SpmIdGet>(Gen.Constant(default(SpmIdGet))),
        new CodecCase<PartitionInfoGet>(
            from uuid in Gens.Uuid from flags in Gen.Elements(PartitionInfoGetFlags.None, PartitionInfoGetFlags.CountOnly)
            select new PartitionInfoGet(uuid, flags)),
        new CodecCase<PartitionInfoGetRegs>(
            from uuid in Gens.Uuid from start in Gens.U16 from tag in Gens.U16 select new PartitionInfoGetRegs(uuid, start, tag)),

        // RX/TX
        new CodecCase<RxTxMap>(
            from is64 in Gens.Bool from tx in Gens.Reg(is64) from rx in Gens.Reg(is64) from pages in Gen.Choose(0, 63)
            select new RxTxMap(is64, tx, rx, (uint)pages)),
        new CodecCase<RxTxUnmap>(Gens.Endpoint.Select(static id => new RxTxUnmap(id))),
        new CodecCase<RxRelease>(Gens.Endpoint.Select(static id => new RxRelease(id))),
        new CodecCase<RxAcquire>(Gens.Endpoint.Select(static id => new RxAcquire(id))),

        // Messaging
        new CodecCase<MsgSendDirectReq>(
            from is64 in Gens.Bool from endpoints in Gens.Endpoints from kind in DirectKind
            from p in Gen.ArrayOf(Gens.Reg(is64), 5)
            select new MsgSendDirectReq(is64, endpoints, kind, new DirectMessagePayload(p[0], p[1], p[2], p[3], p[4]))),
        new CodecCase<MsgSendDirectResp>(
            from is64 in Gens.Bool from endpoints in Gens.Endpoints from kind in DirectKind
            from p in Gen.ArrayOf(Gens.Reg(is64), 5)
            select new MsgSendDirectResp(is64, endpoints, kind, new DirectMessagePayload(p[0], p[1], p[2], p[3], p[4]))),
        new CodecCase<MsgSendDirectReq2>(
            from endpoints in Gens.Endpoints from uuid in Gens.Uuid from payload in Payload2
            select new MsgSendDirectReq2(endpoints, uuid, payload),
            usesUpperRegisters: true),
        new CodecCase<MsgSendDirectResp2>(
            from endpoints in Gens.Endpoints from payload in Payload2 select new MsgSendDirectResp2(endpoints, payload),
            usesUpperRegisters: true),
        new CodecCase<MsgSend2>(
            from sender in Gens.Endpoint from flags in Gen.Elements(MsgSend2Flags.None, MsgSend2Flags.DelaySri)
            select new MsgSend2(sender, flags)),
        new CodecCase<MsgWait>(Gen.Elements(MsgWaitFlags.None, MsgWaitFlags.RetainRxBuffer).Select(static f => new MsgWait(f))),
        new CodecCase<Run>(Gens.Target.Select(static t => new Run(t))),
        new CodecCase<Yield>(from t in Gens.Target from timeout in Gens.U64 select new Yield(t, timeout)),
        new CodecCase<Interrupt>(from t in Gens.Target from id in Gens.U32 select new Interrupt(t, id)),
        new CodecCase<MsgSend>(
            from endpoints in Gens.Endpoints from length in Gens.U32 from attributes in Gens.U32
            select new MsgSend(endpoints, length, attributes)),
        new CodecCase<MsgPoll>(Gen.Constant(default(MsgPoll))),
        new CodecCase<NormalWorldResume>(Gen.Constant(default(NormalWorldResume))),
        new CodecCase<El3IntrHandle>(Gen.Constant(default(El3IntrHandle))),
        new CodecCase<SecondaryEpRegister>(
            from is64 in Gens.Bool from entry in Gens.Reg(is64) select new SecondaryEpRegister(is64, entry)),
        new CodecCase<ConsoleLog>(
            from is64 in Gens.Bool
            from length in Gen.Choose(0, ConsoleLog.MaxLength(is64))
            from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(static b => (byte)b), length)
            select new ConsoleLog(is64, new ConsoleLogText(bytes)),
            usesUpperRegisters: true),

        // Notifications
        new CodecCase<NotificationBitmapCreate>(
            from vm in Gens.Endpoint from vcpus in Gens.U32 select new NotificationBitmapCreate(vm, vcpus)),
        new CodecCase<NotificationBitmapDestroy>(Gens.Endpoint.Select(static vm => new NotificationBitmapDestroy(vm))),
        new CodecCase<NotificationBind>(
            from endpoints in Gens.Endpoints
            from flags in Gen.Elements(NotificationBindFlags.None, NotificationBindFlags.PerVcpu)
            from bitmap in Gens.Bitmap
            select new NotificationBind(endpoints, flags, bitmap)),
        new CodecCase<NotificationUnbind>(
            from endpoints in Gens.Endpoints from bitmap in Gens.Bitmap select new NotificationUnbind(endpoints, bitmap)),
        new CodecCase<NotificationSet>(
            from endpoints in Gens.Endpoints
            from flags in Gen.Choose(0, 3).Select(static f => (NotificationSetFlags)f)
            from vcpu in (flags & NotificationSetFlags.PerVcpu) != 0 ? Gens.U16 : Gen.Constant((ushort)0)
            from bitmap in Gens.Bitmap
            select new NotificationSet(endpoints, flags, vcpu, bitmap)),
        new CodecCase<NotificationGet>(
            from vcpu in Gens.U16 from receiver in Gens.Endpoint from flags in Gen.Choose(0, 15)
            select new NotificationGet(vcpu, receiver, (NotificationGetFlags)flags)),
        new CodecCase<NotificationInfoGet>(Gens.Bool.Select(static is64 => new NotificationInfoGet(is64))),

        // Memory
        new CodecCase<MemDonate>(Transaction.Select(static t => new MemDonate(t.Is64, t.Transaction))),
        new CodecCase<MemLend>(Transaction.Select(static t => new MemLend(t.Is64, t.Transaction))),
        new CodecCase<MemShare>(Transaction.Select(static t => new MemShare(t.Is64, t.Transaction))),
        new CodecCase<MemRetrieveReq>(Transaction.Select(static t => new MemRetrieveReq(t.Is64, t.Transaction))),
        new CodecCase<MemRetrieveResp>(from total in Gens.U32 from fragment in Gens.U32 select new MemRetrieveResp(total, fragment)),
        new CodecCase<MemRelinquish>(Gen.Constant(default(MemRelinquish))),
        new CodecCase<MemReclaim>(
            from handle in Gens.Handle from flags in Gen.Choose(0, 3) select new MemReclaim(handle, (MemReclaimFlags)flags)),
        new CodecCase<MemOpPause>(Gens.Handle.Select(static h => new MemOpPause(h))),
        new CodecCase<MemOpResume>(Gens.Handle.Select(static h => new MemOpResume(h))),
        new CodecCase<MemFragRx>(
            from handle in Gens.Handle from offset in Gens.U32 from endpoint in Gens.Endpoint select new MemFragRx(handle, offset, endpoint)),
        new CodecCase<MemFragTx>(
            from handle in Gens.Handle from length in Gens.U32 from endpoint in Gens.Endpoint select new MemFragTx(handle, length, endpoint)),
        new CodecCase<MemPermGet>(
            from is64 in Gens.Bool from address in Gens.Reg(is64) from pages in Gens.U32.Where(static p => p != 0)
            select new MemPermGet(is64, address, pages)),
        new CodecCase<MemPermSet>(
            from is64 in Gens.Bool from address in Gens.Reg(is64) from pages in Gens.U32 from permissions in Gens.Permissions
            select new MemPermSet(is64, address, pages, permissions)),

        // Returns
        new CodecCase<VersionReturn>(
            Gen.Frequency((1, Gen.Constant(VersionReturn.NotSupported)), (3, Gens.Version.Select(static v => new VersionReturn(v)))),
            w0: Gen.OneOf(Gens.U32, Gen.Elements(0xFFFF_FFFFu, 0x0001_0002u, 0xFFFF_FFFDu))),
        new CodecCase<ErrorReturn>(
            Gen.Frequency((3, Gen.Choose(-10, -1)), (1, Gens.U32.Select(static c => (int)c))).Select(static c => new ErrorReturn((FfaError)c))),
        new CodecCase<SuccessReturn>(
            from is64 in Gens.Bool from target in Gens.Target from a in Gen.ArrayOf(Gens.Reg(is64), 6)
            select new SuccessReturn(is64, target, a[0], a[1], a[2], a[3], a[4], a[5])),
        new CodecCase<FeaturesSuccess>(
            from is64 in Gens.Bool from p in Gens.U32 from p2 in Gens.U32 select new FeaturesSuccess(is64, p, p2)),
        new CodecCase<IdGetSuccess>(from is64 in Gens.Bool from id in Gens.Endpoint select new IdGetSuccess(is64, id)),
        new CodecCase<PartitionInfoGetSuccess>(
            from is64 in Gens.Bool from count in Gens.U32 from size in Gens.U32 select new PartitionInfoGetSuccess(is64, count, size)),
        new CodecCase<PartitionInfoGetRegsSuccess>(
            from last in Gens.U16
            from current in Gen.Choose(0, last)
            from tag in Gens.U16
            from size in Gen.Frequency((3, Gen.Constant(PartitionInfoRegsEntry.DescriptorSize)), (1, Gens.U16))
            from words in Gen.ArrayOf(Gens.U64, PartitionInfoRegsDescriptors.Count)
            select new PartitionInfoGetRegsSuccess(last, (ushort)current, tag, size, new PartitionInfoRegsDescriptors(words)),
            usesUpperRegisters: true),
        new CodecCase<MemSendSuccess>(from is64 in Gens.Bool from handle in Gens.Handle select new MemSendSuccess(is64, handle)),
        new CodecCase<NotificationGetSuccess>(
            from is64 in Gens.Bool from sp in Gens.Bitmap from vm in Gens.Bitmap from spm in Gens.U32 from hyp in Gens.U32
            select new NotificationGetSuccess(is64, sp, vm, (FrameworkNotifications)spm, (FrameworkNotifications)hyp)),
        new CodecCase<MemPermGetSuccess>(
            from is64 in Gens.Bool from permissions in Gens.Permissions select new MemPermGetSuccess(is64, permissions)),
        new CodecCase<NotificationInfoGetSuccess>(InfoGetSuccess()),
    ];

    public static TheoryData<string> Names => new(All.Select(static c => c.Name));

    public static CodecCase Named(string name) => All.Single(c => c.Name == name);

    /// <summary>Answers built with the writer: random lists added until one does not fit or the generator stops.</summary>
    private static Gen<NotificationInfoGetSuccess> InfoGetSuccess()
    {
        var list = from endpoint in Gens.Endpoint
                   from count in Gen.Choose(0, 3)
                   from vcpus in Gen.ArrayOf(Gens.U16, count)
                   select (endpoint, vcpus);
        return from is64 in Gens.Bool
               from more in Gens.Bool
               from lists in Gen.ListOf(list)
               select Build(is64, more, lists);

        static NotificationInfoGetSuccess Build(bool is64, bool more, IEnumerable<(EndpointId Endpoint, ushort[] Vcpus)> lists)
        {
            var writer = new NotificationInfoListWriter(is64);
            foreach (var (endpoint, vcpus) in lists)
            {
                if (!writer.TryAdd(endpoint, vcpus))
                {
                    break;
                }
            }

            return writer.ToSuccess(more);
        }
    }
}
