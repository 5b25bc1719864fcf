namespace Loop.DurableEmitter;

/// <summary>
/// A durable outbox for CloudEvents: <see cref="EmitAsync"/> returns once the event is stored, and delivery follows in
/// the background, at least once. Registered by <c>AddDurableEmitter</c>; inject this interface (and fake it in tests).
/// </summary>
public interface IDurableEventEmitter
{
    /// <summary>
    /// Builds a CloudEvent from <paramref name="body"/> and <paramref name="attributes"/>, persists it, queues it for
    /// delivery and returns once the store accepted it.
    /// </summary>
    /// <exception cref="InvalidEventException">An attribute is invalid; nothing was stored.</exception>
    /// <exception cref="Loop.Services.ServiceStateException">The emitter is not started, or is stopping.</exception>
    /// <exception cref="EventPersistenceException">The store did not accept the event.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the store confirmed.</exception>
    ValueTask<EmitReceipt> EmitAsync(ReadOnlyMemory<byte> body, EventAttributes attributes, CancellationToken cancellationToken = default);
}
