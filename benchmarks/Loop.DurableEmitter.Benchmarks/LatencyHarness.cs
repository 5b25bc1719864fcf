using System.Diagnostics;
using System.Globalization;
using Loop.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Benchmarks;

/// <summary>
/// Per-call latency percentiles (BenchmarkDotNet reports per invocation, not per emit): each caller times every
/// call, for Emit and for one INSERT per event, at 1, 16 and 64 callers.
/// </summary>
internal static class LatencyHarness
{
    // Knobs for tuning runs; unset, the library's defaults are measured.
    private static readonly DurableEmitterOptions Defaults = new();

    private static TimeSpan Linger => Knob("BENCH_LINGER_MS") is { } ms ? TimeSpan.FromMilliseconds(double.Parse(ms, CultureInfo.InvariantCulture)) : Defaults.InsertBatchFlushInterval;

    private static int Workers => Knob("BENCH_WORKERS") is { } w ? int.Parse(w, CultureInfo.InvariantCulture) : Defaults.InsertBatchWorkers;

    private static int BatchSize => Knob("BENCH_BATCH") is { } b ? int.Parse(b, CultureInfo.InvariantCulture) : Defaults.InsertBatchSize;

    private static PgBatchInsertMode Mode => Knob("BENCH_MODE") is { } m ? Enum.Parse<PgBatchInsertMode>(m) : new PgDurableEventStoreOptions().BatchInsertMode;

    private static string? Knob(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    public static async Task RunAsync(TextWriter output)
    {
        const int events = 8192;
        await using var dataSource = BenchEnvironment.CreateDataSource();
        output.WriteLine("| payload | callers | path | events/s | p50 ms | p90 ms | p99 ms | max ms |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var size in new[] { 256, 1024 })
        {
            foreach (var callers in new[] { 1, 16, 64 })
            {
                var store = new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), BatchInsertMode = Mode });
                await store.InitializeAsync();
                var body = BenchEnvironment.Body(size);
                await using var emitter = new DurableEmitter(store, new RefusingTransport(), new DurableEmitterOptions { RetransmitEnabled = false, InsertBatchFlushInterval = Linger, InsertBatchWorkers = Workers, InsertBatchSize = BatchSize });
                await emitter.StartAsync();

                // Warm up both paths, then measure.
                await MeasureAsync(callers, 512, () => emitter.EmitAsync(body, new EventAttributes { Source = "bench", Type = "bench.event" }).AsTask());
                var emit = await MeasureAsync(callers, events, () => emitter.EmitAsync(body, new EventAttributes { Source = "bench", Type = "bench.event" }).AsTask());
                Write(output, size, callers, "DurableEmitter.EmitAsync", emit);

                var insert = await MeasureAsync(callers, events, async () =>
                {
                    await using var command = dataSource.CreateCommand($"INSERT INTO {store.Table} (payload, created_at) VALUES ($1, now()) RETURNING id");
                    command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = body });
                    await command.ExecuteScalarAsync();
                });
                Write(output, size, callers, "one INSERT per event", insert);
                await BenchEnvironment.TruncateAsync(dataSource, store.Table);
            }
        }
    }

    private static async Task<(double[] Millis, TimeSpan Elapsed)> MeasureAsync(int callers, int total, Func<Task> call)
    {
        var latencies = new double[total];
        var clock = Stopwatch.StartNew();
        await BenchEnvironment.RunCallersAsync(callers, total, async i =>
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        });
        clock.Stop();
        Array.Sort(latencies);
        return (latencies, clock.Elapsed);
    }

    private static void Write(TextWriter output, int size, int callers, string path, (double[] Millis, TimeSpan Elapsed) r)
    {
        static string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
        double P(double q) => r.Millis[(int)Math.Min(r.Millis.Length - 1, Math.Ceiling(q * r.Millis.Length) - 1)];
        var rate = r.Millis.Length / r.Elapsed.TotalSeconds;
        output.WriteLine($"| {size} B | {callers} | {path} | {rate.ToString("0", CultureInfo.InvariantCulture)} | {F(P(0.50))} | {F(P(0.90))} | {F(P(0.99))} | {F(r.Millis[^1])} |");
    }
}
