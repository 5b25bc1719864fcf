namespace Loop.DurableEmitter.Stores;

/// <summary>Timestamps as stores keep them: UTC, truncated to PostgreSQL's microsecond precision so cursors round-trip.</summary>
internal static class StoreClock
{
    public static DateTimeOffset Now(TimeProvider timeProvider) => Truncate(timeProvider.GetUtcNow());

    public static DateTimeOffset Truncate(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return utc.AddTicks(-(utc.Ticks % 10));
    }
}
