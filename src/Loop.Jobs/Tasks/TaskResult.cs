using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>What a task's run came to: completed, errored, or one of the pending states that park the run.</summary>
public sealed class TaskResult
{
    private TaskResult(TaskOutcome outcome, JsonNode? output = null, string? error = null, DateTimeOffset? until = null)
    {
        Outcome = outcome;
        Output = output;
        Error = error;
        Until = until;
    }

    /// <summary>The kind of result.</summary>
    public TaskOutcome Outcome { get; }

    /// <summary>The output (the next task's input) when completed.</summary>
    public JsonNode? Output { get; }

    /// <summary>Why the task failed, when errored.</summary>
    public string? Error { get; }

    /// <summary>When a sleeping run wakes.</summary>
    public DateTimeOffset? Until { get; }

    /// <summary>The task completed with <paramref name="output"/>.</summary>
    public static TaskResult Completed(JsonNode? output) => new(TaskOutcome.Completed, output);

    /// <summary>The task failed: the run errors with <paramref name="error"/>.</summary>
    public static TaskResult Errored(string error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        return new(TaskOutcome.Errored, error: error);
    }

    /// <summary>The answer comes later from outside (<see cref="IJobService.ResumePendingTaskAsync"/>): the run waits.</summary>
    public static TaskResult PendingExternal() => new(TaskOutcome.PendingExternal);

    /// <summary>The run sleeps until <paramref name="until"/>; then the task completes with its input as output.</summary>
    public static TaskResult SleepUntil(DateTimeOffset until) => new(TaskOutcome.Sleep, until: until);

    /// <summary>A dependency the task needs is not connected: the run waits until it is (<see cref="IJobService.ResumeConnectingRunsAsync"/>), then runs the task again.</summary>
    public static TaskResult PendingConnection(string why)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(why);
        return new(TaskOutcome.PendingConnection, error: why);
    }
}

/// <summary>The kinds of <see cref="TaskResult"/>.</summary>
public enum TaskOutcome
{
    /// <summary>Completed with an output.</summary>
    Completed,

    /// <summary>Failed; the run errors.</summary>
    Errored,

    /// <summary>Waits for an external answer.</summary>
    PendingExternal,

    /// <summary>Sleeps until a time.</summary>
    Sleep,

    /// <summary>Waits for a dependency to be connected.</summary>
    PendingConnection,
}
