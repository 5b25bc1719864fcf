using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>Options of <see cref="DurableEmitter"/>. Defaults follow the seed design.</summary>
public sealed class DurableEmitterOptions
{
    /// <summary>Run the retransmit, expiry and purge loops. Turn off in processes that share the host's table (plugins): the host retransmits their rows.</summary>
    public bool RetransmitEnabled { get; set; } = true;

    /// <summary>How often the retransmit loop runs. Default 5 s.</summary>
    [Positive]
    public TimeSpan RetransmitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The minimum age of an event before retransmit considers it, giving the first send time to finish; also the lease a retransmit holds on a row. Default 10 s.</summary>
    [Positive]
    public TimeSpan RetransmitAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most pending rows claimed per retransmit run. Default 100.</summary>
    [Positive]
    public int RetransmitBatchSize { get; set; } = 100;

    /// <summary>How often the expiry loop runs. Default 1 min.</summary>
    [Positive]
    public TimeSpan ExpiryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an undelivered event is kept before it expires. Default 1 h.</summary>
    [Positive]
    public TimeSpan EventTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The deadline of store operations done off the caller's path (batch inserts, delivery marks, fallback publish). Default 5 s.</summary>
    [Positive]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often delivered rows are purged. Default 250 ms.</summary>
    [Positive]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The most delivered rows deleted per purge statement. Default 500.</summary>
    [Positive]
    public int PurgeBatchSize { get; set; } = 500;

    /// <summary>
    /// Run neither purge nor expiry (for post-run analysis). Off by default. To keep delivered rows in PostgreSQL also
    /// turn off <see cref="PgDurableEventStoreOptions.DeleteOnDelivery"/>.
    /// </summary>
    public bool DisablePruning { get; set; }

    /// <summary>Coalesce concurrent emits into batch inserts of up to this many rows when the store supports it; 0 inserts one by one. Default 100.</summary>
    [NotNegative]
    public int InsertBatchSize { get; set; } = 100;

    /// <summary>
    /// How long a coalesced insert waits for more emits after its first. Default zero: insert what is queued at once.
    /// Under load batches still form while the workers are busy; a linger only adds latency (measured: a 2 ms linger
    /// costs about 4.5 ms per emit from timer granularity and cut throughput threefold; see docs/benchmarks.md).
    /// </summary>
    [NotNegative]
    public TimeSpan InsertBatchFlushInterval { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How many coalesced inserts run at once. Default 4, which overlaps commits when each one waits on a remote server
    /// or a slow disk. With PostgreSQL on the same small machine, 1 measured faster (bigger commits, less CPU on both
    /// sides; see docs/benchmarks.md).
    /// </summary>
    [Positive]
    public int InsertBatchWorkers { get; set; } = 4;

    /// <summary>The most delivery marks in one update. Default 100.</summary>
    [Positive]
    public int MarkDeliveredBatchSize { get; set; } = 100;

    /// <summary>How long a delivery mark waits for more after its first. Default 50 ms.</summary>
    [NotNegative]
    public TimeSpan MarkDeliveredFlushInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Try a unary publish of a single event when its batch failed, before leaving it to retransmit. Needs a transport that implements <see cref="IEventPublisher"/>. Off by default.</summary>
    public bool FallbackEnabled { get; set; }

    /// <summary>How often queue gauges are refreshed from the store. Default 10 s.</summary>
    [Positive]
    public TimeSpan MetricsPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long before the TTL a pending row counts as near expiry. Default 5 min.</summary>
    [NotNegative]
    public TimeSpan NearExpiryLead { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>When positive, <c>queue.capacity_usage_ratio</c> = pending payload bytes / this. Default 0 (off).</summary>
    [NotNegative]
    public long MaxQueuePayloadBytes { get; set; }

    /// <summary>How long a stop waits for in-flight work. Default 30 s.</summary>
    [Positive]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Optional instrumentation callbacks.</summary>
    public DurableEmitterHooks? Hooks { get; set; }

    /// <summary>The rules across properties (the single-property ones are attributes).</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(DurableEmitterOptions options)
    {
        if (options.NearExpiryLead >= options.EventTtl)
        {
            yield return (nameof(NearExpiryLead), $"must be below EventTtl ({options.EventTtl}) (was {options.NearExpiryLead})");
        }

        if (options.RetransmitAfter >= options.EventTtl)
        {
            yield return (nameof(RetransmitAfter), $"must be below EventTtl ({options.EventTtl}), or nothing is ever retransmitted (was {options.RetransmitAfter})");
        }
    }
}

/// <summary>The generated DataAnnotations validator of <see cref="DurableEmitterOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class DurableEmitterOptionsValidator : IValidateOptions<DurableEmitterOptions>;
