using Loop.Events;
using Microsoft.Extensions.Time.Testing;

namespace Loop.DurableEmitter.Tests.Stores;

/// <summary>The semantics every <see cref="IDurableEventStore"/> must have; run against each store.</summary>
public abstract class StoreContractTests
{
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    protected abstract Task<IDurableEventStore> CreateStoreAsync();

    /// <summary>False for stores that delete a row when it is marked delivered.</summary>
    protected virtual bool KeepsDeliveredRows => true;

    private static byte[] Payload(int n) => [(byte)n, (byte)(n >> 8), 0xAB];

    [Fact]
    public async Task Inserted_events_are_pending_in_creation_order_with_their_payloads()
    {
        var store = await CreateStoreAsync();
        var first = await store.InsertAsync(Payload(1), null);
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await store.InsertAsync(Payload(2), null);
        Time.Advance(TimeSpan.FromSeconds(1));

        var pending = await store.ListPendingAsync(Time.GetUtcNow(), null, 10);

        pending.Select(e => e.Id).Should().Equal(first, second);
        pending[0].Payload.ToArray().Should().Equal(Payload(1));
        pending[1].CreatedAt.Should().Be(Time.GetUtcNow() - TimeSpan.FromSeconds(1));
        second.Should().BeGreaterThan(first);
    }

    [Fact]
    public async Task ListPending_respects_the_cutoff_the_cursor_and_the_limit()
    {
        var store = await CreateStoreAsync();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await store.InsertAsync(Payload(i), null));
        }

        var cutoff = Time.GetUtcNow(); // all five share this creation time: strictly before excludes them
        (await store.ListPendingAsync(cutoff, null, 10)).Should().BeEmpty();

        Time.Advance(TimeSpan.FromMilliseconds(1));
        var page1 = await store.ListPendingAsync(Time.GetUtcNow(), null, 2);
        page1.Select(e => e.Id).Should().Equal(ids[0], ids[1]);

        // Identical timestamps: the id breaks the tie, so the cursor pages through them exactly once.
        var page2 = await store.ListPendingAsync(Time.GetUtcNow(), new PendingCursor(page1[^1].CreatedAt, page1[^1].Id), 2);
        page2.Select(e => e.Id).Should().Equal(ids[2], ids[3]);
        var page3 = await store.ListPendingAsync(Time.GetUtcNow(), new PendingCursor(page2[^1].CreatedAt, page2[^1].Id), 2);
        page3.Select(e => e.Id).Should().Equal(ids[4]);
    }

    [Fact]
    public async Task InsertBatch_returns_ids_in_input_order()
    {
        var store = await CreateStoreAsync();
        var inserter = store.Should().BeAssignableTo<IBatchInserter>().Subject;

        var ids = await inserter.InsertBatchAsync([.. Enumerable.Range(0, 50).Select(i => (ReadOnlyMemory<byte>)Payload(i))], null);
        Time.Advance(TimeSpan.FromSeconds(1));

        ids.Should().HaveCount(50).And.BeInAscendingOrder().And.OnlyHaveUniqueItems();
        var pending = await store.ListPendingAsync(Time.GetUtcNow(), null, 100);
        pending.Select(e => e.Id).Should().Equal(ids);
        for (var i = 0; i < 50; i++)
        {
            pending[i].Payload.ToArray().Should().Equal(Payload(i), $"row {i} must hold payload {i}");
        }
    }

    [Fact]
    public async Task Concurrent_batches_of_any_size_get_distinct_ids_each_holding_its_own_payload()
    {
        // Sizes around and beyond the Pg binary COPY's id reservation block (1,024), from several writers at once.
        var store = await CreateStoreAsync();
        var inserter = store.Should().BeAssignableTo<IBatchInserter>().Subject;
        int[] sizes = [1, 700, 37, 1500, 400, 3];
        var written = await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            var rows = new List<(long Id, byte[] Payload)>();
            foreach (var size in sizes)
            {
                var payloads = Enumerable.Range(0, size).Select(i => (byte[])[(byte)writer, (byte)size, (byte)(size >> 8), (byte)i, (byte)(i >> 8)]).ToArray();
                var ids = await inserter.InsertBatchAsync([.. payloads.Select(p => (ReadOnlyMemory<byte>)p)], null);
                ids.Should().BeInAscendingOrder();
                rows.AddRange(ids.Zip(payloads));
            }

            return rows;
        })));
        Time.Advance(TimeSpan.FromSeconds(1));

        var expected = written.SelectMany(w => w).ToList();
        expected.Select(r => r.Id).Should().OnlyHaveUniqueItems();
        var stored = (await store.ListPendingAsync(Time.GetUtcNow(), null, expected.Count + 1)).ToDictionary(e => e.Id, e => e.Payload.ToArray());
        stored.Should().HaveCount(expected.Count);
        foreach (var (id, payload) in expected)
        {
            stored[id].Should().Equal(payload, $"row {id} must hold the payload its id was returned for");
        }
    }

    [Fact]
    public async Task Delivered_events_are_no_longer_pending_and_are_purged_later()
    {
        var store = await CreateStoreAsync();
        var a = await store.InsertAsync(Payload(1), null);
        var b = await store.InsertAsync(Payload(2), null);
        var c = await store.InsertAsync(Payload(3), null);
        Time.Advance(TimeSpan.FromSeconds(1));

        (await store.MarkDeliveredBatchAsync([a, b])).Should().Be(2);
        (await store.MarkDeliveredBatchAsync([a])).Should().Be(0, "a row is marked delivered once");
        await store.MarkDeliveredAsync(c);

        (await store.ListPendingAsync(Time.GetUtcNow(), null, 10)).Should().BeEmpty();
        var stats = await ((IDurableQueueObserver)store).ObserveDurableQueueAsync(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5));
        stats.Depth.Should().Be(0);
        stats.TotalRows.Should().Be(KeepsDeliveredRows ? 3 : 0, "delivered rows stay until purged, unless deleted on delivery");

        (await store.PurgeDeliveredAsync(2)).Should().Be(KeepsDeliveredRows ? 2 : 0);
        (await store.PurgeDeliveredAsync(2)).Should().Be(KeepsDeliveredRows ? 1 : 0);
        (await store.PurgeDeliveredAsync(2)).Should().Be(0);
    }

    [Fact]
    public async Task DeleteExpired_deletes_and_counts_only_old_undelivered_rows()
    {
        var store = await CreateStoreAsync();
        var oldDelivered = await store.InsertAsync(Payload(1), null);
        await store.InsertAsync(Payload(2), null);
        await store.MarkDeliveredAsync(oldDelivered);
        Time.Advance(TimeSpan.FromMinutes(30));
        var young = await store.InsertAsync(Payload(3), null);
        Time.Advance(TimeSpan.FromMinutes(31));

        var expired = await store.DeleteExpiredAsync(TimeSpan.FromHours(1));

        expired.Should().Be(1, "only the old undelivered row expires; the delivered one belongs to purge");
        var pending = await store.ListPendingAsync(Time.GetUtcNow(), null, 10);
        pending.Select(e => e.Id).Should().Equal(young);
        (await store.PurgeDeliveredAsync(10)).Should().Be(KeepsDeliveredRows ? 1 : 0);
    }

    [Fact]
    public async Task A_claimed_row_is_not_claimed_again_until_its_lease_ends()
    {
        var store = await CreateStoreAsync();
        var a = await store.InsertAsync(Payload(1), null);
        var b = await store.InsertAsync(Payload(2), null);
        Time.Advance(TimeSpan.FromSeconds(1));

        var first = await store.ClaimPendingAsync(Time.GetUtcNow(), null, 1, TimeSpan.FromSeconds(10));
        var second = await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10));
        var third = await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10));

        first.Select(e => e.Id).Should().Equal(a);
        second.Select(e => e.Id).Should().Equal(b);
        third.Should().BeEmpty("both rows are leased");

        Time.Advance(TimeSpan.FromSeconds(10));
        (await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10))).Select(e => e.Id).Should().Equal(a, b);
        (await store.ListPendingAsync(Time.GetUtcNow(), null, 10)).Should().HaveCount(2, "listing ignores leases");
    }

    [Fact]
    public async Task A_row_inserted_with_a_lease_is_not_claimed_until_it_ends_and_claims_report_their_lease()
    {
        var store = await CreateStoreAsync();
        var leased = await store.InsertAsync(Payload(1), Time.GetUtcNow() + TimeSpan.FromSeconds(30));
        var free = await store.InsertAsync(Payload(2), null);
        Time.Advance(TimeSpan.FromSeconds(1));

        var claimed = await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10));
        claimed.Select(e => e.Id).Should().Equal([free], "the inserting process holds its row");
        claimed[0].LeaseUntil.Should().Be(Time.GetUtcNow() + TimeSpan.FromSeconds(10));

        Time.Advance(TimeSpan.FromSeconds(30));
        (await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10))).Select(e => e.Id).Should().Equal(leased, free);
    }

    [Fact]
    public async Task Released_leases_free_their_rows_but_never_a_lease_another_claim_took_since()
    {
        var store = await CreateStoreAsync();
        var insertLease = Time.GetUtcNow() + TimeSpan.FromSeconds(5);
        var mine = await store.InsertAsync(Payload(1), insertLease);
        var expired = await store.InsertAsync(Payload(2), insertLease);
        Time.Advance(TimeSpan.FromSeconds(1));
        (await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10))).Should().BeEmpty();

        // My send of one row failed: I give it back at once.
        await store.ReleaseLeasesAsync([new DurableLease(mine, insertLease)]);
        (await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10))).Select(e => e.Id).Should().Equal(mine);

        // The other lease ran out and another process claimed the row: my late release must not free it.
        Time.Advance(TimeSpan.FromSeconds(5));
        var taken = await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10));
        taken.Select(e => e.Id).Should().Equal(expired);
        await store.ReleaseLeasesAsync([new DurableLease(expired, insertLease)]);
        (await store.ClaimPendingAsync(Time.GetUtcNow(), null, 10, TimeSpan.FromSeconds(10))).Should().BeEmpty("the other process's lease holds");
    }

    [Fact]
    public async Task Queue_stats_describe_the_backlog()
    {
        var store = await CreateStoreAsync();
        await store.InsertAsync(new byte[100], null);
        Time.Advance(TimeSpan.FromMinutes(56));
        await store.InsertAsync(new byte[50], null);
        var delivered = await store.InsertAsync(new byte[10], null);
        await store.MarkDeliveredAsync(delivered);
        Time.Advance(TimeSpan.FromMinutes(1));

        var stats = await ((IDurableQueueObserver)store).ObserveDurableQueueAsync(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5));

        stats.Depth.Should().Be(2);
        stats.TotalRows.Should().Be(KeepsDeliveredRows ? 3 : 2);
        stats.PayloadBytes.Should().Be(150);
        stats.OldestPendingAge.Should().Be(TimeSpan.FromMinutes(57));
        stats.NearTtlCount.Should().Be(1, "only the 57-minute-old row is within 5 minutes of the 1 h TTL");
    }

    [Fact]
    public async Task Delete_removes_a_row_and_ignores_unknown_ids()
    {
        var store = await CreateStoreAsync();
        var a = await store.InsertAsync(Payload(1), null);
        await store.DeleteAsync(a);
        await store.DeleteAsync(987654);
        Time.Advance(TimeSpan.FromSeconds(1));
        (await store.ListPendingAsync(Time.GetUtcNow(), null, 10)).Should().BeEmpty();
    }
}
