namespace Loop.Events;

/// <summary>A point-in-time snapshot of a durable queue.</summary>
/// <param name="Depth">Pending (undelivered) rows: the delivery backlog.</param>
/// <param name="TotalRows">Rows physically present, delivered but not yet purged included.</param>
/// <param name="PayloadBytes">Payload bytes of the pending rows.</param>
/// <param name="OldestPendingAge">Age of the oldest pending row; zero when nothing is pending.</param>
/// <param name="NearTtlCount">Pending rows within the near-expiry lead of the TTL: a dead-letter pressure signal.</param>
public readonly record struct DurableQueueStats(
    long Depth, long TotalRows, long PayloadBytes, TimeSpan OldestPendingAge, long NearTtlCount);
