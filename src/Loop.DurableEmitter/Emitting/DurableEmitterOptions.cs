namespace Loop.DurableEmitter;

/// <summary>Options of <see cref="DurableEmitter"/>. Defaults follow the seed design.</summary>
public sealed class DurableEmitterOptions
{
    /// <summary>Run the retransmit, expiry and purge loops. Turn off in processes that share the host's table (plugins): the host retransmits their rows.</summary>
    public bool RetransmitEnabled { get; set; } = true;

    /// <summary>How often the retransmit loop runs. Default 5 s.</summary>
    public TimeSpan RetransmitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The minimum age of an event before retransmit considers it, giving the first send time to finish; also the lease a retransmit holds on a row. Default 10 s.</summary>
    public TimeSpan RetransmitAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most pending rows claimed per retransmit run. Default 100.</summary>
    public int RetransmitBatchSize { get; set; } = 100;

    /// <summary>How often the expiry loop runs. Default 1 min.</summary>
    public TimeSpan ExpiryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an undelivered event is kept before it expires. Default 1 h.</summary>
    public TimeSpan EventTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The deadline of store operations done off the caller's path (batch inserts, delivery marks, fallback publish). Default 5 s.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often delivered rows are purged. Default 250 ms.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The most delivered rows deleted per purge statement. Default 500.</summary>
    public int PurgeBatchSize { get; set; } = 500;

    /// <summary>
    /// Run neither purge nor expiry (for post-run analysis). Off by default. To keep delivered rows in PostgreSQL also
    /// turn off <see cref="PgDurableEventStoreOptions.DeleteOnDelivery"/>.
    /// </summary>
    public bool DisablePruning { get; set; }

    /// <summary>Coalesce concurrent emits into batch inserts of up to this many rows when the store supports it; 0 inserts one by one. Default 100.</summary>
    public int InsertBatchSize { get; set; } = 100;

    /// <summary>
    /// How long a coalesced insert waits for more emits after its first. Default zero: insert what is queued at once.
    /// Under load batches still form while the workers are busy; a linger only adds latency (measured: a 2 ms linger
    /// costs about 4.5 ms per emit from timer granularity and cut throughput threefold; see docs/benchmarks.md).
    /// </summary>
    public TimeSpan InsertBatchFlushInterval { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How many coalesced inserts run at once. Default 4, which overlaps commits when each one waits on a remote server
    /// or a slow disk. With PostgreSQL on the same small machine, 1 measured faster (bigger commits, less CPU on both
    /// sides; see docs/benchmarks.md).
    /// </summary>
    public int InsertBatchWorkers { get; set; } = 4;

    /// <summary>The most delivery marks in one update. Default 100.</summary>
    public int MarkDeliveredBatchSize { get; set; } = 100;

    /// <summary>How long a delivery mark waits for more after its first. Default 50 ms.</summary>
    public TimeSpan MarkDeliveredFlushInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Try a unary publish of a single event when its batch failed, before leaving it to retransmit. Needs a transport that implements <see cref="IEventPublisher"/>. Off by default.</summary>
    public bool FallbackEnabled { get; set; }

    /// <summary>How often queue gauges are refreshed from the store. Default 10 s.</summary>
    public TimeSpan MetricsPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long before the TTL a pending row counts as near expiry. Default 5 min.</summary>
    public TimeSpan NearExpiryLead { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>When positive, <c>queue.capacity_usage_ratio</c> = pending payload bytes / this. Default 0 (off).</summary>
    public long MaxQueuePayloadBytes { get; set; }

    /// <summary>How long a stop waits for in-flight work. Default 30 s.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Optional instrumentation callbacks.</summary>
    public DurableEmitterHooks? Hooks { get; set; }

    /// <summary>Returns an error naming the first bad setting, or null.</summary>
    public string? Validate()
    {
        static string? Positive(string name, TimeSpan value) =>
            value > TimeSpan.Zero ? null : $"DurableEmitterOptions.{name} must be positive (was {value}).";

        static string? AtLeastOne(string name, int value) =>
            value >= 1 ? null : $"DurableEmitterOptions.{name} must be at least 1 (was {value}).";

        return Positive(nameof(RetransmitInterval), RetransmitInterval)
            ?? Positive(nameof(RetransmitAfter), RetransmitAfter)
            ?? AtLeastOne(nameof(RetransmitBatchSize), RetransmitBatchSize)
            ?? Positive(nameof(ExpiryInterval), ExpiryInterval)
            ?? Positive(nameof(EventTtl), EventTtl)
            ?? Positive(nameof(PublishTimeout), PublishTimeout)
            ?? Positive(nameof(PurgeInterval), PurgeInterval)
            ?? AtLeastOne(nameof(PurgeBatchSize), PurgeBatchSize)
            ?? (InsertBatchSize >= 0 ? null : $"DurableEmitterOptions.InsertBatchSize must not be negative (was {InsertBatchSize}).")
            ?? (InsertBatchFlushInterval >= TimeSpan.Zero ? null : $"DurableEmitterOptions.InsertBatchFlushInterval must not be negative (was {InsertBatchFlushInterval}).")
            ?? AtLeastOne(nameof(InsertBatchWorkers), InsertBatchWorkers)
            ?? AtLeastOne(nameof(MarkDeliveredBatchSize), MarkDeliveredBatchSize)
            ?? (MarkDeliveredFlushInterval >= TimeSpan.Zero ? null : $"DurableEmitterOptions.MarkDeliveredFlushInterval must not be negative (was {MarkDeliveredFlushInterval}).")
            ?? Positive(nameof(MetricsPollInterval), MetricsPollInterval)
            ?? (NearExpiryLead >= TimeSpan.Zero && NearExpiryLead < EventTtl ? null : $"DurableEmitterOptions.NearExpiryLead must be between 0 and EventTtl ({EventTtl}) (was {NearExpiryLead}).")
            ?? (MaxQueuePayloadBytes >= 0 ? null : $"DurableEmitterOptions.MaxQueuePayloadBytes must not be negative (was {MaxQueuePayloadBytes}).")
            ?? Positive(nameof(StopTimeout), StopTimeout)
            ?? (RetransmitAfter < EventTtl ? null : $"DurableEmitterOptions.RetransmitAfter ({RetransmitAfter}) must be shorter than EventTtl ({EventTtl}), or nothing is ever retransmitted.");
    }
}
