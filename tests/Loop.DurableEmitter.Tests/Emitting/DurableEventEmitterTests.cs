using System.Text;
using Loop.Events;
using Loop.Events.CloudEvents;
using Loop.Services;
using Loop.Testing;

namespace Loop.DurableEmitter.Tests.Emitting;

public sealed class DurableEmitterTests
{
    [Fact]
    public async Task Emit_stores_a_cloud_event_and_delivers_it_then_marks_it_delivered()
    {
        await using var h = new EmitterHarness();
        await h.Emitter.StartAsync();

        var receipt = await h.Emitter.EmitAsync(
            Encoding.UTF8.GetBytes("hello"),
            new EventAttributes
            {
                Source = "svc",
                Type = "thing.happened",
                Subject = "order-7",
                DataSchema = "/schemas/thing",
                Time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
                Extensions = new Dictionary<string, string> { ["tenant"] = "acme" },
            });

        await Eventually.WaitAsync(() => h.Delivered.Count == 1, "the event to be delivered");
        var e = h.Delivered[0];
        e.Id.Should().Be(receipt.EventId);
        e.Source.Should().Be("svc");
        e.Type.Should().Be("thing.happened");
        e.SpecVersion.Should().Be("1.0");
        e.ProtoData.Value.ToStringUtf8().Should().Be("hello");
        e.ProtoData.TypeUrl.Should().Be("/schemas/thing");
        e.Attributes["subject"].CeString.Should().Be("order-7");
        e.Attributes["dataschema"].CeUri.Should().Be("/schemas/thing");
        e.Attributes["datacontenttype"].CeString.Should().Be("application/octet-stream", "raw bytes are not labelled protobuf unless the caller says so");
        e.Attributes["time"].CeTimestamp.ToDateTimeOffset().Should().Be(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        e.Attributes["recordedtime"].CeTimestamp.ToDateTimeOffset().Should().Be(h.Time.GetUtcNow());
        e.Attributes["idempotencykey"].CeString.Should().Be(IdempotencyKey.Compute("svc", "thing.happened", Encoding.UTF8.GetBytes("hello")));
        e.Attributes["emitter"].CeString.Should().Be("DurableEmitter");
        e.Attributes["tenant"].CeString.Should().Be("acme");
        e.Attributes["seqnum"].CeString.Should().Be("1");
        await Eventually.WaitAsync(async () => await h.PendingAsync() == 0, "the row to be marked delivered");
        await Eventually.WaitAsync(() => h.Emitter.InFlight == 0, "nothing in flight");
    }

    [Fact]
    public async Task The_stored_payload_has_no_seqnum_and_a_caller_key_is_kept()
    {
        await using var h = new EmitterHarness(o => o.InsertBatchSize = 0);
        h.Subscriber = (_, _) => throw new InvalidOperationException("keep it pending");
        await h.Emitter.StartAsync();

        await h.Emitter.EmitAsync(new byte[] { 1 }, EmitterHarness.Attributes() with { IdempotencyKey = "caller-key" });

        var row = (await h.Store.ListPendingAsync(h.Time.GetUtcNow().AddSeconds(1), null, 10)).Single();
        var stored = CloudEvent.Parser.ParseFrom(row.Payload.Span);
        stored.Attributes.Should().NotContainKey("seqnum");
        stored.Attributes["idempotencykey"].CeString.Should().Be("caller-key");
    }

    [Theory]
    [InlineData(null, "t", "Source")]
    [InlineData("s", null, "Type")]
    [InlineData(" ", "t", "Source")]
    public async Task Missing_source_or_type_is_a_typed_error_and_nothing_is_stored(string? source, string? type, string attribute)
    {
        await using var h = new EmitterHarness();
        await h.Emitter.StartAsync();

        // Null at run time is what a caller without nullable checks can still pass.
        var emit = () => h.Emitter.EmitAsync(new byte[] { 1 }, new EventAttributes { Source = source!, Type = type! }).AsTask();

        (await emit.Should().ThrowAsync<InvalidEventException>()).Which.ParamName.Should().Be(attribute);
        (await h.PendingAsync()).Should().Be(0);
    }

    [Fact]
    public async Task A_bad_extension_name_is_refused()
    {
        await using var h = new EmitterHarness();
        await h.Emitter.StartAsync();
        var emit = () => h.Emitter.EmitAsync(new byte[] { 1 }, EmitterHarness.Attributes() with { Extensions = new Dictionary<string, string> { ["Bad-Name"] = "x" } }).AsTask();
        await emit.Should().ThrowAsync<InvalidEventException>().WithMessage("*Bad-Name*");
    }

    [Fact]
    public async Task Emit_before_start_or_after_stop_is_a_state_error()
    {
        await using var h = new EmitterHarness();
        var before = () => h.EmitAsync("x");
        (await before.Should().ThrowAsync<ServiceStateException>()).Which.State.Should().Be(ServiceState.Unstarted);

        await h.Emitter.StartAsync();
        await h.EmitAsync("ok");
        await h.Emitter.StopAsync();

        var after = () => h.EmitAsync("x");
        await after.Should().ThrowAsync<ServiceStateException>().WithMessage("*cannot emit*");
    }

    [Fact]
    public async Task A_failed_delivery_is_retransmitted_after_RetransmitAfter()
    {
        await using var h = new EmitterHarness();
        var fail = true;
        h.Subscriber = (_, _) => fail ? throw new InvalidOperationException("ingress down") : ValueTask.CompletedTask;
        await h.Emitter.StartAsync();

        await h.EmitAsync("one");
        await h.EmitAsync("two");
        await Eventually.WaitAsync(() => h.Emitter.InFlight == 0, "the failed sends to settle");
        h.Delivered.Should().BeEmpty();
        (await h.PendingAsync()).Should().Be(2);

        fail = false;
        // The loop ticks every 5 s and takes rows strictly older than 10 s: due at the 15 s tick.
        h.Time.Advance(h.Options.RetransmitAfter + h.Options.RetransmitInterval);
        await Eventually.WaitAsync(() => h.Delivered.Count == 2, "both events to be retransmitted");
        await Eventually.WaitAsync(async () => await h.PendingAsync() == 0, "both rows marked delivered");
        h.Delivered.Select(e => e.ProtoData.Value.ToStringUtf8()).Should().BeEquivalentTo("one", "two");
    }

    [Fact]
    public async Task An_event_still_in_flight_is_not_sent_twice()
    {
        await using var h = new EmitterHarness();
        var release = new TaskCompletionSource();
        var sends = 0;
        h.Subscriber = async (batch, ct) =>
        {
            Interlocked.Add(ref sends, batch.Count);
            await release.Task.WaitAsync(ct);
        };
        await h.Emitter.StartAsync();
        await h.EmitAsync("slow");
        await Eventually.WaitAsync(() => Volatile.Read(ref sends) == 1, "the first send to start");

        h.Time.Advance(TimeSpan.FromMinutes(1));
        await h.Emitter.RetransmitNowAsync();
        await h.Emitter.RetransmitNowAsync();

        Volatile.Read(ref sends).Should().Be(1, "the row is in flight");
        release.SetResult();
        await Eventually.WaitAsync(async () => await h.PendingAsync() == 0, "the slow send to be marked");
        h.Delivered.Should().HaveCount(1);
    }

    [Fact]
    public async Task Concurrent_emits_are_coalesced_into_fewer_inserts()
    {
        var store = new CountingStore();
        await using var h = new EmitterHarness(o => { o.InsertBatchSize = 100; o.InsertBatchWorkers = 2; }, store);
        var gate = new TaskCompletionSource();
        store.BeforeBatch = gate.Task; // hold the first batch so the rest pile up
        await h.Emitter.StartAsync();

        var emits = Enumerable.Range(0, 300).Select(i => h.EmitAsync($"e{i}")).ToList();
        await Eventually.WaitAsync(() => store.BatchCalls >= 1, "a first batch insert");
        gate.SetResult();
        var receipts = await Task.WhenAll(emits);

        receipts.Select(r => r.RowId).Should().OnlyHaveUniqueItems();
        store.BatchCalls.Should().BeLessThan(300 / 2, "300 concurrent emits share multi-row inserts");
        store.SingleCalls.Should().Be(0);
        await Eventually.WaitAsync(() => h.Delivered.Count == 300, "all 300 delivered");
    }

    [Fact]
    public async Task Every_caller_in_a_failed_batch_gets_the_error_and_nothing_is_claimed()
    {
        var store = new CountingStore { FailBatches = true };
        await using var h = new EmitterHarness(o => o.InsertBatchSize = 50, store);
        await h.Emitter.StartAsync();

        var emits = Enumerable.Range(0, 20).Select(i => h.EmitAsync($"e{i}")).ToList();
        foreach (var emit in emits)
        {
            var act = () => emit;
            (await act.Should().ThrowAsync<EventPersistenceException>()).Which.Message.Should().Contain("failed to persist event").And.Contain("disk on fire");
        }

        h.Delivered.Should().BeEmpty();
    }

    [Fact]
    public async Task Undelivered_events_expire_after_the_ttl_and_are_counted()
    {
        await using var h = new EmitterHarness(o => { o.EventTtl = TimeSpan.FromMinutes(30); o.ExpiryInterval = TimeSpan.FromMinutes(1); });
        using var expired = h.Meters.Collect("loop.emitter.expired");
        h.Subscriber = (_, _) => throw new InvalidOperationException("never accepted");
        await h.Emitter.StartAsync();
        await h.EmitAsync("doomed");
        await Eventually.WaitAsync(() => h.Emitter.InFlight == 0, "the failed send to settle");

        for (var i = 0; i < 31; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(1));
        }

        await Eventually.WaitAsync(async () => await h.PendingAsync() == 0, "the event to expire");
        await Eventually.WaitAsync(() => expired.Total() == 1, "the expiry to be counted");
    }

    [Fact]
    public async Task Corrupt_rows_are_skipped_and_counted_and_do_not_block_the_rest()
    {
        await using var h = new EmitterHarness(o => o.RetransmitBatchSize = 2);
        using var corrupt = h.Meters.Collect("loop.emitter.corrupt");
        await h.Store.InsertAsync(new byte[] { 0xFF, 0xFF, 0xFF }, null);
        await h.Store.InsertAsync(Encoding.UTF8.GetBytes("not a cloud event"), null);
        var good = new CloudEvent { Id = "good-1", Source = "s", Type = "t", SpecVersion = "1.0" };
        await h.Store.InsertAsync(Google.Protobuf.MessageExtensions.ToByteArray(good), null);
        await h.Emitter.StartAsync();

        h.Time.Advance(TimeSpan.FromSeconds(15));
        await Eventually.WaitAsync(() => h.Delivered.Any(e => e.Id == "good-1"), "the good row behind two corrupt ones");
        corrupt.Total().Should().Be(2);
    }

    [Fact]
    public async Task A_full_transport_buffer_does_not_fail_the_emit_and_the_row_is_sent_later()
    {
        await using var h = new EmitterHarness(bufferSize: 1);
        using var full = h.Meters.Collect("loop.emitter.refused");
        var release = new TaskCompletionSource();
        h.Subscriber = async (_, ct) => await release.Task.WaitAsync(ct);
        await h.Emitter.StartAsync();

        var receipts = new List<EmitReceipt>();
        for (var i = 0; i < 8; i++)
        {
            receipts.Add(await h.EmitAsync($"e{i}"));
        }

        full.Total().Should().BeGreaterThan(0);
        release.SetResult();

        // Each poll moves the clock a retransmit period on; refused rows come back once their lease ends.
        await Eventually.WaitAsync(
            async () =>
            {
                h.Time.Advance(TimeSpan.FromSeconds(15));
                return await h.PendingAsync() == 0;
            },
            "every refused row to be retransmitted");
        h.Delivered.Select(e => e.Id).Should().Contain(receipts.Select(r => r.EventId));
    }

    /// <summary>
    /// Marks are few and large by default: a mark statement's own cost, not its rows, dominated end to end at 64
    /// callers (with 100 ids a mark, delivery took a fifth more of the emit rate than with 1,000).
    /// </summary>
    [Fact]
    public async Task A_thousand_deliveries_within_the_linger_are_marked_in_one_or_two_statements()
    {
        var marks = new System.Collections.Concurrent.ConcurrentQueue<int>();
        await using var h = new EmitterHarness(o =>
        {
            o.MarkDeliveredFlushInterval = DurableEmitterOptions.DefaultMarkDeliveredFlushInterval;
            o.Hooks = new DurableEmitterHooks { OnBatchMarkDelivered = (_, count) => marks.Enqueue(count) };
        });
        await h.Emitter.StartAsync();

        for (var i = 0; i < 1000; i++)
        {
            await h.EmitAsync($"e{i}");
        }

        await Eventually.WaitAsync(() => h.Delivered.Count == 1000, "1,000 events delivered");
        h.Time.Advance(DurableEmitterOptions.DefaultMarkDeliveredFlushInterval);
        await Eventually.WaitAsync(() => marks.Sum() == 1000, "1,000 events marked");

        // Two mark workers may each gather a share while the linger runs.
        marks.Count.Should().BeLessThanOrEqualTo(2, "1,000 marks fit the default batch: {0}", string.Join(", ", marks));
    }

    [Fact]
    public async Task Hooks_see_inserts_publishes_and_marks()
    {
        var inserts = 0;
        var publishes = 0;
        var marked = 0;
        await using var h = new EmitterHarness(o => o.Hooks = new DurableEmitterHooks
        {
            OnEmitInsert = (_, error) => { if (error is null) { Interlocked.Increment(ref inserts); } },
            OnBatchPublish = (_, size, error) => { if (error is null) { Interlocked.Add(ref publishes, size); } },
            OnBatchMarkDelivered = (_, count) => Interlocked.Add(ref marked, count),
        });
        await h.Emitter.StartAsync();

        for (var i = 0; i < 5; i++)
        {
            await h.EmitAsync($"e{i}");
        }

        await Eventually.WaitAsync(() => Volatile.Read(ref marked) == 5, "five marks");
        inserts.Should().Be(5);
        publishes.Should().Be(5);
    }

    [Fact]
    public async Task A_process_that_does_not_retransmit_still_delivers_but_never_retransmits_or_expires()
    {
        await using var h = new EmitterHarness(o => o.RetransmitEnabled = false);
        var fail = true;
        h.Subscriber = (_, _) => fail ? throw new InvalidOperationException("down") : ValueTask.CompletedTask;
        await h.Emitter.StartAsync();
        await h.EmitAsync("first");
        await Eventually.WaitAsync(() => h.Emitter.InFlight == 0, "the failed send");

        fail = false;
        await h.EmitAsync("second");
        await Eventually.WaitAsync(() => h.Delivered.Count == 1, "the second event");
        h.Time.Advance(TimeSpan.FromHours(2));
        await Eventually.WaitAsync(() => h.Emitter.InFlight == 0, "settled");

        h.Delivered.Select(e => e.ProtoData.Value.ToStringUtf8()).Should().Equal("second");
        (await h.PendingAsync()).Should().Be(1, "the host, not this process, retransmits or expires the first event");
    }

    [Fact]
    public async Task Queue_gauges_are_published_from_the_store()
    {
        await using var h = new EmitterHarness(o => o.MaxQueuePayloadBytes = 1000);
        using var ratio = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(
            h.Meters.Factory, DurableEventEmitter.MeterName, "loop.emitter.queue.capacity.usage");
        await h.Store.InsertAsync(new byte[250], null);
        await h.Emitter.StartAsync();

        h.Time.Advance(h.Options.MetricsPollInterval);
        await Eventually.WaitAsync(() => { ratio.RecordObservableInstruments(); return ratio.LastMeasurement?.Value == 0.25; }, "capacity ratio 0.25");
    }

    private sealed class CountingStore : IDurableEventStore, IBatchInserter
    {
        private readonly MemDurableEventStore _inner = new();
        private int _batchCalls;
        private int _singleCalls;

        public int BatchCalls => Volatile.Read(ref _batchCalls);

        public int SingleCalls => Volatile.Read(ref _singleCalls);

        public Task? BeforeBatch { get; set; }

        public bool FailBatches { get; init; }

        public async ValueTask<long[]> InsertBatchAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _batchCalls);
            if (BeforeBatch is { } gate)
            {
                await gate;
            }

            return FailBatches ? throw new InvalidOperationException("disk on fire") : await _inner.InsertBatchAsync(payloads, leaseUntil, cancellationToken);
        }

        public ValueTask<long> InsertAsync(ReadOnlyMemory<byte> payload, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _singleCalls);
            return _inner.InsertAsync(payload, leaseUntil, cancellationToken);
        }

        public ValueTask ReleaseLeasesAsync(IReadOnlyList<DurableLease> leases, CancellationToken cancellationToken = default) => _inner.ReleaseLeasesAsync(leases, cancellationToken);

        public ValueTask DeleteAsync(long id, CancellationToken cancellationToken = default) => _inner.DeleteAsync(id, cancellationToken);

        public ValueTask MarkDeliveredAsync(long id, CancellationToken cancellationToken = default) => _inner.MarkDeliveredAsync(id, cancellationToken);

        public ValueTask<long> MarkDeliveredBatchAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken = default) => _inner.MarkDeliveredBatchAsync(ids, cancellationToken);

        public ValueTask<long> PurgeDeliveredAsync(int batchLimit, CancellationToken cancellationToken = default) => _inner.PurgeDeliveredAsync(batchLimit, cancellationToken);

        public ValueTask<IReadOnlyList<DurableEvent>> ListPendingAsync(DateTimeOffset createdBefore, PendingCursor? after, int limit, CancellationToken cancellationToken = default) =>
            _inner.ListPendingAsync(createdBefore, after, limit, cancellationToken);

        public ValueTask<IReadOnlyList<DurableEvent>> ClaimPendingAsync(DateTimeOffset createdBefore, PendingCursor? after, int limit, TimeSpan lease, CancellationToken cancellationToken = default) =>
            _inner.ClaimPendingAsync(createdBefore, after, limit, lease, cancellationToken);

        public ValueTask<long> DeleteExpiredAsync(TimeSpan ttl, CancellationToken cancellationToken = default) => _inner.DeleteExpiredAsync(ttl, cancellationToken);
    }
}
