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

    private static int BatchSize => Knob("BENCH_BATCH") is { } b ? int.Parse(b, CultureInfo.InvariantCulture) : Defaults.InsertBatchSize;

    private static PgBatchInsertMode Mode => Knob("BENCH_MODE") is { } m ? Enum.Parse<PgBatchInsertMode>(m) : new PgDurableEventStoreOptions().BatchInsertMode;

    private static int Events => Knob("BENCH_EVENTS") is { } e ? int.Parse(e, CultureInfo.InvariantCulture) : 8192;

    private static string? Knob(string name) => BenchKnobs.Get(name);

    public static async Task RunAsync(TextWriter output)
    {
        var events = Events;
        await using var dataSource = BenchEnvironment.CreateDataSource();
        output.WriteLine("| payload | callers | path | events/s | p50 ms | p90 ms | p99 ms | max ms |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var size in BenchKnobs.Sizes)
        {
            foreach (var callers in BenchKnobs.Callers)
            {
                var store = new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = PostgresFixture.UniqueTable(), BatchInsertMode = Mode });
                await store.InitializeAsync();
                var body = BenchEnvironment.Body(size);
                await using var emitter = new DurableEventEmitter(store, new RefusingTransport(), new DurableEmitterOptions { StoreOnly = true, InsertBatchFlushInterval = Linger, InsertBatchWorkers = BenchKnobs.InsertBatchWorkers, InsertBatchSize = BatchSize });
                await emitter.StartAsync();

                // Warm up both paths, then measure.
                await MeasureAsync(callers, 512, () => emitter.EmitAsync(body, new EventAttributes { Source = "bench", Type = "bench.event" }).AsTask());
                var emit = await MeasureAsync(callers, events, () => emitter.EmitAsync(body, new EventAttributes { Source = "bench", Type = "bench.event" }).AsTask());
                Write(output, size, callers, "DurableEmitter.EmitAsync", emit);

                if (Knob("BENCH_BASELINE") == "0")
                {
                    await BenchEnvironment.TruncateAsync(dataSource, store.Table);
                    continue;
                }

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
        var self = Process.GetCurrentProcess().TotalProcessorTime;
        var machine = MachineBusySeconds();
        var clock = Stopwatch.StartNew();
        await BenchEnvironment.RunCallersAsync(callers, total, async i =>
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        });
        clock.Stop();
        var selfCpu = (Process.GetCurrentProcess().TotalProcessorTime - self).TotalSeconds;
        var machineCpu = MachineBusySeconds() - machine;
        LastCpu = $"CPU per event: this process {selfCpu / total * 1e6:0} µs, rest of machine (PostgreSQL) {(machineCpu - selfCpu) / total * 1e6:0} µs";
        Array.Sort(latencies);
        return (latencies, clock.Elapsed);
    }

    /// <summary>The CPU split of the last measurement, printed when BENCH_CPU is set.</summary>
    private static string LastCpu { get; set; } = string.Empty;

    private static double MachineBusySeconds()
    {
        // /proc/stat "cpu" line: user nice system idle iowait irq softirq steal, in USER_HZ (100 per second).
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / 100.0;
    }

    private static void Write(TextWriter output, int size, int callers, string path, (double[] Millis, TimeSpan Elapsed) r)
    {
        static string F(double v) => v.ToString("0.00", CultureInfo.InvariantCulture);
        double P(double q) => r.Millis[(int)Math.Min(r.Millis.Length - 1, Math.Ceiling(q * r.Millis.Length) - 1)];
        var rate = r.Millis.Length / r.Elapsed.TotalSeconds;
        output.WriteLine($"| {size} B | {callers} | {path} | {rate.ToString("0", CultureInfo.InvariantCulture)} | {F(P(0.50))} | {F(P(0.90))} | {F(P(0.99))} | {F(r.Millis[^1])} |");
        if (Knob("BENCH_CPU") is not null)
        {
            output.WriteLine($"|  |  | {LastCpu} |  |  |  |  |  |");
        }
    }
}
