using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>What a task runs with.</summary>
public sealed class TaskContext
{
    internal TaskContext(JobSpec job, JobRun run, TaskSpec task, TimeProvider timeProvider)
    {
        Job = job;
        RunId = run.Id;
        TaskIndex = run.TaskIndex;
        Task = task;
        Input = run.Data?.DeepClone();
        CreationHeight = run.CreationHeight;
        TimeProvider = timeProvider;
    }

    /// <summary>The job.</summary>
    public JobSpec Job { get; }

    /// <summary>The run's id.</summary>
    public Guid RunId { get; }

    /// <summary>The task's position in the job.</summary>
    public int TaskIndex { get; }

    /// <summary>The task's spec (type and parameters).</summary>
    public TaskSpec Task { get; }

    /// <summary>The previous task's output (the run's input for the first task); a copy the task may change.</summary>
    public JsonNode? Input { get; }

    /// <summary>The chain height the run was created at, if known.</summary>
    public long? CreationHeight { get; }

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider { get; }
}
