using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>How a batching transport buffers and groups events. Defaults follow the upstream batch client.</summary>
public class BatchingOptions
{
    /// <summary>The most events in one batch. Default 50.</summary>
    [Positive]
    public int BatchSize { get; set; } = 50;

    /// <summary>The longest a batch waits after its first event (a maximum age, not a debounce). Default 50 ms.</summary>
    [NotNegative]
    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How many batches may be in flight at once. Default 4.</summary>
    [Positive]
    public int MaxConcurrentSends { get; set; } = 4;

    /// <summary>How many events the buffer holds; past that events are refused (they stay stored). Default 10,000.</summary>
    [Positive]
    public int BufferSize { get; set; } = 10_000;

    /// <summary>How long a stop waits for buffered and in-flight batches before cancelling them. Default 30 s.</summary>
    [Positive]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

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
