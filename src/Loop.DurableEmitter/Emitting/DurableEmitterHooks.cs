namespace Loop.DurableEmitter;

/// <summary>
/// Instrumentation callbacks for load tests and profiling. They run on many threads at once and must be thread-safe
/// and quick; an exception from a hook is ignored.
/// </summary>
public sealed class DurableEmitterHooks
{
    /// <summary>After the insert that blocks an emit: its duration and error (null on success).</summary>
    public Action<TimeSpan, Exception?>? OnEmitInsert { get; init; }

    /// <summary>When an event's send finished: time since it was queued, batch size (always 1: one call per event), error.</summary>
    public Action<TimeSpan, int, Exception?>? OnBatchPublish { get; init; }

    /// <summary>After a delivery mark: its duration and how many rows it marked.</summary>
    public Action<TimeSpan, int>? OnBatchMarkDelivered { get; init; }
}
