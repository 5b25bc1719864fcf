using Loop.Events.CloudEvents;

namespace Loop.Events;

/// <summary>
/// The transport the durable emitter hands persisted events to: it buffers, batches and sends them, then reports
/// each event's outcome through its callback. An event the transport refuses or fails stays in the store and is sent
/// again by the retransmit loop, so a transport may drop but must never claim a delivery it did not make.
/// </summary>
public interface IBatchEmitter
{
    /// <summary>Starts background processing. Must complete before <see cref="TryQueue"/> accepts events.</summary>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues one event for batched delivery without blocking. <paramref name="onSent"/> is invoked exactly once when
    /// the queued event's batch was sent: with <see langword="null"/> on success, else with the failure. It is not
    /// invoked when the event is refused.
    /// </summary>
    /// <param name="cloudEvent">The event.</param>
    /// <param name="sendWithin">
    /// How long from now any send of the event must have ended (answered, failed or abandoned): the caller's lease on
    /// the row ends soon after, and then another process may send it. An event the transport cannot send in time is
    /// reported failed without being sent.
    /// </param>
    /// <param name="onSent">Invoked once with the outcome.</param>
    /// <returns><see cref="QueueResult.Queued"/>, or why the event was refused.</returns>
    QueueResult TryQueue(CloudEvent cloudEvent, TimeSpan sendWithin, Action<Exception?> onSent);

    /// <summary>
    /// Stops accepting events, sends what is being batched, and waits for in-flight sends and their callbacks until
    /// the transport's shutdown timeout or <paramref name="cancellationToken"/>.
    /// </summary>
    Task StopAsync(CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="IBatchEmitter.TryQueue"/> did with an event.</summary>
public enum QueueResult
{
    /// <summary>The event is queued; its callback will run.</summary>
    Queued,

    /// <summary>The buffer is full; the event was not queued.</summary>
    BufferFull,

    /// <summary>The transport is not started or is stopping; the event was not queued.</summary>
    Stopped,
}
