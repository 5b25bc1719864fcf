using System.Diagnostics;
using System.Diagnostics.Metrics;
using Loop.Events;

namespace Loop.DurableEmitter;

/// <summary>The emitter's OpenTelemetry-compatible instruments on meter <see cref="MeterName"/>.</summary>
internal sealed class DurableEmitterMetrics : IDisposable
{
    /// <summary>The meter name to enable in OpenTelemetry (<c>AddMeter("Loop.DurableEmitter")</c>).</summary>
    public const string MeterName = "Loop.DurableEmitter";

    private static readonly double[] DurationBuckets = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly Loop.Telemetry.PackageMeter _package;
    private readonly Meter _meter;
    private readonly Counter<long> _emitSuccess;
    private readonly Counter<long> _emitFailure;
    private readonly Histogram<double> _emitDuration;
    private readonly Counter<long> _publishSuccess;
    private readonly Counter<long> _publishFailure;
    private readonly Histogram<double> _publishDuration;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _bufferFull;
    private readonly Counter<long> _corrupt;
    private readonly Counter<long> _storeOperations;
    private readonly Histogram<double> _storeDuration;
    private object _stats = default(DurableQueueStats);
    private long _maxQueuePayloadBytes;

    public DurableEmitterMetrics(IMeterFactory? meterFactory)
    {
        _package = new Loop.Telemetry.PackageMeter(MeterName, meterFactory);
        _meter = _package.Meter;
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        _emitSuccess = _meter.CreateCounter<long>("durable_emitter.emit.success", "{call}", "Emits whose event was stored.");
        _emitFailure = _meter.CreateCounter<long>("durable_emitter.emit.failure", "{call}", "Emits that failed.");
        _emitDuration = _meter.CreateHistogram("durable_emitter.emit.duration", "s", "Time an emit waited for its insert.", advice: seconds);
        _publishSuccess = _meter.CreateCounter<long>("durable_emitter.publish.batch.events.success", "{event}", "Events the ingress accepted.");
        _publishFailure = _meter.CreateCounter<long>("durable_emitter.publish.batch.events.failure", "{event}", "Events whose send failed.");
        _publishDuration = _meter.CreateHistogram("durable_emitter.publish.duration", "s", "Time from queueing an event to its send result.", advice: seconds);
        _delivered = _meter.CreateCounter<long>("durable_emitter.delivery.completed", "{event}", "Events marked delivered in the store.");
        _expired = _meter.CreateCounter<long>("durable_emitter.expired_purged", "{event}", "Undelivered events deleted by expiry.");
        _bufferFull = _meter.CreateCounter<long>("durable_emitter.batch_enqueue.buffer_full", "{event}", "Events the transport refused (left for retransmit).");
        _corrupt = _meter.CreateCounter<long>("durable_emitter.corrupt_events", "{event}", "Stored payloads that are not CloudEvents (skipped).");
        _storeOperations = _meter.CreateCounter<long>("durable_emitter.store.operations", "{operation}", "Store operations by name and outcome.");
        _storeDuration = _meter.CreateHistogram("durable_emitter.store.operation.duration", "s", "Store operation durations.", advice: seconds);
        _meter.CreateObservableGauge("durable_emitter.queue.depth", () => Stats.TotalRows, "{event}", "Rows in the store, delivered but unpurged included.");
        _meter.CreateObservableGauge("durable_emitter.queue.pending", () => Stats.Depth, "{event}", "Undelivered rows: the backlog.");
        _meter.CreateObservableGauge("durable_emitter.queue.payload_bytes", () => Stats.PayloadBytes, "By", "Payload bytes of undelivered rows.");
        _meter.CreateObservableGauge("durable_emitter.queue.oldest_pending_age_seconds", () => Stats.OldestPendingAge.TotalSeconds, "s", "Age of the oldest undelivered row.");
        _meter.CreateObservableGauge("durable_emitter.queue.near_ttl", () => Stats.NearTtlCount, "{event}", "Undelivered rows close to expiry.");
        _meter.CreateObservableGauge("durable_emitter.queue.capacity_usage_ratio", ObserveCapacity, "1", "Pending payload bytes over MaxQueuePayloadBytes.");
    }

    public void SetMaxQueuePayloadBytes(long value) => Interlocked.Exchange(ref _maxQueuePayloadBytes, value);

    public void Emitted(TimeSpan elapsed, bool success)
    {
        (success ? _emitSuccess : _emitFailure).Add(1);
        _emitDuration.Record(elapsed.TotalSeconds);
    }

    public void Published(TimeSpan elapsed, bool success, string phase)
    {
        var tag = new KeyValuePair<string, object?>("phase", phase);
        (success ? _publishSuccess : _publishFailure).Add(1, tag);
        _publishDuration.Record(elapsed.TotalSeconds, tag);
    }

    public void Delivered(long count) => _delivered.Add(count);

    public void Expired(long count) => _expired.Add(count);

    public void BufferFull(string phase) => _bufferFull.Add(1, new KeyValuePair<string, object?>("phase", phase));

    public void Corrupt() => _corrupt.Add(1);

    public void StoreOperation(string operation, TimeSpan elapsed, bool error)
    {
        var tags = new TagList { { "operation", operation }, { "error", error } };
        _storeOperations.Add(1, tags);
        _storeDuration.Record(elapsed.TotalSeconds, tags);
    }

    public void Observed(DurableQueueStats stats) => Volatile.Write(ref _stats, stats);

    private DurableQueueStats Stats => (DurableQueueStats)Volatile.Read(ref _stats);

    public void Dispose() => _package.Dispose();

    private IEnumerable<Measurement<double>> ObserveCapacity()
    {
        var max = Interlocked.Read(ref _maxQueuePayloadBytes);
        return max > 0 ? [new Measurement<double>((double)Stats.PayloadBytes / max)] : [];
    }
}
