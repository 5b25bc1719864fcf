namespace Loop.DurableEmitter;

/// <summary>What <see cref="IDurableEventEmitter.EmitAsync"/> returns once the event is durable.</summary>
/// <param name="RowId">The store's identifier of the persisted event.</param>
/// <param name="EventId">The CloudEvent <c>id</c>.</param>
/// <param name="IdempotencyKey">The event's <c>idempotencykey</c> attribute.</param>
public readonly record struct EmitReceipt(long RowId, string EventId, string IdempotencyKey);
