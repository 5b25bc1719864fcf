namespace Loop.Events;

/// <summary>Optionally implemented by an <see cref="IDurableEventStore"/> that can report live queue statistics.</summary>
public interface IDurableQueueObserver
{
    /// <summary>Reads a point-in-time snapshot of the queue.</summary>
    /// <param name="eventTtl">The emitter's event time to live.</param>
    /// <param name="nearExpiryLead">How long before the TTL a pending row counts as near expiry.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<DurableQueueStats> ObserveDurableQueueAsync(
        TimeSpan eventTtl, TimeSpan nearExpiryLead, CancellationToken cancellationToken = default);
}
