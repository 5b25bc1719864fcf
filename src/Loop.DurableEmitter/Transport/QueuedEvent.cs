using Loop.Events.CloudEvents;

namespace Loop.DurableEmitter;

/// <summary>An event in a batching transport's buffer: the stamped copy, the callback to report its outcome, and its send deadline.</summary>
/// <param name="Event">The copy being sent (with its <c>seqnum</c>).</param>
/// <param name="OnSent">Invoked once with the outcome.</param>
/// <param name="SendBy">On the transport's clock, when any send of the event must have ended (the row's lease ends soon after).</param>
public sealed record QueuedEvent(CloudEvent Event, Action<Exception?> OnSent, DateTimeOffset SendBy);
