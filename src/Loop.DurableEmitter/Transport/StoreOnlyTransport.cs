using Loop.Events;
using Loop.Events.CloudEvents;

namespace Loop.DurableEmitter;

/// <summary>The transport of a store-only emitter: it is never handed an event (the host that shares the table delivers).</summary>
internal sealed class StoreOnlyTransport : IBatchEmitter
{
    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public QueueResult TryQueue(CloudEvent cloudEvent, TimeSpan sendWithin, Action<Exception?> onSent) => QueueResult.Stopped;

    public Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}
