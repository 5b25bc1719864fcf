using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Loop.DurableEmitter.Coalescing;
using Loop.Events;
using Loop.Events.CloudEvents;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>
/// The buffering and batching every Loop transport shares: a bounded non-blocking buffer, batches by count and age, a
/// limit on concurrent sends, a per-(source, type) <c>seqnum</c> stamped on a copy of each event, one callback per
/// event, and a stop that sends what is buffered within a timeout. Subclasses only send a batch.
/// </summary>
public abstract partial class BatchingEmitter : IBatchEmitter, IAsyncDisposable
{
    private readonly BatchingOptions _options;
    private readonly Channel<QueuedEvent> _buffer;
    private readonly SemaphoreSlim _sendSlots;
    private readonly CancellationTokenSource _abort = new();
    private readonly ConcurrentDictionary<(string Source, string Type), StrongBox<long>> _seqnums = new();
    private readonly Lock _gate = new();
    private readonly Loop.Telemetry.OutageTracker _sendOutage;
    private Task? _batcher;
    private Task? _stopping;
    private volatile bool _accepting;

    /// <summary>Creates the transport with its batching options.</summary>
    protected BatchingEmitter(BatchingOptions options, TimeProvider? timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _ = options is GrpcIngressOptions grpc
            ? Loop.Options.OptionsCheck.Require(grpc, string.Empty, new GrpcIngressOptionsValidator(), GrpcIngressOptions.Rules)
            : Loop.Options.OptionsCheck.Require(options, string.Empty, new BatchingOptionsValidator(), BatchingOptions.Rules);
        _options = options;
        TimeProvider = timeProvider ?? TimeProvider.System;
        Logger = logger;
        _sendOutage = new Loop.Telemetry.OutageTracker(TimeProvider, OutageLogInterval);
        _sendSlots = new SemaphoreSlim(options.MaxConcurrentSends, options.MaxConcurrentSends);
        _buffer = Channel.CreateBounded<QueuedEvent>(new BoundedChannelOptions(options.BufferSize)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    /// <summary>How often a lasting send outage is logged again (with the count of failed calls).</summary>
    internal static readonly TimeSpan OutageLogInterval = TimeSpan.FromMinutes(1);

    /// <summary>Where the transport sends, as log lines name it (the ingress's endpoint, say).</summary>
    protected virtual string Destination => GetType().Name;

    /// <summary>The transport's clock.</summary>
    protected TimeProvider TimeProvider { get; }

    /// <summary>The transport's logger.</summary>
    protected ILogger Logger { get; }

    /// <inheritdoc />
    public virtual Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_batcher is not null || _stopping is not null)
            {
                throw new InvalidOperationException($"{GetType().Name} can be started once.");
            }

            _accepting = true;
            _batcher = Task.Run(RunBatcherAsync, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The longest a send of one batch may take (its deadline); an event is only sent while its
    /// <see cref="QueuedEvent.SendBy"/> is at least this far off. Zero when sends have no deadline.
    /// </summary>
    public virtual TimeSpan SendTimeout => TimeSpan.Zero;

    /// <inheritdoc />
    public QueueResult TryQueue(CloudEvent cloudEvent, TimeSpan sendWithin, Action<Exception?> onSent)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(onSent);
        if (!_accepting)
        {
            return QueueResult.Stopped;
        }

        // The copy carries this attempt's seqnum; the caller's event (and the stored payload) stay as they were.
        // A refused event still consumes its number, so gaps show drops.
        var copy = cloudEvent.Clone();
        var counter = _seqnums.GetOrAdd((cloudEvent.Source, cloudEvent.Type), static _ => new StrongBox<long>());
        var seqnum = Interlocked.Increment(ref counter.Value);
        copy.Attributes["seqnum"] = new CloudEventAttributeValue { CeString = seqnum.ToString(CultureInfo.InvariantCulture) };
        return _buffer.Writer.TryWrite(new QueuedEvent(copy, onSent, TimeProvider.GetUtcNow() + sendWithin)) ? QueueResult.Queued : QueueResult.BufferFull;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return _stopping ??= StopCoreAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await DisposeCoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Sends one batch. Returns one outcome per event in order (null = delivered), or throws when the whole batch failed.
    /// </summary>
    protected abstract ValueTask<Exception?[]> SendBatchAsync(IReadOnlyList<QueuedEvent> batch, CancellationToken cancellationToken);

    /// <summary>
    /// Whether a send of <paramref name="item"/> started now could outlast its <see cref="QueuedEvent.SendBy"/>: then it
    /// must not be sent (another process may take the row once its lease ends).
    /// </summary>
    protected bool LeaseEnds(QueuedEvent item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return LeaseEnds(item, TimeProvider.GetUtcNow());
    }

    private bool LeaseEnds(QueuedEvent item, DateTimeOffset now) => now + SendTimeout > item.SendBy;

    /// <summary>
    /// Records a failed send call (the whole call: refused, unavailable, timed out), so that an outage is logged as a
    /// warning when it starts and then once per interval with the count, not once per call or per event.
    /// </summary>
    protected void OnSendFailed(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var reason = Describe(error);
        switch (_sendOutage.Fail(reason))
        {
            case Loop.Telemetry.OutageStep.Started:
                EmitterLog.IngressFailing(Logger, Destination, reason);
                break;
            case Loop.Telemetry.OutageStep.Ongoing:
                EmitterLog.IngressStillFailing(Logger, Destination, _sendOutage.Duration, _sendOutage.Failures, reason);
                break;
        }
    }

    /// <summary>Records a send call that was answered; ends an outage with one line.</summary>
    protected void OnSendSucceeded()
    {
        if (_sendOutage.Succeed() is { } ended)
        {
            EmitterLog.IngressRecovered(Logger, Destination, ended.Duration, ended.Failures);
        }
    }

    private static string Describe(Exception error) =>
        error is Grpc.Core.RpcException rpc ? $"{rpc.StatusCode} ({rpc.Status.Detail})" : $"{error.GetType().Name} ({error.Message})";

    /// <summary>Releases the transport's resources after it stopped.</summary>
    protected virtual ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        _accepting = false;
        _buffer.Writer.TryComplete();
        using var deadline = new CancellationTokenSource(_options.ShutdownTimeout, TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        try
        {
            if (_batcher is not null)
            {
                await _batcher.WaitAsync(linked.Token).ConfigureAwait(false);
            }

            // Holding every send slot means no batch is in flight and every callback ran.
            for (var i = 0; i < _options.MaxConcurrentSends; i++)
            {
                await _sendSlots.WaitAsync(linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            EmitterLog.BatchingEmitterStopTimedOut(Logger, GetType().Name, _options.ShutdownTimeout);
            await _abort.CancelAsync().ConfigureAwait(false);
        }

        var abandoned = Abandoned();
        while (_buffer.Reader.TryRead(out var left))
        {
            Report(left, abandoned);
        }

        _seqnums.Clear();
    }

    private async Task RunBatcherAsync()
    {
        var batch = new List<QueuedEvent>(_options.BatchSize);
        var token = _abort.Token;
        try
        {
            while (await ChannelBatchReader.ReadBatchAsync(_buffer.Reader, batch, _options.BatchSize, _options.BatchInterval, TimeProvider, token).ConfigureAwait(false))
            {
                // Waiting for a slot here is the back-pressure: while every slot is busy the buffer fills.
                await _sendSlots.WaitAsync(token).ConfigureAwait(false);
                _ = SendAndReportAsync([.. batch]);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            var abandoned = Abandoned();
            foreach (var left in batch)
            {
                Report(left, abandoned);
            }
        }
    }

    private async Task SendAndReportAsync(QueuedEvent[] batch)
    {
        try
        {
            // Events that waited past their send deadline go back unsent: their rows are someone else's to send soon.
            // Decided at one instant, so that each event is either sent or handed back, never neither.
            var now = TimeProvider.GetUtcNow();
            if (Array.Exists(batch, e => LeaseEnds(e, now)))
            {
                foreach (var late in batch.Where(e => LeaseEnds(e, now)))
                {
                    Report(late, new DeliveryLeaseEndedException(late.Event.Id));
                }

                batch = [.. batch.Where(e => !LeaseEnds(e, now))];
                if (batch.Length == 0)
                {
                    return;
                }
            }

            Exception?[] outcomes;
            try
            {
                outcomes = await SendBatchAsync(batch, _abort.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                OnSendFailed(ex);
                foreach (var item in batch)
                {
                    Report(item, ex);
                }

                return;
            }

            for (var i = 0; i < batch.Length; i++)
            {
                Report(batch[i], i < outcomes.Length ? outcomes[i] : new InvalidOperationException("The transport reported no outcome for the event."));
            }
        }
        finally
        {
            _sendSlots.Release();
        }
    }

    private ObjectDisposedException Abandoned() => new(GetType().Name, "The transport stopped before the event was sent.");

    private void Report(QueuedEvent item, Exception? outcome)
    {
        try
        {
            item.OnSent(outcome);
        }
        catch (Exception ex)
        {
            EmitterLog.CallbackFailed(Logger, GetType().Name, ex);
        }
    }
}
