namespace Loop.Events;

/// <summary>A persisted event awaiting delivery: the serialized <see cref="CloudEvents.CloudEvent"/> and its row identity.</summary>
/// <param name="Id">The store-assigned identifier, unique and increasing within one store.</param>
/// <param name="Payload">The CloudEvent in protobuf encoding, exactly as it was emitted.</param>
/// <param name="CreatedAt">When the store accepted the event (UTC).</param>
public sealed record DurableEvent(long Id, ReadOnlyMemory<byte> Payload, DateTimeOffset CreatedAt)
{
    /// <summary>When the caller's lease on the row ends (UTC), for rows returned by a claim; otherwise <see langword="null"/>.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }
}

