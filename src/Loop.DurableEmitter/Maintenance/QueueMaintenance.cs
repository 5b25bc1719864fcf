using Loop.Events;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>The table's upkeep: pending rows past their TTL deleted, delivered rows purged, the queue observed for the gauges.</summary>
internal sealed class QueueMaintenance(
    IDurableEventStore store, TimedStoreCalls calls, DurableEmitterOptions options, DurableEmitterMetrics metrics, ILogger logger)
{
    private readonly IDurableQueueObserver? _observer = store as IDurableQueueObserver;

    /// <summary>Whether the store reports queue statistics.</summary>
    public bool Observable => _observer is not null;

    public async ValueTask ExpireAsync(CancellationToken cancellationToken)
    {
        var expired = await calls.CallAsync("delete_expired", () => store.DeleteExpiredAsync(options.EventTtl, cancellationToken)).ConfigureAwait(false);
        if (expired > 0)
        {
            metrics.Expired(expired);
            EmitterLog.Expired(logger, expired, options.EventTtl);
        }
    }

    public async ValueTask PurgeAsync(CancellationToken cancellationToken)
    {
        while (await calls.CallAsync("purge_delivered", () => store.PurgeDeliveredAsync(options.PurgeBatchSize, cancellationToken)).ConfigureAwait(false)
               == options.PurgeBatchSize)
        {
        }
    }

    public async ValueTask ObserveAsync(CancellationToken cancellationToken)
    {
        var stats = await calls.CallAsync(
            "observe_queue", () => _observer!.ObserveDurableQueueAsync(options.EventTtl, options.NearExpiryLead, cancellationToken)).ConfigureAwait(false);
        metrics.Observed(stats);
    }
}
