using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Google.Protobuf;
using Loop.DurableEmitter.Coalescing;
using Loop.Events;
using Loop.Events.CloudEvents;
using Loop.Services;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.DurableEmitter;

/// <summary>
/// A durable outbox for CloudEvents. <see cref="EmitAsync"/> persists the event and returns once the store accepted
/// it; delivery through the <see cref="IBatchEmitter"/> happens in the background, and an event whose delivery
/// failed is sent again by the retransmit loop until it is delivered or expires. At-least-once: an event whose emit
/// succeeded is never lost.
/// </summary>
public sealed class DurableEmitter : LoopService
{
    private const string PhaseBatch = "batch";
    private const string PhaseRetransmit = "retransmit";
    private const string PhaseFallback = "fallback";

    private readonly IDurableEventStore _store;
    private readonly IBatchInserter? _inserter;
    private readonly IDurableQueueObserver? _observer;
    private readonly IBatchEmitter _transport;
    private readonly IEventPublisher? _fallback;
    private readonly DurableEmitterOptions _options;
    private readonly DurableEmitterHooks? _hooks;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CloudEventFactory _factory;
    private readonly DurableEmitterMetrics _metrics;
    private readonly ConcurrentDictionary<long, byte> _inFlight = new();
    private readonly ConcurrentDictionary<Task, byte> _fallbacks = new();
    private readonly TaskCompletionSource _emitsDrained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<SleeperTask> _loops = [];
    private readonly SemaphoreSlim _retransmitting = new(1, 1);
    private BatchCoalescer<InsertRequest>? _inserts;
    private BatchCoalescer<long>? _marks;
    private PendingCursor? _retransmitCursor;
    private volatile bool _accepting;
    private int _activeEmits;

    /// <summary>Creates the emitter. It accepts events once started.</summary>
    /// <param name="store">Where events are persisted.</param>
    /// <param name="transport">Where events are delivered.</param>
    /// <param name="options">Options; defaults when null.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="meterFactory">Creates the <c>Loop.DurableEmitter</c> meter; a private meter when null.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public DurableEmitter(
        IDurableEventStore store,
        IBatchEmitter transport,
        DurableEmitterOptions? options = null,
        ILogger<DurableEmitter>? logger = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
        : base("DurableEmitter")
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(transport);
        _options = Loop.Options.OptionsCheck.Require(options ?? new DurableEmitterOptions(), string.Empty, new DurableEmitterOptionsValidator(), DurableEmitterOptions.Rules);

        _store = store;
        _inserter = _options.InsertBatchSize > 0 ? store as IBatchInserter : null;
        _observer = store as IDurableQueueObserver;
        _transport = transport;
        _fallback = _options.FallbackEnabled ? transport as IEventPublisher : null;
        _hooks = _options.Hooks;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<DurableEmitter>.Instance;
        _factory = new CloudEventFactory(_timeProvider);
        _metrics = new DurableEmitterMetrics(meterFactory);
        _metrics.SetMaxQueuePayloadBytes(_options.MaxQueuePayloadBytes);
    }

    /// <summary>The meter name of the emitter's instruments.</summary>
    public static string MeterName => DurableEmitterMetrics.MeterName;

    /// <summary>Events handed to the transport and not yet settled (delivered and marked, or failed).</summary>
    internal int InFlight => _inFlight.Count;

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
            long id;
            try
            {
                id = _inserts is not null
                    ? await InsertCoalescedAsync(payload, cancellationToken).ConfigureAwait(false)
                    : await _store.InsertAsync(payload, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var failed = _timeProvider.GetElapsedTime(started);
                _metrics.Emitted(failed, success: false);
                Hook(_hooks?.OnEmitInsert, failed, ex);
                throw ex as ServiceStateException ?? (Exception)new EventPersistenceException($"failed to persist event: {ex.Message}", ex);
            }

            var elapsed = _timeProvider.GetElapsedTime(started);
            _metrics.Emitted(elapsed, success: true);
            Hook(_hooks?.OnEmitInsert, elapsed, null);
            Deliver(id, cloudEvent, PhaseBatch);
            return new EmitReceipt(id, cloudEvent.Id, idempotencyKey);
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
        await RetransmitAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override async Task OnStartAsync(CancellationToken cancellationToken)
    {
        if (_store is IInitializableStore initializable)
        {
            await initializable.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }

        await _transport.StartAsync(cancellationToken).ConfigureAwait(false);
        if (_inserter is not null)
        {
            _inserts = new BatchCoalescer<InsertRequest>(
                _options.InsertBatchSize,
                _options.InsertBatchFlushInterval,
                _options.InsertBatchWorkers,
                Math.Max(_options.InsertBatchSize * 200, 10_000),
                _timeProvider,
                FlushInsertsAsync,
                static r => r.Result.TrySetException(new ObjectDisposedException(nameof(DurableEmitter), "durable emitter closed")));
        }

        _marks = new BatchCoalescer<long>(
            _options.MarkDeliveredBatchSize, _options.MarkDeliveredFlushInterval, workers: 2, capacity: null, _timeProvider, FlushMarksAsync);

        if (_options.RetransmitEnabled)
        {
            AddLoop("retransmit", RetransmitAsync, _options.RetransmitInterval);
            if (!_options.DisablePruning)
            {
                AddLoop("expiry", ExpireAsync, _options.ExpiryInterval);
                AddLoop("purge", PurgeAsync, _options.PurgeInterval);
            }
        }

        if (_observer is not null)
        {
            AddLoop("queue-metrics", ObserveQueueAsync, _options.MetricsPollInterval).WakeUp();
        }

        _accepting = true;
        EmitterLog.Started(_logger, Name, _options.RetransmitEnabled, _inserts is not null, _fallback is not null);
    }

    /// <inheritdoc />
    protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        _accepting = false;
        if (Volatile.Read(ref _activeEmits) == 0)
        {
            _emitsDrained.TrySetResult();
        }

        using var deadline = new CancellationTokenSource(_options.StopTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        await WaitAsync(_emitsDrained.Task, "in-flight emits", linked.Token).ConfigureAwait(false);
        if (_inserts is not null)
        {
            await _inserts.CompleteAsync(linked.Token).ConfigureAwait(false);
        }

        foreach (var loop in _loops)
        {
            await loop.StopAsync().ConfigureAwait(false);
        }

        await _transport.StopAsync(linked.Token).ConfigureAwait(false);
        await WaitAsync(Task.WhenAll(_fallbacks.Keys), "fallback publishes", linked.Token).ConfigureAwait(false);
        if (_marks is not null)
        {
            await _marks.CompleteAsync(linked.Token).ConfigureAwait(false);
        }

        _metrics.Dispose();
        EmitterLog.Stopped(_logger, Name);
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

    private async ValueTask<long> InsertCoalescedAsync(byte[] payload, CancellationToken cancellationToken)
    {
        var request = new InsertRequest(payload);
        try
        {
            await _inserts!.AddAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw new ServiceStateException(Name, State, "emit");
        }

        return await request.Result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FlushInsertsAsync(List<InsertRequest> batch, CancellationToken cancellationToken)
    {
        var payloads = new ReadOnlyMemory<byte>[batch.Count];
        for (var i = 0; i < payloads.Length; i++)
        {
            payloads[i] = batch[i].Payload;
        }

        var started = _timeProvider.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(_options.PublishTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var ids = await _inserter!.InsertBatchAsync(payloads, linked.Token).ConfigureAwait(false);
            _metrics.StoreOperation("insert_batch", _timeProvider.GetElapsedTime(started), error: false);
            for (var i = 0; i < ids.Length; i++)
            {
                batch[i].Result.TrySetResult(ids[i]);
            }
        }
        catch (Exception ex)
        {
            // One outcome for the whole batch: every caller hears the same error.
            _metrics.StoreOperation("insert_batch", _timeProvider.GetElapsedTime(started), error: true);
            foreach (var request in batch)
            {
                request.Result.TrySetException(ex);
            }
        }
    }

    private bool Deliver(long id, CloudEvent cloudEvent, string phase)
    {
        // An event already on its way is not sent again (retransmit of a slow first send).
        if (!_inFlight.TryAdd(id, 0))
        {
            return true;
        }

        var queuedAt = _timeProvider.GetTimestamp();
        var result = _transport.TryQueue(cloudEvent, error => OnSent(id, cloudEvent, queuedAt, phase, error));
        if (result == QueueResult.Queued)
        {
            return true;
        }

        _inFlight.TryRemove(id, out _);
        _metrics.BufferFull(phase);
        EmitterLog.NotQueued(_logger, id, result, phase);
        return false;
    }

    private void OnSent(long id, CloudEvent cloudEvent, long queuedAt, string phase, Exception? error)
    {
        var elapsed = _timeProvider.GetElapsedTime(queuedAt);
        if (_hooks?.OnBatchPublish is { } onPublish)
        {
            Hook(() => onPublish(elapsed, 1, error));
        }

        _metrics.Published(elapsed, error is null, phase);
        if (error is null)
        {
            MarkDelivered(id);
        }
        else if (_fallback is not null && phase != PhaseFallback)
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
        var started = _timeProvider.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(_options.PublishTimeout, _timeProvider);
            await _fallback!.PublishAsync(cloudEvent, timeout.Token).ConfigureAwait(false);
            _metrics.Published(_timeProvider.GetElapsedTime(started), success: true, PhaseFallback);
            MarkDelivered(id);
        }
        catch (Exception ex)
        {
            _metrics.Published(_timeProvider.GetElapsedTime(started), success: false, PhaseFallback);
            EmitterLog.FallbackFailed(_logger, id, ex.Message);
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
        var started = _timeProvider.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(_options.PublishTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var marked = await _store.MarkDeliveredBatchAsync(ids, linked.Token).ConfigureAwait(false);
            var elapsed = _timeProvider.GetElapsedTime(started);
            _metrics.StoreOperation("mark_delivered_batch", elapsed, error: false);
            _metrics.Delivered(marked);
            Hook(_hooks?.OnBatchMarkDelivered, elapsed, (int)marked);
        }
        catch (Exception ex)
        {
            // The rows stay pending and are delivered again: a duplicate, never a loss.
            _metrics.StoreOperation("mark_delivered_batch", _timeProvider.GetElapsedTime(started), error: true);
            EmitterLog.MarkFailed(_logger, ids.Count, ex.Message);
        }
        finally
        {
            foreach (var id in ids)
            {
                _inFlight.TryRemove(id, out _);
            }
        }
    }

    private async ValueTask RetransmitAsync(CancellationToken cancellationToken)
    {
        // One pass at a time: the loop and RetransmitNowAsync share the cursor.
        await _retransmitting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RetransmitPassAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _retransmitting.Release();
        }
    }

    private async ValueTask RetransmitPassAsync(CancellationToken cancellationToken)
    {
        // Page on while pages are full and the transport takes everything; a refusal ends the pass (back-pressure).
        while (true)
        {
            var cutoff = _timeProvider.GetUtcNow() - _options.RetransmitAfter;
            var rows = await TimeStoreAsync(
                "claim_pending",
                () => _store.ClaimPendingAsync(cutoff, _retransmitCursor, _options.RetransmitBatchSize, _options.RetransmitAfter, cancellationToken)).ConfigureAwait(false);

            // A full page moves the cursor past it, a short one starts over: rows that keep failing cannot starve the rest.
            var full = rows.Count == _options.RetransmitBatchSize;
            _retransmitCursor = full ? new PendingCursor(rows[^1].CreatedAt, rows[^1].Id) : null;
            var queued = 0;
            var refused = false;
            foreach (var row in rows)
            {
                if (_inFlight.ContainsKey(row.Id))
                {
                    continue;
                }

                if (!TryParse(row, out var cloudEvent))
                {
                    continue;
                }

                if (Deliver(row.Id, cloudEvent, PhaseRetransmit))
                {
                    queued++;
                }
                else
                {
                    refused = true;
                }
            }

            if (queued > 0)
            {
                EmitterLog.Retransmitted(_logger, queued);
            }

            if (!full || refused || cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private bool TryParse(DurableEvent row, out CloudEvent cloudEvent)
    {
        string reason;
        try
        {
            cloudEvent = CloudEvent.Parser.ParseFrom(row.Payload.Span);
            if (cloudEvent.Id.Length > 0 && cloudEvent.Source.Length > 0 && cloudEvent.Type.Length > 0 && cloudEvent.SpecVersion.Length > 0)
            {
                return true;
            }

            reason = "the payload has no id, source, type or spec version";
        }
        catch (InvalidProtocolBufferException ex)
        {
            reason = ex.Message;
        }

        _metrics.Corrupt();
        EmitterLog.CorruptEvent(_logger, row.Id, reason);
        cloudEvent = null!;
        return false;
    }

    private async ValueTask ExpireAsync(CancellationToken cancellationToken)
    {
        var expired = await TimeStoreAsync("delete_expired", () => _store.DeleteExpiredAsync(_options.EventTtl, cancellationToken)).ConfigureAwait(false);
        if (expired > 0)
        {
            _metrics.Expired(expired);
            EmitterLog.Expired(_logger, expired, _options.EventTtl);
        }
    }

    private async ValueTask PurgeAsync(CancellationToken cancellationToken)
    {
        while (await TimeStoreAsync("purge_delivered", () => _store.PurgeDeliveredAsync(_options.PurgeBatchSize, cancellationToken)).ConfigureAwait(false)
               == _options.PurgeBatchSize)
        {
        }
    }

    private async ValueTask ObserveQueueAsync(CancellationToken cancellationToken)
    {
        var stats = await TimeStoreAsync(
            "observe_queue", () => _observer!.ObserveDurableQueueAsync(_options.EventTtl, _options.NearExpiryLead, cancellationToken)).ConfigureAwait(false);
        _metrics.Observed(stats);
    }

    private async ValueTask<T> TimeStoreAsync<T>(string operation, Func<ValueTask<T>> call)
    {
        var started = _timeProvider.GetTimestamp();
        try
        {
            var result = await call().ConfigureAwait(false);
            _metrics.StoreOperation(operation, _timeProvider.GetElapsedTime(started), error: false);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _metrics.StoreOperation(operation, _timeProvider.GetElapsedTime(started), error: true);
            EmitterLog.LoopFailed(_logger, operation, ex.Message);
            throw;
        }
    }

    private static void Hook<T1, T2>(Action<T1, T2>? hook, T1 first, T2 second)
    {
        if (hook is not null)
        {
            Hook(() => hook(first, second));
        }
    }

    private static void Hook(Action hook)
    {
        try
        {
            hook();
        }
        catch (Exception)
        {
            // Instrumentation must never break delivery.
        }
    }

    private sealed class InsertRequest(byte[] payload)
    {
        public byte[] Payload { get; } = payload;

        public TaskCompletionSource<long> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
