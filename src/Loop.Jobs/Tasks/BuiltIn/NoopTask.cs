namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary><c>noop</c>: its output is its input.</summary>
internal sealed class NoopTask : IJobTask
{
    public string Type => "noop";

    public bool IsPure => true;

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TaskResult.Completed(context.Input));
}
