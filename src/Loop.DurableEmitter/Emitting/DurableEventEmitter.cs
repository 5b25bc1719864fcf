using System.Diagnostics.Metrics;
using Google.Protobuf;
using Loop.Events;
using Loop.Services;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.DurableEmitter;

/// <summary>
/// A durable outbox for CloudEvents. <see cref="EmitAsync"/> persists the event and returns once the store accepted
/// it; delivery through the <see cref="IBatchEmitter"/> happens in the background, and an event whose delivery
/// failed is sent again by the retransmit loop until it is delivered or expires. At-least-once: an event whose emit
/// succeeded is never lost.
/// </summary>
public sealed class DurableEventEmitter : LoopService, IDurableEventEmitter
{
    private readonly IDurableEventStore _store;
    private readonly IBatchEmitter _transport;
    private readonly DurableEmitterOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CloudEventFactory _factory;
    private readonly DurableEmitterMetrics _metrics;
    private readonly StoreCalls _calls;
    private readonly StoreSetup _setup;
    private readonly EventPersister _persister;
    private readonly EventDelivery _delivery;
    private readonly Retransmitter _retransmitter;
    private readonly QueueMaintenance _maintenance;
    private readonly TaskCompletionSource _emitsDrained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<SleeperTask> _loops = [];
    private volatile bool _accepting;
    private int _activeEmits;

    /// <summary>Creates the emitter. It accepts events once started.</summary>
    /// <param name="store">Where events are persisted.</param>
    /// <param name="transport">Where events are delivered.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="meterFactory">Creates the <c>Loop.DurableEmitter</c> meter; a private meter when null.</param>
    /// <param name="observers">Hear each event's delivery outcome.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public DurableEventEmitter(
        IDurableEventStore store,
        IBatchEmitter transport,
        DurableEmitterOptions? options = null,
        ILogger<DurableEventEmitter>? logger = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null,
        IEnumerable<IDeliveryObserver>? observers = null)
        : base("DurableEmitter")
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(transport);
        _options = Loop.Options.OptionsCheck.Require(options ?? new DurableEmitterOptions(), string.Empty, new DurableEmitterOptionsValidator(), DurableEmitterOptions.Rules);

        // A row is leased for RetransmitAfter, and no send may outlast its lease: a transport whose sends may take
        // longer could never send anything.
        if (!_options.StoreOnly && transport is BatchingEmitter batching
            && EventDelivery.LeaseTooShort(_options.RetransmitAfter, batching.SendTimeout, "DurableEmitterOptions.RetransmitAfter", $"the transport's publish timeout ({batching.SendTimeout})") is { } tooShort)
        {
            throw new ArgumentException(tooShort, nameof(options));
        }

        _store = store;
        _transport = transport;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<DurableEventEmitter>.Instance;
        _factory = new CloudEventFactory(_timeProvider);
        _metrics = new DurableEmitterMetrics(meterFactory);
        _metrics.SetMaxQueuePayloadBytes(_options.MaxQueuePayloadBytes);
        _calls = new StoreCalls(_metrics, _timeProvider, _logger);
        _setup = new StoreSetup(store, _calls, _timeProvider, _logger);
        _persister = new EventPersister(store, _options, _calls, _timeProvider);
        _delivery = new EventDelivery(store, transport, _calls, _options, _metrics, [.. observers ?? []], _timeProvider, _logger);
        _retransmitter = new Retransmitter(store, _delivery, _calls, _options, _metrics, _timeProvider, _logger);
        _maintenance = new QueueMaintenance(store, _calls, _options, _metrics, _logger);
    }

    /// <summary>The meter name of the emitter's instruments.</summary>
    public static string MeterName => DurableEmitterMetrics.MeterName;

    /// <summary>Events handed to the transport and not yet settled (delivered and marked, or failed).</summary>
    internal int InFlight => _delivery.InFlight;

    /// <summary>
    /// Builds a CloudEvent from <paramref name="body"/> and <paramref name="attributes"/>, persists it, queues it for
    /// delivery and returns once the store accepted it.
    /// </summary>
    /// <exception cref="InvalidEventException">Source or type is missing, or an attribute is invalid; nothing was stored.</exception>
    /// <exception cref="ServiceStateException">The emitter is not started, or is stopping.</exception>
    /// <exception cref="EventPersistenceException">The store did not accept the event.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the store confirmed.</exception>
    public async ValueTask<EmitReceipt> EmitAsync(ReadOnlyMemory<byte> body, EventAttributes attributes, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _activeEmits);
        try
        {
            if (!_accepting)
            {
                throw new ServiceStateException(Name, State, "emit");
            }

            var cloudEvent = _factory.Create(body, attributes, out var idempotencyKey);
            var payload = cloudEvent.ToByteArray();
            var started = _timeProvider.GetTimestamp();

            // The row is this process's to send first, until the lease ends (taken before the insert, so never later
            // than the store's own idea of it).
            var leaseUntil = _timeProvider.GetUtcNow() + _options.RetransmitAfter;
            DurableLease lease;
            try
            {
                // A store-only process sends nothing, so it holds no lease: the host may take the row as soon as it is due.
                lease = await _persister.InsertAsync(payload, _options.StoreOnly ? null : leaseUntil, cancellationToken).ConfigureAwait(false);
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                throw new ServiceStateException(Name, State, "emit");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var failed = _timeProvider.GetElapsedTime(started);
                _metrics.Emitted(failed, success: false);
                SafeHooks.Invoke(_options.Hooks?.OnEmitInsert, failed, ex);
                throw new EventPersistenceException($"failed to persist event: {ex.Message}", ex);
            }

            var elapsed = _timeProvider.GetElapsedTime(started);
            _metrics.Emitted(elapsed, success: true);
            SafeHooks.Invoke(_options.Hooks?.OnEmitInsert, elapsed, null);
            if (!_options.StoreOnly)
            {
                _delivery.Deliver(cloudEvent, lease, DeliveryPhase.Batch);
            }

            return new EmitReceipt(lease.Id, cloudEvent.Id, idempotencyKey);
        }
        finally
        {
            if (Interlocked.Decrement(ref _activeEmits) == 0 && !_accepting)
            {
                _emitsDrained.TrySetResult();
            }
        }
    }

    /// <summary>Runs one retransmit pass now (the loop runs it every <see cref="DurableEmitterOptions.RetransmitInterval"/>).</summary>
    internal async Task RetransmitNowAsync(CancellationToken cancellationToken = default) =>
        await _retransmitter.RunAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override async Task OnStartAsync(CancellationToken cancellationToken)
    {
        // A store that cannot be set up now does not stop the host: the emitter starts Unhealthy and keeps trying.
        await _setup.StartAsync(cancellationToken).ConfigureAwait(false);
        await _transport.StartAsync(cancellationToken).ConfigureAwait(false);
        _persister.Start();
        _delivery.Start();
        if (_options.RetransmitEnabled && !_options.StoreOnly)
        {
            AddLoop("retransmit", _retransmitter.RunAsync, _options.RetransmitInterval);
            if (!_options.DisablePruning)
            {
                AddLoop("expiry", _maintenance.ExpireAsync, _options.ExpiryInterval);
                AddLoop("purge", _maintenance.PurgeAsync, _options.PurgeInterval);
            }
        }

        if (_maintenance.Observable)
        {
            AddLoop("queue-metrics", _maintenance.ObserveAsync, _options.MetricsPollInterval).WakeUp();
        }

        _accepting = true;
        EmitterLog.Started(_logger, Name, _options.RetransmitEnabled, _persister.Coalescing, _delivery.FallbackEnabled);
    }

    /// <inheritdoc />
    protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        _accepting = false;
        await _setup.StopAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _activeEmits) == 0)
        {
            _emitsDrained.TrySetResult();
        }

        using var deadline = new CancellationTokenSource(_options.StopTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        await WaitAsync(_emitsDrained.Task, "in-flight emits", linked.Token).ConfigureAwait(false);
        await _persister.CompleteAsync(linked.Token).ConfigureAwait(false);
        foreach (var loop in _loops)
        {
            await loop.StopAsync().ConfigureAwait(false);
        }

        await _transport.StopAsync(linked.Token).ConfigureAwait(false);
        await _delivery.StopAsync(WaitAsync, linked.Token).ConfigureAwait(false);
        _metrics.Dispose();
        EmitterLog.Stopped(_logger, Name);
    }

    /// <summary>The health check's verdict: see <see cref="DurableEmitterHealthCheck"/>.</summary>
    internal HealthCheckResult EvaluateHealth(HealthStatus failureStatus)
    {
        var down = GetHealthReport().Where(p => p.Value is not null).Select(p => $"{p.Key}: {p.Value!.Message}").ToList();
        if (down.Count > 0)
        {
            return new HealthCheckResult(failureStatus, $"{Name}: {string.Join("; ", down)}");
        }

        var store = _calls.Failing;
        if (store.Count > 0)
        {
            return new HealthCheckResult(
                failureStatus,
                $"{Name}: the store is failing: {string.Join("; ", store.Select(f => $"{f.Operation} for {f.Duration:g}: {f.Error}"))}",
                data: store.ToDictionary(f => f.Operation, f => (object)f.Error));
        }

        if (_delivery.SendOutage is { } sends && sends.Duration >= _options.DegradedAfterSendFailures)
        {
            return HealthCheckResult.Degraded($"{Name}: sends failing for {sends.Duration:g} ({sends.Failures} failed events), latest: {sends.Error}");
        }

        if (_maintenance.Last is { } queue && queue.OldestPendingAge >= _options.DegradedPendingAge)
        {
            return HealthCheckResult.Degraded(
                $"{Name}: the oldest pending event is {queue.OldestPendingAge:g} old (over {_options.DegradedPendingAge:g}); {queue.Depth} pending");
        }

        return HealthCheckResult.Healthy($"{Name}: healthy ({_delivery.InFlight} in flight)");
    }

    private async Task WaitAsync(Task task, string what, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            EmitterLog.StopTimedOut(_logger, Name, _options.StopTimeout, what);
        }
    }

    private SleeperTask AddLoop(string name, Func<CancellationToken, ValueTask> work, TimeSpan interval)
    {
        var loop = new SleeperTask($"{Name}.{name}", work, interval, _timeProvider, _logger);
        _loops.Add(loop);
        loop.Start();
        return loop;
    }
}
