using Loop.Events;
using Loop.Events.CloudEvents;
using Loop.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Benchmarks;

/// <summary>What every benchmark shares: the PostgreSQL server (named by LOOP_TEST_POSTGRES), events and payloads.</summary>
internal static class BenchEnvironment
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(PostgresServer.ConnectionStringVariable)
        ?? throw new InvalidOperationException($"{PostgresServer.ConnectionStringVariable} is not set; run through Program.Main, which starts a server.");

    public static NpgsqlDataSource CreateDataSource() =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(ConnectionString)
        {
            MaxPoolSize = 128,
            MaxAutoPrepare = int.Parse(Environment.GetEnvironmentVariable("BENCH_AUTO_PREPARE") ?? "0", System.Globalization.CultureInfo.InvariantCulture),
        });

    public static byte[] Body(int size)
    {
        var body = new byte[size];
        Random.Shared.NextBytes(body);
        return body;
    }

    public static async Task TruncateAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var command = dataSource.CreateCommand($"TRUNCATE {table}");
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs <paramref name="total"/> operations split across <paramref name="callers"/> concurrent callers.</summary>
    public static Task RunCallersAsync(int callers, int total, Func<int, Task> operation) =>
        Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            for (var i = c; i < total; i += callers)
            {
                await operation(i);
            }
        })));
}

/// <summary>A transport that fails every event at once. Emit benchmarks run store-only (it is never called): they measure the insert path alone.</summary>
internal sealed class RefusingTransport : IBatchEmitter
{
    private static readonly Exception Refused = new InvalidOperationException("delivery is off in this benchmark");

    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public QueueResult TryQueue(CloudEvent cloudEvent, TimeSpan sendWithin, Action<Exception?> onSent)
    {
        onSent(Refused);
        return QueueResult.Queued;
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
