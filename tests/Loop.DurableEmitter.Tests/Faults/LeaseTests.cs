using System.Diagnostics;
using System.Text;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Faults;

/// <summary>
/// Two hosts on one table under an ingress that accepts calls and never answers them: a row is in flight in one place
/// at a time, however long it waits in a transport's buffer. Real time throughout (deadlines, leases, retransmit), as
/// in production.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LeaseTests(SharedPostgres pg) : IAsyncLifetime
{
    private TestIngress _ingress = null!;

    public async Task InitializeAsync() => _ingress = await TestIngress.StartAsync();

    public async Task DisposeAsync() => await _ingress.DisposeAsync();

    private (DurableEventEmitter Emitter, GrpcBatchEmitter Transport, PgDurableEventStore Store) Host(string table)
    {
        var store = new PgDurableEventStore(pg.Fixture.DataSource, new PgDurableEventStoreOptions { TableName = table });
        var transport = new GrpcBatchEmitter(new GrpcIngressOptions
        {
            Endpoint = _ingress.Endpoint,
            PublishTimeout = TimeSpan.FromSeconds(1),
            BatchSize = 20,
            BatchInterval = TimeSpan.FromMilliseconds(5),
            MaxConcurrentSends = 2,
            ShutdownTimeout = TimeSpan.FromSeconds(3),
        });
        var emitter = new DurableEventEmitter(store, transport, new DurableEmitterOptions
        {
            RetransmitAfter = TimeSpan.FromSeconds(2),
            RetransmitInterval = TimeSpan.FromMilliseconds(200),
            RetransmitBatchSize = 100,
            MarkDeliveredFlushInterval = TimeSpan.Zero,
            StopTimeout = TimeSpan.FromSeconds(10),
        });
        return (emitter, transport, store);
    }

    [Fact]
    public async Task Under_a_hung_ingress_no_row_is_in_flight_in_two_places_at_once_and_none_is_lost()
    {
        var table = PostgresFixture.UniqueTable();
        var a = Host(table);
        var b = Host(table);
        await a.Emitter.StartAsync();
        await b.Emitter.StartAsync();
        _ingress.Mode = IngressMode.Hang;

        // A backlog far larger than one round of sends (2 calls of 20 a second per host).
        var receipts = new List<EmitReceipt>();
        for (var i = 0; i < 300; i++)
        {
            receipts.Add(await a.Emitter.EmitAsync(Encoding.UTF8.GetBytes($"row {i}"), new EventAttributes { Source = "lease-test", Type = "test.lease" }));
        }

        // Until many rows were sent more than once (first sends, then retransmits by either host).
        await Eventually.WaitAsync(
            () => _ingress.Calls.SelectMany(c => c.EventIds).GroupBy(id => id).Count(g => g.Count() >= 2) >= 100,
            "rows sent again after their first send was abandoned",
            TimeSpan.FromMinutes(2));

        _ingress.Mode = IngressMode.Accept;
        await Eventually.WaitAsync(async () => await a.Store.CountPendingAsync(TimeProvider.System) == 0, "every row delivered once the ingress answers", TimeSpan.FromMinutes(2));
        foreach (var host in new[] { a, b })
        {
            await host.Emitter.StopAsync();
            await host.Transport.DisposeAsync();
        }

        // Send windows per row, as the ingress saw them: none may overlap another.
        var overlaps = _ingress.Calls
            .SelectMany(c => c.EventIds.Select(id => (Id: id, c.Peer, c.Start, c.End)))
            .GroupBy(w => w.Id)
            .SelectMany(g =>
            {
                var windows = g.OrderBy(w => w.Start).ToList();
                return windows.Zip(windows.Skip(1)).Where(p => p.Second.Start < p.First.End)
                    .Select(p => $"{g.Key}: {p.First.Peer} until {Ms(p.First.End)} ms, {p.Second.Peer} from {Ms(p.Second.Start)} ms");
            })
            .ToList();
        overlaps.Should().BeEmpty("a row is leased to one process for as long as it may send it");

        var peers = _ingress.Calls.Select(c => c.Peer).Distinct().Count();
        peers.Should().BeGreaterThan(1, "both hosts sent (the test exercises the shared table)");
        receipts.Should().AllSatisfy(r => _ingress.ByKey.Should().ContainKey(r.IdempotencyKey), "no acknowledged event is lost");
    }

    [Fact]
    public async Task A_lease_no_longer_than_the_transports_publish_timeout_is_refused_naming_both()
    {
        await using var transport = new GrpcBatchEmitter(new GrpcIngressOptions { Endpoint = _ingress.Endpoint, PublishTimeout = TimeSpan.FromSeconds(5) });
        var make = () => new DurableEventEmitter(new MemDurableEventStore(), transport, new DurableEmitterOptions { RetransmitAfter = TimeSpan.FromSeconds(5) });

        make.Should().Throw<ArgumentException>().WithMessage("*RetransmitAfter (00:00:05) must exceed the transport's publish timeout (00:00:05)*");
    }

    private static long Ms(long timestamp) => (long)Stopwatch.GetElapsedTime(0, timestamp).TotalMilliseconds % 100_000;
}
