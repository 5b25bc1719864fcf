using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>
/// One run of a job: a snapshot of its state as stored. The runs of a job execute one at a time in the order they were
/// created (<see cref="Sequence"/>); a run's tasks execute in order from <see cref="TaskIndex"/>.
/// </summary>
public sealed class JobRun
{
    /// <summary>The run's id.</summary>
    public Guid Id { get; init; }

    /// <summary>The job it belongs to.</summary>
    public required string JobId { get; init; }

    /// <summary>Its place in the order of all runs, assigned by the store when the run is created.</summary>
    public long Sequence { get; set; }

    /// <summary>Where the run is.</summary>
    public RunStatus Status { get; set; }

    /// <summary>The type of the initiator that started it (<c>cron</c>, <c>web</c>, …).</summary>
    public required string InitiatorType { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The chain height it was created at, which confirmations count from (null until a head is known).</summary>
    public long? CreationHeight { get; set; }

    /// <summary>The input of the first task.</summary>
    public JsonNode? Input { get; init; }

    /// <summary>The next task to run (the count of completed tasks).</summary>
    public int TaskIndex { get; set; }

    /// <summary>The last completed task's output (the next task's input), or <see cref="Input"/> before the first.</summary>
    public JsonNode? Data { get; set; }

    /// <summary>Why the run errored or was cancelled.</summary>
    public string? Error { get; set; }

    /// <summary>When a sleeping run wakes; for a run created ahead of its cron or run-at occurrence, the occurrence (it starts no earlier).</summary>
    public DateTimeOffset? SleepUntil { get; set; }

    /// <summary>The height a run pending confirmations waits for.</summary>
    public long? WaitForHeight { get; set; }

    /// <summary>The bridge a run pending an external answer waits on.</summary>
    public string? PendingBridge { get; set; }

    /// <summary>When the run finished.</summary>
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The results of the tasks that finished, in order.</summary>
    public List<TaskRunResult> Results { get; init; } = [];

    /// <summary>The host executing the run, while one is.</summary>
    public string? Owner { get; set; }

    /// <summary>Until when <see cref="Owner"/> holds it; another host may take it over after this.</summary>
    public DateTimeOffset? LeaseUntil { get; set; }

    /// <summary>Incremented by every store update; an update names the version it read (optimistic concurrency).</summary>
    public int Version { get; set; }

    /// <summary>A deep copy.</summary>
    public JobRun Clone() => new()
    {
        Id = Id,
        JobId = JobId,
        Sequence = Sequence,
        Status = Status,
        InitiatorType = InitiatorType,
        CreatedAt = CreatedAt,
        CreationHeight = CreationHeight,
        Input = Input?.DeepClone(),
        TaskIndex = TaskIndex,
        Data = Data?.DeepClone(),
        Error = Error,
        SleepUntil = SleepUntil,
        WaitForHeight = WaitForHeight,
        PendingBridge = PendingBridge,
        FinishedAt = FinishedAt,
        Results = [.. Results],
        Owner = Owner,
        LeaseUntil = LeaseUntil,
        Version = Version,
    };

    /// <inheritdoc />
    public override string ToString() => $"run {Id} of job {JobId} ({Status.ToName()}, task {TaskIndex})";
}
