namespace Loop.Jobs;

/// <summary>
/// A task type: registered through dependency injection (<c>AddLoopJobs().AddTask&lt;T&gt;()</c>) and named in job
/// specs by <see cref="Type"/>. A task may run more than once for one run (a host that dies while it executes runs it
/// again on restart), so make it idempotent or let it tolerate a repeat.
/// </summary>
public interface IJobTask
{
    /// <summary>The task type name used in specs (matched case-insensitively).</summary>
    string Type { get; }

    /// <summary>
    /// Whether the task is pure: no effect outside its run, and the same output for the same input and parameters
    /// (<c>jsonparse</c>, <c>multiply</c>, <c>noop</c>). A pure task's completion is written with the next checkpoint
    /// rather than on its own: after a crash it runs again and gives the same output. Default false.
    /// </summary>
    bool IsPure => false;

    /// <summary>Checks a task's parameters when a job is added; returns the problems (paths relative to <c>params</c>).</summary>
    IEnumerable<JobValidationError> Validate(TaskSpec task) => [];

    /// <summary>Runs the task on <see cref="TaskContext.Input"/>.</summary>
    ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken);
}
