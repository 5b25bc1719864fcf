using System.Diagnostics;
using System.Diagnostics.Metrics;
using Loop.Events;

namespace Loop.DurableEmitter;

/// <summary>The emitter's OpenTelemetry-compatible instruments on meter <see cref="MeterName"/>.</summary>
internal sealed class DurableEmitterMetrics : IDisposable
{
    /// <summary>The meter name to enable in OpenTelemetry (<c>AddMeter("Loop.DurableEmitter")</c>).</summary>
    public const string MeterName = Loop.Telemetry.LoopMeters.DurableEmitter;

    private static readonly double[] DurationBuckets = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly Loop.Telemetry.PackageMeter _package;
    private readonly Meter _meter;
    private static readonly KeyValuePair<string, object?> Stored = new("outcome", "stored");
    private static readonly KeyValuePair<string, object?> Failed = new("outcome", "failed");
    private static readonly KeyValuePair<string, object?> Accepted = new("outcome", "accepted");
    private readonly Counter<long> _emits;
    private readonly Histogram<double> _emitDuration;
    private readonly Counter<long> _sends;
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
        _emits = _meter.CreateCounter<long>("loop.emitter.emits", "{call}", "Emits, by outcome (stored, failed).");
        _emitDuration = _meter.CreateHistogram("loop.emitter.emit.duration", "s", "Time an emit waited for its insert, by outcome.", advice: seconds);
        _sends = _meter.CreateCounter<long>("loop.emitter.sends", "{event}", "Events sent to the ingress, by outcome (accepted, failed) and phase (first, retransmit).");
        _publishDuration = _meter.CreateHistogram("loop.emitter.send.duration", "s", "Time from queueing an event to its send result, by phase.", advice: seconds);
        _delivered = _meter.CreateCounter<long>("loop.emitter.delivered", "{event}", "Events marked delivered in the store.");
        _expired = _meter.CreateCounter<long>("loop.emitter.expired", "{event}", "Undelivered events deleted by expiry.");
        _bufferFull = _meter.CreateCounter<long>("loop.emitter.refused", "{event}", "Events the transport's full buffer refused (left for retransmit), by phase.");
        _corrupt = _meter.CreateCounter<long>("loop.emitter.corrupt", "{event}", "Stored payloads that are not CloudEvents (skipped).");
        _storeOperations = _meter.CreateCounter<long>("loop.emitter.store.operations", "{operation}", "Store operations, by operation and outcome (succeeded, failed).");
        _storeDuration = _meter.CreateHistogram("loop.emitter.store.operation.duration", "s", "Store operation durations, by operation and outcome.", advice: seconds);
        _meter.CreateObservableGauge("loop.emitter.queue.rows", () => Stats.TotalRows, "{event}", "Rows in the store, delivered but unpurged included.");
        _meter.CreateObservableGauge("loop.emitter.queue.pending", () => Stats.Depth, "{event}", "Undelivered rows: the backlog.");
        _meter.CreateObservableGauge("loop.emitter.queue.payload.size", () => Stats.PayloadBytes, "By", "Payload bytes of undelivered rows.");
        _meter.CreateObservableGauge("loop.emitter.queue.oldest_pending.age", () => Stats.OldestPendingAge.TotalSeconds, "s", "Age of the oldest undelivered row.");
        _meter.CreateObservableGauge("loop.emitter.queue.near_ttl", () => Stats.NearTtlCount, "{event}", "Undelivered rows close to expiry.");
        _meter.CreateObservableGauge("loop.emitter.queue.capacity.usage", ObserveCapacity, "1", "Pending payload bytes over MaxQueuePayloadBytes.");
    }

    public void SetMaxQueuePayloadBytes(long value) => Interlocked.Exchange(ref _maxQueuePayloadBytes, value);

    public void Emitted(TimeSpan elapsed, bool success)
    {
        var outcome = success ? Stored : Failed;
        _emits.Add(1, outcome);
        _emitDuration.Record(elapsed.TotalSeconds, outcome);
    }

    public void Published(TimeSpan elapsed, bool success, string phase)
    {
        var tag = new KeyValuePair<string, object?>("phase", phase);
        _sends.Add(1, success ? Accepted : Failed, tag);
        _publishDuration.Record(elapsed.TotalSeconds, tag);
    }

    public void Delivered(long count) => _delivered.Add(count);

    public void Expired(long count) => _expired.Add(count);

    public void BufferFull(string phase) => _bufferFull.Add(1, new KeyValuePair<string, object?>("phase", phase));

    public void Corrupt() => _corrupt.Add(1);

    public void StoreOperation(string operation, TimeSpan elapsed, bool error)
    {
        var tags = new TagList { { "operation", operation }, { "outcome", error ? "failed" : "succeeded" } };
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
