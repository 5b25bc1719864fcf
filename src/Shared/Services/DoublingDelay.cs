namespace Loop.Services;

/// <summary>The wait between attempts of a run of failures (a relaunch, a reconnect): the first delay, doubled per failure, capped.</summary>
internal static class DoublingDelay
{
    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: <paramref name="first"/> × 2^attempt, at most <paramref name="max"/>.</summary>
    public static TimeSpan After(int attempt, TimeSpan first, TimeSpan max) =>
        TimeSpan.FromTicks((long)Math.Min(first.Ticks * Math.Pow(2, Math.Min(attempt, 30)), max.Ticks));
}
