namespace Loop.Events;

/// <summary>
/// Optionally implemented by an <see cref="IDurableEventStore"/> that can persist many events in one round trip.
/// The durable emitter then coalesces concurrent emits into one insert.
/// </summary>
public interface IBatchInserter
{
    /// <summary>Persists all payloads atomically and returns their identifiers in input order.</summary>
    /// <remarks>Either every payload is stored or none is: callers report the same outcome to every emitter.</remarks>
    /// <param name="payloads">The serialized CloudEvents.</param>
    /// <param name="leaseUntil">The inserting process's lease on every row, as in <see cref="IDurableEventStore.InsertAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the insert; the events may or may not have been stored.</param>
    ValueTask<long[]> InsertBatchAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default);
}
