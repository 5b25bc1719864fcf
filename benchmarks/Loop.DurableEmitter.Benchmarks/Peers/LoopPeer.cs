using Loop.Events;
using Loop.Events.CloudEvents;
using Loop.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>Loop.DurableEmitter on PostgreSQL, delivering to an in-process sink (or, with <c>grpc</c>, to the loopback gRPC ingress, or nowhere, store-only); delivered = marked.</summary>
internal sealed class LoopPeer : IOutboxPeer
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly DurableEventEmitter _emitter;
    private readonly IBatchEmitter _transport;
    private readonly TestIngress? _ingress;
    private readonly bool _storeOnly;
    private long _marked;

    private LoopPeer(NpgsqlDataSource dataSource, IBatchEmitter transport, TestIngress? ingress, int? workers, bool storeOnly)
    {
        _storeOnly = storeOnly;
        _dataSource = dataSource;
        _transport = transport;
        _ingress = ingress;
        var store = new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable() });
        _emitter = new DurableEventEmitter(store, transport, new DurableEmitterOptions
        {
            InsertBatchWorkers = workers ?? DurableEmitterOptions.DefaultInsertBatchWorkers,
            StoreOnly = storeOnly,
            Hooks = new DurableEmitterHooks { OnBatchMarkDelivered = (_, n) => Interlocked.Add(ref _marked, n) },
        });
    }

    public long? Delivered => _storeOnly ? null : Interlocked.Read(ref _marked);

    /// <param name="connectionString">The server.</param>
    /// <param name="grpc">Deliver through the real gRPC transport to a loopback ingress instead of an in-process sink.</param>
    /// <param name="workers">Insert workers (concurrent batch inserts); the library's default when null.</param>
    /// <param name="storeOnly">Persist only, deliver nothing (the persist rate with no delivery beside it).</param>
    public static async Task<LoopPeer> StartAsync(string connectionString, bool grpc, int? workers = null, bool storeOnly = false)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        var ingress = grpc ? await TestIngress.StartAsync() : null;
        IBatchEmitter transport = ingress is null ? new SinkTransport() : new GrpcBatchEmitter(new GrpcIngressOptions { Endpoint = ingress.Endpoint });
        var peer = new LoopPeer(dataSource, transport, ingress, workers, storeOnly);
        await peer._emitter.StartAsync();
        return peer;
    }

    public Task PublishAsync(byte[] body) =>
        _emitter.EmitAsync(body, new EventAttributes { Source = "bench", Type = "bench.event" }).AsTask();

    public async ValueTask DisposeAsync()
    {
        await _emitter.StopAsync();
        if (_transport is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        if (_ingress is not null)
        {
            await _ingress.DisposeAsync();
        }

        await _dataSource.DisposeAsync();
    }

    /// <summary>Acknowledges every event at once, on the thread pool (as a transport's send completion would).</summary>
    private sealed class SinkTransport : IBatchEmitter
    {
        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public QueueResult TryQueue(CloudEvent cloudEvent, TimeSpan sendWithin, Action<Exception?> onSent)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static done => done(null), onSent, preferLocal: false);
            return QueueResult.Queued;
        }

        public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
