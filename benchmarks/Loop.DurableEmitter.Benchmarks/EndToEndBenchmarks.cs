using BenchmarkDotNet.Attributes;
using Grpc.Net.Client;
using Loop.DurableEmitter.Ingress;
using Loop.Events.CloudEvents;
using Loop.Testing;
using Npgsql;
using BatchRequest = Loop.DurableEmitter.Ingress.CloudEventBatch;

namespace Loop.DurableEmitter.Benchmarks;

/// <summary>
/// Delivered events per second end to end (emitted, stored in PostgreSQL, sent to a loopback gRPC ingress, marked
/// delivered), sustained with a steady backlog, beside raw gRPC PublishBatch of the same events (batches of 50, 4
/// concurrent calls, no database).
/// </summary>
[Config(typeof(BenchConfig))]
public class EndToEndBenchmarks
{
    public const int Events = 8192;
    private const int Callers = 64;
    private const int Backlog = 2048;

    private NpgsqlDataSource _dataSource = null!;
    private TestIngress _ingress = null!;
    private PgDurableEventStore _store = null!;
    private GrpcBatchEmitter _transport = null!;
    private DurableEventEmitter _emitter = null!;
    private GrpcChannel _channel = null!;
    private ChipIngress.ChipIngressClient _client = null!;
    private CloudEvent[] _events = null!;
    private byte[] _body = null!;
    private long _marked;
    private long _emitted;

    [Params(1024)]
    public int PayloadBytes { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _dataSource = BenchEnvironment.CreateDataSource();
        _ingress = await TestIngress.StartAsync();
        _store = new PgDurableEventStore(_dataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable() });
        _transport = new GrpcBatchEmitter(new GrpcIngressOptions { Endpoint = _ingress.Endpoint });
        _emitter = new DurableEventEmitter(_store, _transport, new DurableEmitterOptions
        {
            Hooks = new DurableEmitterHooks { OnBatchMarkDelivered = (_, n) => Interlocked.Add(ref _marked, n) },
        });
        await _emitter.StartAsync();
        _body = BenchEnvironment.Body(PayloadBytes);
        _channel = GrpcChannel.ForAddress($"http://{_ingress.Endpoint}");
        _client = new ChipIngress.ChipIngressClient(_channel);
        _events = Enumerable.Range(0, Events).Select(i => new CloudEvent
        {
            Id = Guid.NewGuid().ToString(),
            Source = "bench",
            Type = "bench.event",
            SpecVersion = "1.0",
            BinaryData = Google.Protobuf.ByteString.CopyFrom(_body),
        }).ToArray();
    }

    [IterationCleanup]
    public void Cleanup()
    {
        _ingress.Received.Clear();
        _ingress.ByKey.Clear();
    }

    [GlobalCleanup]
    public async Task TeardownAsync()
    {
        await _emitter.StopAsync();
        await _transport.DisposeAsync();
        _channel.Dispose();
        await _ingress.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events, Description = "raw gRPC PublishBatch")]
    public Task RawPublishBatch() => BenchEnvironment.RunCallersAsync(4, Events / 50, async batch =>
    {
        var request = new BatchRequest();
        request.Events.Add(_events.AsSpan(batch * 50, 50).ToArray());
        await _client.PublishBatchAsync(request);
    });

    [Benchmark(OperationsPerInvoke = Events, Description = "emit, deliver and mark (64 callers)")]
    public async Task EmitDeliverMark()
    {
        // Sustained, with a steady backlog: an invocation ends once delivery is back within Backlog events of
        // everything emitted so far, so the last events' batch and mark lingers are not timed as a drain every time
        // (the warm-ups build the backlog; in steady state each invocation delivers as many events as it emits).
        _emitted += Events;
        var target = _emitted - Backlog;
        await BenchEnvironment.RunCallersAsync(Callers, Events, async _ =>
            await _emitter.EmitAsync(_body, new EventAttributes { Source = "bench", Type = "bench.event" }));
        var spins = 0;
        while (Interlocked.Read(ref _marked) < target)
        {
            await Task.Delay(1);
            if (++spins > 120_000)
            {
                throw new TimeoutException("delivery did not finish");
            }
        }
    }
}
