namespace Loop.Events;

/// <summary>
/// Persistence for durable events. An event is pending from <see cref="InsertAsync"/> until it is marked delivered,
/// deleted or expired. Implementations are safe for concurrent use by many emitters, in one or many processes.
/// </summary>
public interface IDurableEventStore
{
    /// <summary>Persists one serialized event and returns its identifier once it is durable.</summary>
    /// <param name="payload">The serialized CloudEvent.</param>
    /// <param name="leaseUntil">
    /// The inserting process's lease on the row (UTC): until then no claim returns it, so the process can send it
    /// first without another sending it at the same time. <see langword="null"/> for no lease.
    /// </param>
    /// <param name="cancellationToken">Cancels the insert; the event may or may not have been stored.</param>
    ValueTask<long> InsertAsync(ReadOnlyMemory<byte> payload, DateTimeOffset? leaseUntil, CancellationToken cancellationToken = default);

    /// <summary>Physically removes a row (corrupt payloads, policy drops). Unknown identifiers are ignored.</summary>
    ValueTask DeleteAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Records that the event reached the ingress; it no longer appears as pending.</summary>
    ValueTask MarkDeliveredAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Marks many events delivered in one operation and returns how many pending rows changed.</summary>
    ValueTask<long> MarkDeliveredBatchAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken = default);

    /// <summary>Deletes up to <paramref name="batchLimit"/> rows already marked delivered, oldest delivery first.</summary>
    /// <returns>How many rows were deleted. Stores that delete on delivery return 0.</returns>
    ValueTask<long> PurgeDeliveredAsync(int batchLimit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists pending events created before <paramref name="createdBefore"/> and after <paramref name="after"/>, ordered by
    /// creation time then identifier, at most <paramref name="limit"/> rows. Reads only; claims nothing.
    /// </summary>
    ValueTask<IReadOnlyList<DurableEvent>> ListPendingAsync(
        DateTimeOffset createdBefore, PendingCursor? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends leases this process holds, so that the next claim (by any process) may take the rows at once: a row whose
    /// send failed goes back to the table. A lease is ended only while it is still the one given (its
    /// <see cref="DurableLease.Until"/> not passed and not renewed by another claim); delivered rows are left alone.
    /// </summary>
    ValueTask ReleaseLeasesAsync(IReadOnlyList<DurableLease> leases, CancellationToken cancellationToken = default);

    /// <summary>
    /// Like <see cref="ListPendingAsync"/>, but each returned row is leased to the caller for <paramref name="lease"/>:
    /// until the lease ends no other claim, in this process or another sharing the store, returns the row. Rows
    /// already leased to someone else are skipped. This is what lets several hosts retransmit from one table without
    /// sending the same row at once. Each returned row carries its lease's end in <see cref="DurableEvent.LeaseUntil"/>.
    /// </summary>
    ValueTask<IReadOnlyList<DurableEvent>> ClaimPendingAsync(
        DateTimeOffset createdBefore, PendingCursor? after, int limit, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes pending (undelivered) events older than <paramref name="ttl"/> and returns how many it deleted.
    /// Rows already delivered are never deleted nor counted here: they belong to <see cref="PurgeDeliveredAsync"/>.
    /// </summary>
    ValueTask<long> DeleteExpiredAsync(TimeSpan ttl, CancellationToken cancellationToken = default);
}
