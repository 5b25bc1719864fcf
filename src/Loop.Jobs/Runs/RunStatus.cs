namespace Loop.Jobs;

/// <summary>Where a run is. A run in a pending state holds back the later runs of its job.</summary>
public enum RunStatus
{
    /// <summary>Runnable: its next task runs as soon as a runner takes it.</summary>
    InProgress,

    /// <summary>Waiting until the tracked head reaches <see cref="JobRun.WaitForHeight"/>.</summary>
    PendingConfirmations,

    /// <summary>Waiting for a dependency (the chain) to be connected again.</summary>
    PendingConnection,

    /// <summary>Waiting for an external adapter's answer (<see cref="IJobService.ResumePendingTaskAsync"/>).</summary>
    PendingBridge,

    /// <summary>Asleep until <see cref="JobRun.SleepUntil"/>.</summary>
    PendingSleep,

    /// <summary>Every task completed.</summary>
    Completed,

    /// <summary>A task failed; <see cref="JobRun.Error"/> says why.</summary>
    Errored,

    /// <summary>Cancelled; <see cref="JobRun.Error"/> says why.</summary>
    Cancelled,
}

/// <summary>Names and kinds of <see cref="RunStatus"/> values.</summary>
public static class RunStatuses
{
    /// <summary>Whether the run is over (completed, errored or cancelled).</summary>
    public static bool IsFinished(this RunStatus status) => status is RunStatus.Completed or RunStatus.Errored or RunStatus.Cancelled;

    /// <summary>The stored name (<c>pending_bridge</c>), as Chainlink's run statuses are spelled.</summary>
    public static string ToName(this RunStatus status) => status switch
    {
        RunStatus.InProgress => "in_progress",
        RunStatus.PendingConfirmations => "pending_confirmations",
        RunStatus.PendingConnection => "pending_connection",
        RunStatus.PendingBridge => "pending_bridge",
        RunStatus.PendingSleep => "pending_sleep",
        RunStatus.Completed => "completed",
        RunStatus.Errored => "errored",
        RunStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>Reads a stored name.</summary>
    public static RunStatus Parse(string name) => name switch
    {
        "in_progress" => RunStatus.InProgress,
        "pending_confirmations" => RunStatus.PendingConfirmations,
        "pending_connection" => RunStatus.PendingConnection,
        "pending_bridge" => RunStatus.PendingBridge,
        "pending_sleep" => RunStatus.PendingSleep,
        "completed" => RunStatus.Completed,
        "errored" => RunStatus.Errored,
        "cancelled" => RunStatus.Cancelled,
        _ => throw new FormatException($"unknown run status '{name}'"),
    };
}
