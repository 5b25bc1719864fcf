using Loop.DurableEmitter.Coalescing;
using Loop.Events;

namespace Loop.DurableEmitter;

/// <summary>
/// The emit path's write: one insert per event, or, when the store inserts batches, concurrent emits coalesced into
/// batch inserts led by the emitting callers themselves (every caller of a batch hears the batch's one outcome).
/// </summary>
internal sealed class EventPersister(IDurableEventStore store, DurableEmitterOptions options, StoreCalls calls, TimeProvider timeProvider)
{
    private readonly IBatchInserter? _inserter = options.InsertBatchSize > 0 ? store as IBatchInserter : null;
    private CallerLedBatcher<InsertRequest>? _inserts;

    /// <summary>Whether emits are coalesced into batch inserts.</summary>
    public bool Coalescing => _inserter is not null;

    public void Start()
    {
        if (_inserter is null)
        {
            return;
        }

        _inserts = new CallerLedBatcher<InsertRequest>(
            options.InsertBatchSize,
            options.InsertBatchFlushInterval,
            options.InsertBatchWorkers,
            timeProvider,
            TimeProvider.System,
            FlushAsync,
            static r => r.Result.TrySetException(new ObjectDisposedException(nameof(DurableEventEmitter), "durable emitter closed")));
    }

    /// <summary>
    /// Persists one payload leased to this process until at least <paramref name="leaseUntil"/>, and returns its id and
    /// the lease as stored (a coalesced batch stores the latest lease any of its callers asked for).
    /// </summary>
    /// <exception cref="System.Threading.Channels.ChannelClosedException">The persister is completing.</exception>
    public async ValueTask<DurableLease> InsertAsync(byte[] payload, DateTimeOffset? leaseUntil, CancellationToken cancellationToken)
    {
        if (_inserts is null)
        {
            var started = timeProvider.GetTimestamp();
            try
            {
                var id = await store.InsertAsync(payload, leaseUntil, cancellationToken).ConfigureAwait(false);
                calls.Record("insert", timeProvider.GetElapsedTime(started), null);
                return new DurableLease(id, leaseUntil ?? DateTimeOffset.MinValue);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                calls.Record("insert", timeProvider.GetElapsedTime(started), ex);
                throw;
            }
        }

        var request = new InsertRequest(payload, leaseUntil);
        await _inserts.AddAsync(request).ConfigureAwait(false);
        return await request.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes the inserts already queued; no new ones are taken.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_inserts is not null)
        {
            await _inserts.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask FlushAsync(List<InsertRequest> batch, CancellationToken cancellationToken)
    {
        var payloads = new ReadOnlyMemory<byte>[batch.Count];
        DateTimeOffset? leaseUntil = null;
        for (var i = 0; i < payloads.Length; i++)
        {
            payloads[i] = batch[i].Payload;
            if (batch[i].LeaseUntil is { } until && (leaseUntil is null || until > leaseUntil))
            {
                leaseUntil = until;
            }
        }

        var started = timeProvider.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(options.PublishTimeout, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var ids = await _inserter!.InsertBatchAsync(payloads, leaseUntil, linked.Token).ConfigureAwait(false);
            calls.Record("insert_batch", timeProvider.GetElapsedTime(started), null);
            for (var i = 0; i < ids.Length; i++)
            {
                batch[i].Result.TrySetResult(new DurableLease(ids[i], leaseUntil ?? DateTimeOffset.MinValue));
            }
        }
        catch (Exception ex)
        {
            // One outcome for the whole batch: every caller hears the same error.
            calls.Record("insert_batch", timeProvider.GetElapsedTime(started), ex);
            foreach (var request in batch)
            {
                request.Result.TrySetException(ex);
            }
        }
    }

    private sealed class InsertRequest(byte[] payload, DateTimeOffset? leaseUntil)
    {
        public byte[] Payload { get; } = payload;

        public DateTimeOffset? LeaseUntil { get; } = leaseUntil;

        public TaskCompletionSource<DurableLease> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
