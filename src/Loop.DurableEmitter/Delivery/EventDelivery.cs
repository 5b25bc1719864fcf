using System.Collections.Concurrent;
using Loop.DurableEmitter.Coalescing;
using Loop.Events;
using Loop.Events.CloudEvents;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>
/// Sends stored events and settles each: a delivered event is marked in the store (marks coalesced into batches), a
/// failed one gets the single-event fallback when enabled, and otherwise stays pending for the retransmit loop. An
/// event is in flight here from its queueing until it is settled, and never queued twice meanwhile.
/// </summary>
internal sealed class EventDelivery(
    IDurableEventStore store,
    IBatchEmitter transport,
    DurableEmitterOptions options,
    DurableEmitterMetrics metrics,
    TimeProvider timeProvider,
    ILogger logger)
{
    private readonly IEventPublisher? _fallback = options.FallbackEnabled ? transport as IEventPublisher : null;
    private readonly ConcurrentDictionary<long, byte> _inFlight = new();
    private readonly ConcurrentDictionary<Task, byte> _fallbacks = new();
    private BatchCoalescer<long>? _marks;

    /// <summary>Events queued and not yet settled.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Whether failed sends get the single-event fallback.</summary>
    public bool FallbackEnabled => _fallback is not null;

    public bool IsInFlight(long id) => _inFlight.ContainsKey(id);

    public void Start() =>
        _marks = new BatchCoalescer<long>(
            options.MarkDeliveredBatchSize, options.MarkDeliveredFlushInterval, workers: 2, capacity: null, timeProvider, FlushMarksAsync);

    /// <summary>Queues <paramref name="cloudEvent"/> with the transport; false when the transport refused it (it stays pending).</summary>
    public bool Deliver(long id, CloudEvent cloudEvent, string phase)
    {
        // An event already on its way is not sent again (retransmit of a slow first send).
        if (!_inFlight.TryAdd(id, 0))
        {
            return true;
        }

        var queuedAt = timeProvider.GetTimestamp();
        var result = transport.TryQueue(cloudEvent, error => OnSent(id, cloudEvent, queuedAt, phase, error));
        if (result == QueueResult.Queued)
        {
            return true;
        }

        _inFlight.TryRemove(id, out _);
        metrics.BufferFull(phase);
        EmitterLog.NotQueued(logger, id, result, phase);
        return false;
    }

    /// <summary>Waits for fallback publishes and flushes the marks already queued.</summary>
    public async Task StopAsync(Func<Task, string, CancellationToken, Task> wait, CancellationToken cancellationToken)
    {
        await wait(Task.WhenAll(_fallbacks.Keys), "fallback publishes", cancellationToken).ConfigureAwait(false);
        if (_marks is not null)
        {
            await _marks.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnSent(long id, CloudEvent cloudEvent, long queuedAt, string phase, Exception? error)
    {
        var elapsed = timeProvider.GetElapsedTime(queuedAt);
        if (options.Hooks?.OnBatchPublish is { } onPublish)
        {
            SafeHooks.Invoke(() => onPublish(elapsed, 1, error));
        }

        metrics.Published(elapsed, error is null, phase);
        if (error is null)
        {
            MarkDelivered(id);
        }
        else if (_fallback is not null && phase != DeliveryPhase.Fallback)
        {
            var fallback = FallbackAsync(id, cloudEvent);
            _fallbacks.TryAdd(fallback, 0);
            _ = fallback.ContinueWith(t => _fallbacks.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else
        {
            // Left for the retransmit loop.
            _inFlight.TryRemove(id, out _);
        }
    }

    private async Task FallbackAsync(long id, CloudEvent cloudEvent)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(options.PublishTimeout, timeProvider);
            await _fallback!.PublishAsync(cloudEvent, timeout.Token).ConfigureAwait(false);
            metrics.Published(timeProvider.GetElapsedTime(started), success: true, DeliveryPhase.Fallback);
            MarkDelivered(id);
        }
        catch (Exception ex)
        {
            metrics.Published(timeProvider.GetElapsedTime(started), success: false, DeliveryPhase.Fallback);
            EmitterLog.FallbackFailed(logger, id, ex.Message);
            _inFlight.TryRemove(id, out _);
        }
    }

    private void MarkDelivered(long id)
    {
        if (_marks is null || !_marks.TryAdd(id))
        {
            _inFlight.TryRemove(id, out _);
        }
    }

    private async ValueTask FlushMarksAsync(List<long> ids, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(options.PublishTimeout, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var marked = await store.MarkDeliveredBatchAsync(ids, linked.Token).ConfigureAwait(false);
            var elapsed = timeProvider.GetElapsedTime(started);
            metrics.StoreOperation("mark_delivered_batch", elapsed, error: false);
            metrics.Delivered(marked);
            SafeHooks.Invoke(options.Hooks?.OnBatchMarkDelivered, elapsed, (int)marked);
        }
        catch (Exception ex)
        {
            // The rows stay pending and are delivered again: a duplicate, never a loss.
            metrics.StoreOperation("mark_delivered_batch", timeProvider.GetElapsedTime(started), error: true);
            EmitterLog.MarkFailed(logger, ids.Count, ex.Message);
        }
        finally
        {
            foreach (var id in ids)
            {
                _inFlight.TryRemove(id, out _);
            }
        }
    }
}
