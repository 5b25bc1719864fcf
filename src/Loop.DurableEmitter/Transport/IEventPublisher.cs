using Loop.Events.CloudEvents;

namespace Loop.DurableEmitter;

/// <summary>Publishes one event synchronously: the durable emitter's second chance when a batch send failed.</summary>
public interface IEventPublisher
{
    /// <summary>Publishes <paramref name="cloudEvent"/>; throws when it was not accepted.</summary>
    ValueTask PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken);
}
