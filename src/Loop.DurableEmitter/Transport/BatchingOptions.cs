using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>How a batching transport buffers and groups events. Defaults follow the upstream batch client.</summary>
public class BatchingOptions
{
    /// <summary>The default of <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 50;

    /// <summary>The default of <see cref="BatchInterval"/>.</summary>
    public static readonly TimeSpan DefaultBatchInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The default of <see cref="MaxConcurrentSends"/>.</summary>
    public const int DefaultMaxConcurrentSends = 4;

    /// <summary>The default of <see cref="BufferSize"/>.</summary>
    public const int DefaultBufferSize = 10_000;

    /// <summary>The default of <see cref="ShutdownTimeout"/>.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The most events in one batch.</summary>
    /// <value>Default <see cref="DefaultBatchSize"/> (50).</value>
    [Positive]
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>The longest a batch waits after its first event (a maximum age, not a debounce).</summary>
    /// <value>Default <see cref="DefaultBatchInterval"/> (50 ms).</value>
    [NotNegative]
    public TimeSpan BatchInterval { get; set; } = DefaultBatchInterval;

    /// <summary>How many batches may be in flight at once.</summary>
    /// <value>Default <see cref="DefaultMaxConcurrentSends"/> (4).</value>
    [Positive]
    public int MaxConcurrentSends { get; set; } = DefaultMaxConcurrentSends;

    /// <summary>How many events the buffer holds; past that events are refused (they stay stored).</summary>
    /// <value>Default <see cref="DefaultBufferSize"/> (10,000).</value>
    [Positive]
    public int BufferSize { get; set; } = DefaultBufferSize;

    /// <summary>How long a stop waits for buffered and in-flight batches before cancelling them.</summary>
    /// <value>Default <see cref="DefaultShutdownTimeout"/> (30 s).</value>
    [Positive]
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;

    /// <summary>The rules across properties (the single-property ones are attributes).</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(BatchingOptions options)
    {
        if (options.BufferSize < options.BatchSize)
        {
            yield return (nameof(BufferSize), $"must be at least BatchSize ({options.BatchSize}) (was {options.BufferSize})");
        }
    }
}

/// <summary>The generated DataAnnotations validator of <see cref="BatchingOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class BatchingOptionsValidator : IValidateOptions<BatchingOptions>;
