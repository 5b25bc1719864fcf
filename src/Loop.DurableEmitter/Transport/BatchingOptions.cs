namespace Loop.DurableEmitter;

/// <summary>How a batching transport buffers and groups events. Defaults follow the upstream batch client.</summary>
public class BatchingOptions
{
    /// <summary>The most events in one batch. Default 50.</summary>
    public int BatchSize { get; set; } = 50;

    /// <summary>The longest a batch waits after its first event (a maximum age, not a debounce). Default 50 ms.</summary>
    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How many batches may be in flight at once. Default 4.</summary>
    public int MaxConcurrentSends { get; set; } = 4;

    /// <summary>How many events the buffer holds; past that events are refused (they stay stored). Default 10,000.</summary>
    public int BufferSize { get; set; } = 10_000;

    /// <summary>How long a stop waits for buffered and in-flight batches before cancelling them. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Returns an error naming the first bad setting, or null.</summary>
    public virtual string? Validate()
    {
        if (BatchSize < 1)
        {
            return $"{GetType().Name}.BatchSize must be at least 1 (was {BatchSize}).";
        }

        if (BatchInterval < TimeSpan.Zero)
        {
            return $"{GetType().Name}.BatchInterval must not be negative (was {BatchInterval}).";
        }

        if (MaxConcurrentSends < 1)
        {
            return $"{GetType().Name}.MaxConcurrentSends must be at least 1 (was {MaxConcurrentSends}).";
        }

        if (BufferSize < BatchSize)
        {
            return $"{GetType().Name}.BufferSize must be at least BatchSize ({BatchSize}) (was {BufferSize}).";
        }

        return ShutdownTimeout <= TimeSpan.Zero ? $"{GetType().Name}.ShutdownTimeout must be positive (was {ShutdownTimeout})." : null;
    }
}
