using Loop.Events.CloudEvents;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.DurableEmitter;

/// <summary>
/// A transport that hands each batch to a subscriber in the same process: for tests, and for hosts without an
/// ingress. A batch whose subscriber throws fails as a whole, and its events are retransmitted later.
/// </summary>
public sealed class InMemoryBatchEmitter : BatchingEmitter
{
    private readonly Func<IReadOnlyList<CloudEvent>, CancellationToken, ValueTask> _subscriber;

    /// <summary>Creates the transport.</summary>
    /// <param name="subscriber">Receives each batch (events carry their <c>seqnum</c>).</param>
    /// <param name="options">Batching options; defaults when null.</param>
    /// <param name="timeProvider">The clock for batch ages.</param>
    /// <param name="logger">The logger.</param>
    public InMemoryBatchEmitter(
        Func<IReadOnlyList<CloudEvent>, CancellationToken, ValueTask> subscriber,
        BatchingOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger<InMemoryBatchEmitter>? logger = null)
        : base(options ?? new BatchingOptions(), timeProvider, logger ?? NullLogger<InMemoryBatchEmitter>.Instance)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        _subscriber = subscriber;
    }

    /// <inheritdoc />
    protected override async ValueTask<Exception?[]> SendBatchAsync(IReadOnlyList<QueuedEvent> batch, CancellationToken cancellationToken)
    {
        await _subscriber(batch.Select(e => e.Event).ToArray(), cancellationToken).ConfigureAwait(false);
        OnSendSucceeded();
        return new Exception?[batch.Count];
    }
}
