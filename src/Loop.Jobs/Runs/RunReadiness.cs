namespace Loop.Jobs;

/// <summary>When the first unfinished run of a job may execute: the one rule both stores apply when claiming.</summary>
internal static class RunReadiness
{
    public static bool IsReady(RunStatus status, DateTimeOffset? sleepUntil, long? waitForHeight, DateTimeOffset now, long? height) => status switch
    {
        // A run created ahead of its cron or run-at occurrence carries the occurrence as its wake time.
        RunStatus.InProgress => sleepUntil is null || sleepUntil <= now,
        RunStatus.PendingSleep => sleepUntil <= now,
        RunStatus.PendingConfirmations => height is { } h && waitForHeight <= h,
        _ => false,
    };
}
