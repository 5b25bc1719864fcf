using System.Collections.Concurrent;
using Loop.DurableEmitter.Coalescing;
using Loop.Events;
using Loop.Events.CloudEvents;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>
/// Sends stored events and settles each: a delivered event is marked in the store (marks coalesced into batches), a
/// failed one gets the single-event fallback when enabled, and otherwise goes back to the table (its lease released)
/// for the retransmit loop. An event is in flight here from its queueing until it is settled, and never queued twice
/// meanwhile.
/// </summary>
/// <remarks>
/// Every row sent is leased to this process (from its insert, or by the claim that returned it), and no send of it
/// may outlast the lease less <see cref="LeaseMargin"/>: the transport gets that as the event's send deadline and
/// hands back unsent what it cannot send in time. So two processes never have one row in flight at once, however
/// long a hung ingress holds the buffer.
/// </remarks>
internal sealed class EventDelivery(
    IDurableEventStore store,
    IBatchEmitter transport,
    StoreCalls calls,
    DurableEmitterOptions options,
    DurableEmitterMetrics metrics,
    IReadOnlyList<IDeliveryObserver> observers,
    TimeProvider timeProvider,
    ILogger logger)
{
    /// <summary>How often lasting refusals by the transport (a full buffer) are logged again, with their count.</summary>
    internal static readonly TimeSpan RefusalLogInterval = TimeSpan.FromMinutes(1);

    /// <summary>How long the transport must take every event before refusals count as over (a full buffer takes one event per free slot).</summary>
    internal static readonly TimeSpan RefusalQuietPeriod = TimeSpan.FromSeconds(10);

    private readonly Loop.Telemetry.OutageTracker _refusals = new(timeProvider, RefusalLogInterval, RefusalQuietPeriod);
    // Read by the health check only (nothing is logged from it: the transport logs its own outages).
    private readonly Loop.Telemetry.OutageTracker _sends = new(timeProvider, TimeSpan.MaxValue);
    private readonly IEventPublisher? _fallback = options.FallbackEnabled ? transport as IEventPublisher : null;
    private readonly ConcurrentDictionary<long, byte> _inFlight = new();
    private readonly ConcurrentDictionary<Task, byte> _fallbacks = new();
    private BatchCoalescer<long>? _marks;
    private BatchCoalescer<DurableLease>? _releases;

    /// <summary>
    /// What is kept between a send's deadline and its lease's end: a tenth of the lease, at most a second (for the
    /// caller's cancellation to reach the ingress, and for clocks that differ a little between hosts).
    /// </summary>
    public static TimeSpan LeaseMargin(TimeSpan lease) => TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, lease.Ticks / 10));

    /// <summary>
    /// The rule that a row's lease leaves room for a whole send: null when <paramref name="lease"/> exceeds
    /// <paramref name="sendTimeout"/> by more than the margin, else the error, naming the lease as
    /// <paramref name="leaseName"/> and the timeout as <paramref name="timeoutText"/>.
    /// </summary>
    public static string? LeaseTooShort(TimeSpan lease, TimeSpan sendTimeout, string leaseName, string timeoutText) =>
        sendTimeout + LeaseMargin(lease) < lease
            ? null
            : $"{leaseName} ({lease}) must exceed {timeoutText} by more than {LeaseMargin(lease).TotalMilliseconds} ms: " +
              "a row is leased to its sender for RetransmitAfter, and a send may not outlast the lease";

    /// <summary>Events queued and not yet settled.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>Whether failed sends get the single-event fallback.</summary>
    public bool FallbackEnabled => _fallback is not null;

    /// <summary>How long sends have been failing without one succeeding, and how many failed; null while they succeed.</summary>
    public (TimeSpan Duration, int Failures, string Error)? SendOutage =>
        _sends.Ongoing ? (_sends.Duration, _sends.Failures, _sends.LastError) : null;

    public bool IsInFlight(long id) => _inFlight.ContainsKey(id);

    public void Start()
    {
        _marks = new BatchCoalescer<long>(
            options.MarkDeliveredBatchSize, options.MarkDeliveredFlushInterval, workers: 2, timeProvider, FlushMarksAsync);
        _releases = new BatchCoalescer<DurableLease>(
            options.MarkDeliveredBatchSize, options.MarkDeliveredFlushInterval, workers: 1, timeProvider, FlushReleasesAsync);
    }

    /// <summary>
    /// Queues <paramref name="cloudEvent"/> with the transport, to be sent while <paramref name="lease"/> holds; false
    /// when the transport refused it (it goes back to the table).
    /// </summary>
    public bool Deliver(CloudEvent cloudEvent, DurableLease lease, string phase)
    {
        // An event already on its way is not sent again (retransmit of a slow first send).
        if (!_inFlight.TryAdd(lease.Id, 0))
        {
            return true;
        }

        var queuedAt = timeProvider.GetTimestamp();
        var result = transport.TryQueue(cloudEvent, SendWithin(lease), error => OnSent(cloudEvent, lease, queuedAt, phase, error));
        if (result == QueueResult.Queued)
        {
            if (_refusals.Succeed() is { } ended)
            {
                EmitterLog.BufferAcceptsAgain(logger, ended.Duration, ended.Failures);
            }

            return true;
        }

        GiveBack(lease);
        metrics.BufferFull(phase);
        switch (_refusals.Fail(result.ToString()))
        {
            case Loop.Telemetry.OutageStep.Started:
                EmitterLog.BufferFull(logger, result, phase);
                break;
            case Loop.Telemetry.OutageStep.Ongoing:
                EmitterLog.BufferStillFull(logger, _refusals.Duration, _refusals.Failures, result);
                break;
        }

        return false;
    }

    /// <summary>Waits for fallback publishes and flushes the marks and lease releases already queued.</summary>
    public async Task StopAsync(Func<Task, string, CancellationToken, Task> wait, CancellationToken cancellationToken)
    {
        await wait(Task.WhenAll(_fallbacks.Keys), "fallback publishes", cancellationToken).ConfigureAwait(false);
        if (_marks is not null)
        {
            await _marks.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_releases is not null)
        {
            await _releases.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan SendWithin(DurableLease lease) => lease.Until - LeaseMargin(options.RetransmitAfter) - timeProvider.GetUtcNow();

    /// <summary>The row goes back to the table: no longer in flight here, its lease released for any claim.</summary>
    private void GiveBack(DurableLease lease)
    {
        _inFlight.TryRemove(lease.Id, out _);
        _releases?.TryAdd(lease);
    }

    private void OnSent(CloudEvent cloudEvent, DurableLease lease, long queuedAt, string phase, Exception? error)
    {
        var id = lease.Id;
        var elapsed = timeProvider.GetElapsedTime(queuedAt);
        if (options.Hooks?.OnBatchPublish is { } onPublish)
        {
            SafeHooks.Invoke(() => onPublish(elapsed, 1, error));
        }

        metrics.Published(elapsed, error is null, phase);
        if (error is null)
        {
            _sends.Succeed();
            MarkDelivered(id);
            return;
        }

        if (error is not DeliveryLeaseEndedException)
        {
            // Lease ends are the emitter's own doing (a long buffer), not the ingress failing.
            _sends.Fail(error.Message);
        }

        if (_fallback is not null && phase != DeliveryPhase.Fallback && error is not DeliveryLeaseEndedException
                 && SendWithin(lease) > options.PublishTimeout)
        {
            var fallback = FallbackAsync(cloudEvent, lease);
            _fallbacks.TryAdd(fallback, 0);
            _ = fallback.ContinueWith(t => _fallbacks.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else
        {
            // Left for the retransmit loop.
            Failed(lease.Id, error);
            GiveBack(lease);
        }
    }

    private void Failed(long id, Exception error)
    {
        foreach (var observer in observers)
        {
            SafeHooks.Invoke(() => observer.OnFailed(id, error));
        }
    }

    private async Task FallbackAsync(CloudEvent cloudEvent, DurableLease lease)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            // Within the lease too: the publish's deadline ends before the lease's margin does.
            using var timeout = new CancellationTokenSource(options.PublishTimeout, timeProvider);
            await _fallback!.PublishAsync(cloudEvent, timeout.Token).ConfigureAwait(false);
            metrics.Published(timeProvider.GetElapsedTime(started), success: true, DeliveryPhase.Fallback);
            MarkDelivered(lease.Id);
        }
        catch (Exception ex)
        {
            metrics.Published(timeProvider.GetElapsedTime(started), success: false, DeliveryPhase.Fallback);
            EmitterLog.FallbackFailed(logger, lease.Id, ex.Message);
            Failed(lease.Id, ex);
            GiveBack(lease);
        }
    }

    private void MarkDelivered(long id)
    {
        if (_marks is null || !_marks.TryAdd(id))
        {
            _inFlight.TryRemove(id, out _);
        }
    }

    private async ValueTask FlushReleasesAsync(List<DurableLease> leases, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(options.PublishTimeout, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            await store.ReleaseLeasesAsync(leases, linked.Token).ConfigureAwait(false);
            calls.Record("release_leases", timeProvider.GetElapsedTime(started), null);
        }
        catch (Exception ex)
        {
            // The leases then end by themselves: the rows are retransmitted a little later.
            calls.Record("release_leases", timeProvider.GetElapsedTime(started), ex);
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
            calls.Record("mark_delivered_batch", elapsed, null);
            metrics.Delivered(marked);
            SafeHooks.Invoke(options.Hooks?.OnBatchMarkDelivered, elapsed, (int)marked);
            foreach (var observer in observers)
            {
                SafeHooks.Invoke(() => observer.OnDelivered(ids));
            }
        }
        catch (Exception ex)
        {
            // The rows stay pending and are delivered again: a duplicate, never a loss.
            calls.Record("mark_delivered_batch", timeProvider.GetElapsedTime(started), ex);
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
