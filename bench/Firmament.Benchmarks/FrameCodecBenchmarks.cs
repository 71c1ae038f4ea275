using BenchmarkDotNet.Attributes;
using Firmament.Abi;
using Firmament.Abi.Ffa;
using Firmament.Abi.Ffa.Calls;

namespace Firmament.Benchmarks;

/// <summary>
/// The register-frame codecs on the call path: one Encode + TryDecode per representative ABI, and a decode-only
/// figure for one frame. Target: under 20 ns per decode, 0 B allocated.
/// Run: dotnet run -c Release --project bench/Firmament.Benchmarks -- --filter '*FrameCodec*'
/// </summary>
[MemoryDiagnoser]
public class FrameCodecBenchmarks
{
    private static readonly EndpointId Vm = new(0x0002);
    private static readonly EndpointId Sp = new(0x8001);

    private readonly VersionCall _version = new(FfaVersion.V1_2);
    private readonly Features _features = new(FeatureQuery.Of(FfaFunction.MemRetrieveReq, is64: true), Firmament.Abi.Ffa.Calls.Features.NsBitHandling);
    private readonly MsgSendDirectReq _directReq64 = new(true, new SenderReceiver(Vm, Sp), DirectMessageKind.Partition, new DirectMessagePayload(1, 2, 3, 4, 5));
    private readonly MsgSendDirectReq2 _directReq2 =
        new(new SenderReceiver(Vm, Sp), Uuid.Parse("00112233-4455-6677-8899-aabbccddeeff"), new DirectMessage2Payload(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14));
    private readonly NotificationBind _bind = new(new SenderReceiver(Sp, Vm), NotificationBindFlags.None, new NotificationBitmap(0x3));
    private readonly NotificationSet _set = new(new SenderReceiver(Sp, Vm), NotificationSetFlags.PerVcpu | NotificationSetFlags.DelaySri, 1, new NotificationBitmap(0x3));
    private readonly NotificationGet _get = new(1, Vm, NotificationGetFlags.All);
    private readonly NotificationGetSuccess _getSuccess = new(false, new NotificationBitmap(0x1), new NotificationBitmap(0x2), FrameworkNotifications.RxBufferFull, FrameworkNotifications.None);
    private readonly MemShare _share = new(true, MemoryTransaction.InTxBuffer(0x70));
    private readonly ErrorReturn _error = new(FfaError.InvalidParameters);
    private NotificationInfoGetSuccess _infoGetSuccess;
    private RegisterFrame _frame;
    private RegisterFrame _directReq64Frame;

    [GlobalSetup]
    public void Setup()
    {
        // A full SMC64 answer: five lists of an endpoint and three vCPUs, 20 IDs.
        var writer = new NotificationInfoListWriter(is64: true);
        ReadOnlySpan<ushort> vcpus = [0, 1, 2];
        for (var i = 0; i < 5; i++)
        {
            writer.TryAdd(new EndpointId((ushort)(0x8001 + i)), vcpus);
        }

        _infoGetSuccess = writer.ToSuccess(morePending: true);
        _directReq64.Encode(ref _directReq64Frame);
    }

    [Benchmark]
    public VersionCall Version() => RoundTrip(_version);

    [Benchmark]
    public Features Features() => RoundTrip(_features);

    [Benchmark]
    public MsgSendDirectReq DirectReq64() => RoundTrip(_directReq64);

    [Benchmark]
    public MsgSendDirectReq2 DirectReq2() => RoundTrip(_directReq2);

    [Benchmark]
    public NotificationBind NotificationBind() => RoundTrip(_bind);

    [Benchmark]
    public NotificationSet NotificationSet() => RoundTrip(_set);

    [Benchmark]
    public NotificationGet NotificationGet() => RoundTrip(_get);

    [Benchmark]
    public NotificationGetSuccess NotificationGetSuccess() => RoundTrip(_getSuccess);

    [Benchmark]
    public NotificationInfoGetSuccess InfoGetSuccessFullList() => RoundTrip(_infoGetSuccess);

    [Benchmark]
    public MemShare MemShare64() => RoundTrip(_share);

    [Benchmark]
    public ErrorReturn Error() => RoundTrip(_error);

    /// <summary>Decode only, of one ready frame: the figure the 20 ns target is about.</summary>
    [Benchmark]
    public MsgSendDirectReq DecodeOnlyDirectReq64()
    {
        MsgSendDirectReq.TryDecode(_directReq64Frame, out var value, out _);
        return value;
    }

    private T RoundTrip<T>(in T value)
        where T : struct, IFfaMessage<T>
    {
        value.Encode(ref _frame);
        T.TryDecode(_frame, out var back, out _);
        return back;
    }
}
