using System.Collections.Concurrent;
using System.Diagnostics;
using Loop.Testing;
using Npgsql;

namespace Loop.DurableEmitter.Tests.Faults;

/// <summary>The database stopped, and the emitting process killed, in the middle of a load.</summary>
public sealed class CrashFaultTests : IAsyncLifetime
{
    private TestIngress _ingress = null!;

    public async Task InitializeAsync() => _ingress = await TestIngress.StartAsync();

    public async Task DisposeAsync() => await _ingress.DisposeAsync();

    [Fact]
    public async Task Postgres_stopped_mid_load_fails_emits_while_down_and_loses_no_acknowledged_event()
    {
        // A cluster of this test's own: it is stopped and started again.
        await using var server = await PostgresServer.StartAsync();
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString + ";Timeout=2;Command Timeout=5");
        await using var h = new PgIngressHarness(dataSource, _ingress);
        await h.Emitter.StartAsync();

        var acknowledged = new ConcurrentBag<EmitReceipt>();
        var failures = new ConcurrentBag<Exception>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    acknowledged.Add(await h.EmitAsync($"w{worker} e{i}"));
                }
                catch (EventPersistenceException ex)
                {
                    failures.Add(ex);
                    await Task.Delay(20);
                }
            }
        })).ToList();

        await Eventually.WaitAsync(() => acknowledged.Count >= 200, "load before the outage");
        await server.StopAsync();
        await Eventually.WaitAsync(() => failures.Count >= 5, "emits to fail while the database is down");
        var acknowledgedWhileDown = acknowledged.Count;

        await server.StartAgainAsync();
        await Eventually.WaitAsync(() => acknowledged.Count >= acknowledgedWhileDown + 200, "emits to succeed again");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        failures.Should().AllBeOfType<EventPersistenceException>().And.AllSatisfy(f => f.Message.Should().StartWith("failed to persist event"));
        await Eventually.WaitAsync(
            () =>
            {
                h.Time.Advance(h.Options.RetransmitAfter + h.Options.RetransmitInterval);
                return acknowledged.All(r => _ingress.ByKey.ContainsKey(r.IdempotencyKey));
            },
            $"every one of the {acknowledged.Count} acknowledged events at the ingress");
    }

    [Fact]
    public async Task A_host_killed_with_SIGKILL_mid_load_loses_no_acknowledged_event()
    {
        await using var server = await PostgresServer.StartAsync();
        var table = PostgresFixture.UniqueTable();
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await new PgDurableEventStore(dataSource, new PgDurableEventStoreOptions { TableName = table }).InitializeAsync();

        // The ingress refuses everything while the child runs, so a backlog builds up that only retransmit can deliver.
        _ingress.Mode = IngressMode.Unavailable;
        var acknowledged = new ConcurrentBag<string>();
        using (var child = StartCrashHost(server.ConnectionString, table, _ingress.Endpoint))
        {
            child.OutputDataReceived += (_, line) =>
            {
                if (line.Data is { } data && data.StartsWith("ACK ", StringComparison.Ordinal))
                {
                    acknowledged.Add(data[4..]);
                }
            };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();

            await Eventually.WaitAsync(() => acknowledged.Count >= 500, "the child to acknowledge 500 emits");
            child.Kill(entireProcessTree: true); // SIGKILL: no stop, no flush
            await child.WaitForExitAsync();
        }

        var killedAt = acknowledged.Count;
        _ingress.Mode = IngressMode.Accept;

        // A restarted host on the same table retransmits what the dead process left behind.
        await using var h = new PgIngressHarness(dataSource, _ingress, table, configure: o => o.RetransmitBatchSize = 500);
        await h.Emitter.StartAsync();
        await Eventually.WaitAsync(
            () =>
            {
                h.Time.Advance(h.Options.RetransmitAfter + h.Options.RetransmitInterval);
                return acknowledged.All(k => _ingress.ByKey.ContainsKey(k));
            },
            $"every one of the {killedAt} acknowledged events at the ingress");
    }

    private static Process StartCrashHost(string connectionString, string table, string endpoint) =>
        BuiltProgram.Start(
            BuiltProgram.Path("tests/Loop.DurableEmitter.CrashHost", "Loop.DurableEmitter.CrashHost.dll"), connectionString, table, endpoint);
}
