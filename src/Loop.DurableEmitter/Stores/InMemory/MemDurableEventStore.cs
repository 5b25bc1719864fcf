using Loop.DurableEmitter.Stores;
using Loop.Events;

namespace Loop.DurableEmitter;

/// <summary>
/// An <see cref="IDurableEventStore"/> in process memory, with the same semantics as the PostgreSQL store (delivered
/// rows stay until purged, leases, cursors). Durable only for the life of the process: for tests, demos and hosts
/// that accept losing the backlog on a crash.
/// </summary>
public sealed class MemDurableEventStore : IDurableEventStore, IBatchInserter, IDurableQueueObserver
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, Row> _rows = [];
    private readonly TimeProvider _timeProvider;
    private long _nextId;

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock for creation and delivery times; <see cref="TimeProvider.System"/> when null.</param>
    public MemDurableEventStore(TimeProvider? timeProvider = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Rows present, delivered but unpurged included.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _rows.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<long> InsertAsync(ReadOnlyMemory<byte> payload, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = StoreClock.Now(_timeProvider);
        lock (_gate)
        {
            var id = ++_nextId;
            _rows.Add(id, new Row(payload.ToArray(), now) { LeaseUntil = Lease(leaseUntil) });
            return ValueTask.FromResult(id);
        }
    }

    /// <inheritdoc />
    public ValueTask ReleaseLeasesAsync(IReadOnlyList<DurableLease> leases, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leases);
        lock (_gate)
        {
            foreach (var lease in leases)
            {
                // Only a lease still as given: one taken by a later claim ends later and stays.
                if (_rows.TryGetValue(lease.Id, out var row) && row.DeliveredAt is null && row.LeaseUntil is { } until && until <= StoreClock.Truncate(lease.Until))
                {
                    row.LeaseUntil = null;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<long[]> InsertBatchAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        cancellationToken.ThrowIfCancellationRequested();
        var now = StoreClock.Now(_timeProvider);
        var ids = new long[payloads.Count];
        lock (_gate)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = ++_nextId;
                _rows.Add(ids[i], new Row(payloads[i].ToArray(), now) { LeaseUntil = Lease(leaseUntil) });
            }
        }

        return ValueTask.FromResult(ids);
    }

    /// <inheritdoc />
    public ValueTask DeleteAsync(long id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _rows.Remove(id);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask MarkDeliveredAsync(long id, CancellationToken cancellationToken = default) =>
        await MarkDeliveredBatchAsync([id], cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public ValueTask<long> MarkDeliveredBatchAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var now = StoreClock.Now(_timeProvider);
        long marked = 0;
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if (_rows.TryGetValue(id, out var row) && row.DeliveredAt is null)
                {
                    row.DeliveredAt = now;
                    row.LeaseUntil = null;
                    marked++;
                }
            }
        }

        return ValueTask.FromResult(marked);
    }

    /// <inheritdoc />
    public ValueTask<long> PurgeDeliveredAsync(int batchLimit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchLimit);
        lock (_gate)
        {
            var victims = _rows.Where(r => r.Value.DeliveredAt is not null)
                .OrderBy(r => r.Value.DeliveredAt)
                .Take(batchLimit)
                .Select(r => r.Key)
                .ToList();
            foreach (var id in victims)
            {
                _rows.Remove(id);
            }

            return ValueTask.FromResult((long)victims.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<DurableEvent>> ListPendingAsync(
        DateTimeOffset createdBefore, PendingCursor? after, int limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<DurableEvent>>(SelectPending(createdBefore, after, limit, leasedAt: null, lease: TimeSpan.Zero));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<DurableEvent>> ClaimPendingAsync(
        DateTimeOffset createdBefore, PendingCursor? after, int limit, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var now = StoreClock.Now(_timeProvider);
        lock (_gate)
        {
            return ValueTask.FromResult<IReadOnlyList<DurableEvent>>(SelectPending(createdBefore, after, limit, now, lease));
        }
    }

    /// <inheritdoc />
    public ValueTask<long> DeleteExpiredAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        var cutoff = StoreClock.Now(_timeProvider) - ttl;
        lock (_gate)
        {
            var victims = _rows.Where(r => r.Value.DeliveredAt is null && r.Value.CreatedAt <= cutoff).Select(r => r.Key).ToList();
            foreach (var id in victims)
            {
                _rows.Remove(id);
            }

            return ValueTask.FromResult((long)victims.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<DurableQueueStats> ObserveDurableQueueAsync(
        TimeSpan eventTtl, TimeSpan nearExpiryLead, CancellationToken cancellationToken = default)
    {
        var now = StoreClock.Now(_timeProvider);
        var nearCutoff = now - (eventTtl - nearExpiryLead);
        lock (_gate)
        {
            long depth = 0, bytes = 0, near = 0;
            DateTimeOffset? oldest = null;
            foreach (var row in _rows.Values)
            {
                if (row.DeliveredAt is not null)
                {
                    continue;
                }

                depth++;
                bytes += row.Payload.Length;
                near += row.CreatedAt <= nearCutoff ? 1 : 0;
                oldest = oldest is null || row.CreatedAt < oldest ? row.CreatedAt : oldest;
            }

            var age = oldest is { } o && now > o ? now - o : TimeSpan.Zero;
            return ValueTask.FromResult(new DurableQueueStats(depth, _rows.Count, bytes, age, near));
        }
    }

    private List<DurableEvent> SelectPending(DateTimeOffset createdBefore, PendingCursor? after, int limit, DateTimeOffset? leasedAt, TimeSpan lease)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var result = new List<DurableEvent>(Math.Min(limit, 256));
        foreach (var (id, row) in _rows.OrderBy(r => r.Value.CreatedAt).ThenBy(r => r.Key))
        {
            if (result.Count == limit || row.CreatedAt >= createdBefore)
            {
                break;
            }

            if (row.DeliveredAt is not null || (after is { } c && (row.CreatedAt, id).CompareTo((c.CreatedAt, c.Id)) <= 0))
            {
                continue;
            }

            if (leasedAt is { } now)
            {
                if (row.LeaseUntil is { } until && until > now)
                {
                    continue;
                }

                row.LeaseUntil = now + lease;
            }

            result.Add(new DurableEvent(id, row.Payload, row.CreatedAt) { LeaseUntil = leasedAt is null ? null : row.LeaseUntil });
        }

        return result;
    }

    private static DateTimeOffset? Lease(DateTimeOffset? until) => until is { } value ? StoreClock.Truncate(value) : null;

    private sealed class Row(byte[] payload, DateTimeOffset createdAt)
    {
        public byte[] Payload { get; } = payload;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public DateTimeOffset? DeliveredAt { get; set; }

        public DateTimeOffset? LeaseUntil { get; set; }
    }
}
