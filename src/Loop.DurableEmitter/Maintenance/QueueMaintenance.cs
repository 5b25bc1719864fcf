using Loop.Events;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>The table's upkeep: pending rows past their TTL deleted, delivered rows purged, the queue observed for the gauges.</summary>
internal sealed class QueueMaintenance(
    IDurableEventStore store, StoreCalls calls, DurableEmitterOptions options, DurableEmitterMetrics metrics, ILogger logger)
{
    private readonly IDurableQueueObserver? _observer = store as IDurableQueueObserver;

    private System.Runtime.CompilerServices.StrongBox<DurableQueueStats>? _last;

    /// <summary>Whether the store reports queue statistics.</summary>
    public bool Observable => _observer is not null;

    /// <summary>The queue as last observed (null before the first observation, or when the store does not report it).</summary>
    public DurableQueueStats? Last => Volatile.Read(ref _last)?.Value;

    public async ValueTask ExpireAsync(CancellationToken cancellationToken)
    {
        var (ok, expired) = await calls.TryAsync("delete_expired", () => store.DeleteExpiredAsync(options.EventTtl, cancellationToken)).ConfigureAwait(false);
        if (ok && expired > 0)
        {
            metrics.Expired(expired);
            EmitterLog.Expired(logger, expired, options.EventTtl);
        }
    }

    public async ValueTask PurgeAsync(CancellationToken cancellationToken)
    {
        while (await calls.TryAsync("purge_delivered", () => store.PurgeDeliveredAsync(options.PurgeBatchSize, cancellationToken)).ConfigureAwait(false)
               is (true, var purged) && purged == options.PurgeBatchSize)
        {
        }
    }

    public async ValueTask ObserveAsync(CancellationToken cancellationToken)
    {
        var (ok, stats) = await calls.TryAsync(
            "observe_queue", () => _observer!.ObserveDurableQueueAsync(options.EventTtl, options.NearExpiryLead, cancellationToken)).ConfigureAwait(false);
        if (ok)
        {
            Volatile.Write(ref _last, new System.Runtime.CompilerServices.StrongBox<DurableQueueStats>(stats));
            metrics.Observed(stats);
        }
    }
}
