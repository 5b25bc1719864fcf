using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Loop.Testing;
using Npgsql;
using NpgsqlTypes;

namespace Loop.DurableEmitter.Benchmarks;

/// <summary>
/// Emit throughput on PostgreSQL, side by side with one INSERT per event (the floor), a raw Npgsql binary COPY of the
/// same rows (the limit), and the ceiling of any emitter that acknowledges each caller after its own commit: the
/// store's batch insert of <see cref="Callers"/> ready-made rows per commit, commits back to back. Each invocation
/// writes <see cref="Events"/> events; results are per event.
/// </summary>
[Config(typeof(BenchConfig))]
public class EmitBenchmarks
{
    public const int Events = 4096;

    private NpgsqlDataSource _dataSource = null!;
    private PgDurableEventStore _store = null!;
    private DurableEventEmitter _emitter = null!;
    private byte[] _body = null!;
    private byte[] _payload = null!;
    private string _table = null!;

    [ParamsSource(nameof(PayloadSizes))]
    public int PayloadBytes { get; set; }

    [ParamsSource(nameof(CallerCounts))]
    public int Callers { get; set; }

    /// <summary>256 B and 1 KiB, or <c>BENCH_SIZES</c>.</summary>
    public static IEnumerable<int> PayloadSizes => BenchKnobs.Sizes;

    /// <summary>1, 16 and 64 callers, or <c>BENCH_CALLERS</c>.</summary>
    public static IEnumerable<int> CallerCounts => BenchKnobs.Callers;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _dataSource = BenchEnvironment.CreateDataSource();
        _table = PostgresFixture.UniqueTable();
        _store = new PgDurableEventStore(_dataSource, new PgDurableEventStoreOptions { TableName = _table });
        await _store.InitializeAsync();
        _body = BenchEnvironment.Body(PayloadBytes);
        _payload = new Events.CloudEvents.CloudEvent { Id = Guid.NewGuid().ToString(), Source = "bench", Type = "bench.event", SpecVersion = "1.0", BinaryData = ByteString.CopyFrom(_body) }.ToByteArray();
        _emitter = new DurableEventEmitter(_store, new RefusingTransport(), new DurableEmitterOptions { StoreOnly = true, InsertBatchWorkers = BenchKnobs.InsertBatchWorkers });
        await _emitter.StartAsync();
    }

    [IterationCleanup]
    public void Cleanup() => BenchEnvironment.TruncateAsync(_dataSource, _store.Table).GetAwaiter().GetResult();

    [GlobalCleanup]
    public async Task TeardownAsync()
    {
        await _emitter.StopAsync();
        await _dataSource.DisposeAsync();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events, Description = "one INSERT per event")]
    public Task InsertPerEvent() => BenchEnvironment.RunCallersAsync(Callers, Events, async _ =>
    {
        await using var command = _dataSource.CreateCommand($"INSERT INTO {_store.Table} (payload, created_at) VALUES ($1, now()) RETURNING id");
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = _payload });
        await command.ExecuteScalarAsync();
    });

    [Benchmark(OperationsPerInvoke = Events, Description = "DurableEmitter.EmitAsync")]
    public Task Emit() => BenchEnvironment.RunCallersAsync(Callers, Events, async _ =>
        await _emitter.EmitAsync(_body, new EventAttributes { Source = "bench", Type = "bench.event" }));

    [Benchmark(OperationsPerInvoke = Events, Description = "ceiling: Callers rows per commit")]
    public async Task CommitCeiling()
    {
        // With C callers each waiting for its own durable commit, no commit can carry more than C rows. This is that
        // bound with nothing else to do: rows already serialised, no CloudEvent build, no coalescing, no wake-ups.
        var rows = Enumerable.Repeat((ReadOnlyMemory<byte>)_payload, Callers).ToArray();
        for (var written = 0; written < Events; written += Callers)
        {
            await _store.InsertBatchAsync(rows, null);
        }
    }

    [Benchmark(OperationsPerInvoke = Events, Description = "raw binary COPY")]
    public async Task RawCopy()
    {
        // The limit: every row in one COPY, no coalescing, no per-caller acknowledgement.
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var importer = await connection.BeginBinaryImportAsync($"COPY {_store.Table} (payload, created_at) FROM STDIN (FORMAT BINARY)");
        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        for (var i = 0; i < Events; i++)
        {
            await importer.StartRowAsync();
            await importer.WriteAsync(_payload, NpgsqlDbType.Bytea);
            await importer.WriteAsync(now, NpgsqlDbType.TimestampTz);
        }

        await importer.CompleteAsync();
    }
}
