using Loop.Events.CloudEvents;

namespace Loop.DurableEmitter;

/// <summary>An event in a batching transport's buffer: the stamped copy and the callback to report its outcome.</summary>
/// <param name="Event">The copy being sent (with its <c>seqnum</c>).</param>
/// <param name="OnSent">Invoked once with the outcome.</param>
public sealed record QueuedEvent(CloudEvent Event, Action<Exception?> OnSent);
