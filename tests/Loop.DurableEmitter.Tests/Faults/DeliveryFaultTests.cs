using System.Collections.Concurrent;
using Loop.Events.CloudEvents;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Faults;

/// <summary>End to end on real PostgreSQL and a real gRPC ingress: normal delivery and outages.</summary>
[Collection(PostgresCollection.Name)]
public sealed class DeliveryFaultTests(SharedPostgres pg) : IAsyncLifetime
{
    private TestIngress _ingress = null!;

    public async Task InitializeAsync() => _ingress = await TestIngress.StartAsync();

    public async Task DisposeAsync() => await _ingress.DisposeAsync();

    [Fact]
    public async Task Events_are_delivered_marked_and_purged()
    {
        await using var h = new PgIngressHarness(pg.Fixture.DataSource, _ingress);
        await h.Emitter.StartAsync();

        var receipts = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => h.EmitAsync($"event {i}").AsTask()));

        await Eventually.WaitAsync(() => receipts.All(r => _ingress.ByKey.ContainsKey(r.IdempotencyKey)), "all 500 events at the ingress");
        await Eventually.WaitAsync(async () => await h.PendingAsync() == 0, "all rows marked delivered");
        await Eventually.WaitAsync(
            async () =>
            {
                h.Time.Advance(h.Options.PurgeInterval);
                return (await h.Store.ObserveDurableQueueAsync(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5))).TotalRows == 0;
            },
            "delivered rows purged");
    }

    [Fact]
    public async Task The_backlog_drains_when_the_ingress_comes_back_and_nothing_is_lost()
    {
        await using var h = new PgIngressHarness(pg.Fixture.DataSource, _ingress, configure: o => o.RetransmitBatchSize = 50);
        await h.Emitter.StartAsync();
        await h.EmitAsync("before the outage");
        await Eventually.WaitAsync(() => _ingress.Received.Count == 1, "the first event");

        await _ingress.StopAsync();
        var during = new List<EmitReceipt>();
        for (var i = 0; i < 300; i++)
        {
            during.Add(await h.EmitAsync($"during {i}")); // emits keep succeeding: the events are stored
        }

        await Eventually.WaitAsync(() => h.Emitter.InFlight == 0, "the failed sends to settle");
        (await h.PendingAsync()).Should().Be(300);

        // The outage lasts a few retransmit periods: passes that fail change nothing.
        h.MakeEverythingDue();
        await Eventually.WaitAsync(() => h.Emitter.InFlight == 0, "failed retransmits to settle");

        await _ingress.StartAgainAsync();
        await Eventually.WaitAsync(
            async () =>
            {
                h.Time.Advance(h.Options.RetransmitInterval + h.Options.RetransmitAfter);
                return await h.PendingAsync() == 0;
            },
            "the backlog to drain");

        during.Should().AllSatisfy(r => _ingress.ByKey.Should().ContainKey(r.IdempotencyKey));
    }

    [Fact]
    public async Task Single_event_fallback_delivers_when_a_batch_fails()
    {
        _ingress.Mode = IngressMode.RejectEveryOther;
        await using var h = new PgIngressHarness(pg.Fixture.DataSource, _ingress, configure: o => o.FallbackEnabled = true);
        await h.Emitter.StartAsync();

        var receipts = new List<EmitReceipt>();
        for (var i = 0; i < 10; i++)
        {
            receipts.Add(await h.EmitAsync($"fallback {i}"));
        }

        // Rejected events go again through unary Publish (a batch of one: the ingress accepts index 0).
        await Eventually.WaitAsync(() => receipts.All(r => _ingress.ByKey.ContainsKey(r.IdempotencyKey)), "every event delivered");
        await Eventually.WaitAsync(async () => await h.PendingAsync() == 0, "every row marked");
        _ingress.UnaryCalls.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Two_emitters_on_one_table_deliver_everything_and_never_retransmit_the_same_row_at_once()
    {
        var table = PostgresFixture.UniqueTable();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var a = new PgIngressHarness(pg.Fixture.DataSource, _ingress, table, time: time);
        await using var b = new PgIngressHarness(pg.Fixture.DataSource, _ingress, table, time: time);
        await a.Emitter.StartAsync();
        await b.Emitter.StartAsync();

        _ingress.Mode = IngressMode.Unavailable;
        var receipts = new ConcurrentBag<EmitReceipt>();
        await Task.WhenAll(
            Task.Run(async () => { for (var i = 0; i < 100; i++) { receipts.Add(await a.EmitAsync($"a {i}")); } }),
            Task.Run(async () => { for (var i = 0; i < 100; i++) { receipts.Add(await b.EmitAsync($"b {i}")); } }));
        await Eventually.WaitAsync(() => a.Emitter.InFlight == 0 && b.Emitter.InFlight == 0, "failed first sends to settle");
        _ingress.Received.Should().BeEmpty();

        _ingress.Mode = IngressMode.Accept;
        time.Advance(a.Options.RetransmitAfter + a.Options.RetransmitInterval);
        await Task.WhenAll(a.Emitter.RetransmitNowAsync(), b.Emitter.RetransmitNowAsync());
        await Eventually.WaitAsync(async () => await a.PendingAsync() == 0, "every row delivered");

        receipts.Should().HaveCount(200);
        receipts.Should().AllSatisfy(r => _ingress.ByKey.Should().ContainKey(r.IdempotencyKey));
        _ingress.ByKey.Values.Should().AllSatisfy(n => n.Should().Be(1, "a leased row is retransmitted by one emitter only"));
    }

    [Fact]
    public async Task Corrupt_rows_in_postgres_are_skipped_and_counted()
    {
        await using var h = new PgIngressHarness(pg.Fixture.DataSource, _ingress, configure: o => o.RetransmitBatchSize = 1);
        using var corrupt = h.Meters.Collect("loop.emitter.corrupt");
        await h.Store.InitializeAsync();
        await h.Store.InsertAsync(new byte[] { 0xde, 0xad, 0xbe, 0xef }, null);
        var good = new CloudEvent { Id = "pg-good", Source = "s", Type = "t", SpecVersion = "1.0" };
        await h.Store.InsertAsync(Google.Protobuf.MessageExtensions.ToByteArray(good), null);
        await h.Emitter.StartAsync();

        await Eventually.WaitAsync(
            () =>
            {
                h.Time.Advance(h.Options.RetransmitInterval);
                return _ingress.Received.Any(e => e.Id == "pg-good");
            },
            "the good row behind the corrupt one");

        // The ingress has the good event; its delivery mark may still be lingering on the fake clock.
        await Eventually.WaitAsync(
            async () =>
            {
                h.Time.Advance(h.Options.MarkDeliveredFlushInterval);
                return await h.PendingAsync() <= 1;
            },
            "the good row marked delivered");
        corrupt.Total().Should().BeGreaterThanOrEqualTo(1);
        (await h.PendingAsync()).Should().Be(1, "the corrupt row is kept until it expires");
    }

    [Fact]
    public async Task Events_older_than_the_ttl_expire_in_postgres()
    {
        _ingress.Mode = IngressMode.Unavailable;
        await using var h = new PgIngressHarness(pg.Fixture.DataSource, _ingress, configure: o => { o.EventTtl = TimeSpan.FromMinutes(10); o.ExpiryInterval = TimeSpan.FromMinutes(1); });
        using var expired = h.Meters.Collect("loop.emitter.expired");
        await h.Emitter.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await h.EmitAsync($"old {i}");
        }

        await Eventually.WaitAsync(
            () =>
            {
                h.Time.Advance(TimeSpan.FromMinutes(1));
                return expired.Total() == 5;
            },
            "five expiries counted");
        (await h.PendingAsync()).Should().Be(0);
    }
}
