using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.DurableEmitter;

/// <summary>Options of <see cref="DurableEventEmitter"/>. Defaults follow the seed design.</summary>
public sealed class DurableEmitterOptions
{
    /// <summary>The default of <see cref="RetransmitInterval"/>.</summary>
    public static readonly TimeSpan DefaultRetransmitInterval = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="RetransmitAfter"/>.</summary>
    public static readonly TimeSpan DefaultRetransmitAfter = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="RetransmitBatchSize"/>.</summary>
    public const int DefaultRetransmitBatchSize = 100;

    /// <summary>The default of <see cref="ExpiryInterval"/>.</summary>
    public static readonly TimeSpan DefaultExpiryInterval = TimeSpan.FromMinutes(1);

    /// <summary>The default of <see cref="EventTtl"/>.</summary>
    public static readonly TimeSpan DefaultEventTtl = TimeSpan.FromHours(1);

    /// <summary>The default of <see cref="PublishTimeout"/>.</summary>
    public static readonly TimeSpan DefaultPublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="PurgeInterval"/>.</summary>
    public static readonly TimeSpan DefaultPurgeInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The default of <see cref="PurgeBatchSize"/>.</summary>
    public const int DefaultPurgeBatchSize = 500;

    /// <summary>The default of <see cref="InsertBatchSize"/>.</summary>
    public const int DefaultInsertBatchSize = 100;

    /// <summary>The default of <see cref="InsertBatchFlushInterval"/>.</summary>
    public static readonly TimeSpan DefaultInsertBatchFlushInterval = TimeSpan.Zero;

    /// <summary>The default of <see cref="InsertBatchWorkers"/>.</summary>
    public const int DefaultInsertBatchWorkers = 4;

    /// <summary>The default of <see cref="MarkDeliveredBatchSize"/>.</summary>
    public const int DefaultMarkDeliveredBatchSize = 1000;

    /// <summary>The default of <see cref="MarkDeliveredFlushInterval"/>.</summary>
    public static readonly TimeSpan DefaultMarkDeliveredFlushInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The default of <see cref="MetricsPollInterval"/>.</summary>
    public static readonly TimeSpan DefaultMetricsPollInterval = TimeSpan.FromSeconds(10);

    /// <summary>The default of <see cref="NearExpiryLead"/>.</summary>
    public static readonly TimeSpan DefaultNearExpiryLead = TimeSpan.FromMinutes(5);

    /// <summary>The default of <see cref="DegradedAfterSendFailures"/>.</summary>
    public static readonly TimeSpan DefaultDegradedAfterSendFailures = TimeSpan.FromSeconds(30);

    /// <summary>The default of <see cref="DegradedPendingAge"/>.</summary>
    public static readonly TimeSpan DefaultDegradedPendingAge = TimeSpan.FromMinutes(5);

    /// <summary>The default of <see cref="StopTimeout"/>.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Store events and deliver none: for processes that only write into a table a host shares and delivers from
    /// (<c>UseStoreOnly()</c>). Rows are stored without a lease, so the host's retransmit takes them once they are
    /// <see cref="RetransmitAfter"/> old; no loop runs here.
    /// </summary>
    public bool StoreOnly { get; set; }

    /// <summary>Run the retransmit, expiry and purge loops. Turn off in processes that share the host's table (plugins): the host retransmits their rows.</summary>
    public bool RetransmitEnabled { get; set; } = true;

    /// <summary>How often the retransmit loop runs.</summary>
    /// <value>Default <see cref="DefaultRetransmitInterval"/> (5 s).</value>
    [Positive]
    public TimeSpan RetransmitInterval { get; set; } = DefaultRetransmitInterval;

    /// <summary>
    /// How long a row is leased to the process that stored or claimed it (no other process sends it meanwhile, and no
    /// send of it outlasts the lease), and so the minimum age of a row before retransmit considers it. Must exceed the
    /// transport's publish timeout.
    /// </summary>
    /// <value>Default <see cref="DefaultRetransmitAfter"/> (10 s).</value>
    [Positive]
    public TimeSpan RetransmitAfter { get; set; } = DefaultRetransmitAfter;

    /// <summary>The most pending rows claimed per retransmit run.</summary>
    /// <value>Default <see cref="DefaultRetransmitBatchSize"/> (100).</value>
    [Positive]
    public int RetransmitBatchSize { get; set; } = DefaultRetransmitBatchSize;

    /// <summary>How often the expiry loop runs.</summary>
    /// <value>Default <see cref="DefaultExpiryInterval"/> (1 min).</value>
    [Positive]
    public TimeSpan ExpiryInterval { get; set; } = DefaultExpiryInterval;

    /// <summary>How long an undelivered event is kept before it expires.</summary>
    /// <value>Default <see cref="DefaultEventTtl"/> (1 h).</value>
    [Positive]
    public TimeSpan EventTtl { get; set; } = DefaultEventTtl;

    /// <summary>The deadline of store operations done off the caller's path (batch inserts, delivery marks, fallback publish).</summary>
    /// <value>Default <see cref="DefaultPublishTimeout"/> (5 s).</value>
    [Positive]
    public TimeSpan PublishTimeout { get; set; } = DefaultPublishTimeout;

    /// <summary>How often delivered rows are purged.</summary>
    /// <value>Default <see cref="DefaultPurgeInterval"/> (250 ms).</value>
    [Positive]
    public TimeSpan PurgeInterval { get; set; } = DefaultPurgeInterval;

    /// <summary>The most delivered rows deleted per purge statement.</summary>
    /// <value>Default <see cref="DefaultPurgeBatchSize"/> (500).</value>
    [Positive]
    public int PurgeBatchSize { get; set; } = DefaultPurgeBatchSize;

    /// <summary>
    /// Run neither purge nor expiry (for post-run analysis). Off by default. To keep delivered rows in PostgreSQL also
    /// turn off <see cref="PgDurableEventStoreOptions.DeleteOnDelivery"/>.
    /// </summary>
    public bool DisablePruning { get; set; }

    /// <summary>Coalesce concurrent emits into batch inserts of up to this many rows when the store supports it; 0 inserts one by one.</summary>
    /// <value>Default <see cref="DefaultInsertBatchSize"/> (100).</value>
    [NotNegative]
    public int InsertBatchSize { get; set; } = DefaultInsertBatchSize;

    /// <summary>
    /// How long a coalesced insert waits for more emits after its first. Default zero: insert what is queued at once.
    /// Under load batches still form while the workers are busy; a linger only adds latency (measured: a 2 ms linger
    /// costs about 4.5 ms per emit from timer granularity and cut throughput threefold; see docs/benchmarks.md).
    /// </summary>
    /// <value>Default <see cref="DefaultInsertBatchFlushInterval"/>.</value>
    [NotNegative]
    public TimeSpan InsertBatchFlushInterval { get; set; } = DefaultInsertBatchFlushInterval;

    /// <summary>
    /// The most coalesced inserts that run at once. While one runs, another starts only when a whole batch
    /// (<see cref="InsertBatchSize"/>) is queued, so that waiting emits share one commit; several run under bursts, or
    /// where each commit waits on a remote server or a slow disk (see docs/benchmarks.md).
    /// </summary>
    /// <value>Default <see cref="DefaultInsertBatchWorkers"/>.</value>
    [Positive]
    public int InsertBatchWorkers { get; set; } = DefaultInsertBatchWorkers;

    /// <summary>
    /// The most delivery marks in one delete (or update). A mark statement costs the database more for being a statement
    /// than for its rows: at 64 callers, end to end with 100 ids a mark ran at 0.67–0.77 of the store-only emit rate,
    /// with 1,000 at 0.80–0.89 (docs/benchmarks.md). Upstream's emitter marks 100.
    /// </summary>
    /// <value>Default <see cref="DefaultMarkDeliveredBatchSize"/> (1,000).</value>
    [Positive]
    public int MarkDeliveredBatchSize { get; set; } = DefaultMarkDeliveredBatchSize;

    /// <summary>How long a delivery mark waits for more after its first.</summary>
    /// <value>Default <see cref="DefaultMarkDeliveredFlushInterval"/> (50 ms).</value>
    [NotNegative]
    public TimeSpan MarkDeliveredFlushInterval { get; set; } = DefaultMarkDeliveredFlushInterval;

    /// <summary>Try a unary publish of a single event when its batch failed, before leaving it to retransmit. Needs a transport that implements <see cref="IEventPublisher"/>. Off by default.</summary>
    public bool FallbackEnabled { get; set; }

    /// <summary>How often queue gauges are refreshed from the store.</summary>
    /// <value>Default <see cref="DefaultMetricsPollInterval"/> (10 s).</value>
    [Positive]
    public TimeSpan MetricsPollInterval { get; set; } = DefaultMetricsPollInterval;

    /// <summary>How long before the TTL a pending row counts as near expiry.</summary>
    /// <value>Default <see cref="DefaultNearExpiryLead"/> (5 min).</value>
    [NotNegative]
    public TimeSpan NearExpiryLead { get; set; } = DefaultNearExpiryLead;

    /// <summary>When positive, <c>queue.capacity_usage_ratio</c> = pending payload bytes / this. Default 0 (off).</summary>
    [NotNegative]
    public long MaxQueuePayloadBytes { get; set; }

    /// <summary>How long a stop waits for in-flight work.</summary>
    /// <value>Default <see cref="DefaultStopTimeout"/> (30 s).</value>
    [Positive]
    public TimeSpan StopTimeout { get; set; } = DefaultStopTimeout;

    /// <summary>How long sends may fail without one succeeding before the health check reports Degraded.</summary>
    /// <value>Default <see cref="DefaultDegradedAfterSendFailures"/> (30 s).</value>
    [Positive]
    public TimeSpan DegradedAfterSendFailures { get; set; } = DefaultDegradedAfterSendFailures;

    /// <summary>
    /// How old the oldest pending event may be before the health check reports Degraded (from the queue observation
    /// every <see cref="MetricsPollInterval"/>, for stores that report it).
    /// </summary>
    /// <value>Default <see cref="DefaultDegradedPendingAge"/> (5 min).</value>
    [Positive]
    public TimeSpan DegradedPendingAge { get; set; } = DefaultDegradedPendingAge;

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
