using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Loop.Jobs.Tests;

/// <summary><c>record</c>: notes each execution (run and task) in order, then completes with its input.</summary>
public sealed class RecordTask : IJobTask
{
    public ConcurrentQueue<(Guid Run, int Task)> Executions { get; } = new();

    public string Type => "record";

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        Executions.Enqueue((context.RunId, context.TaskIndex));
        return ValueTask.FromResult(TaskResult.Completed(context.Input));
    }
}

/// <summary><c>external</c>: always waits for an external answer.</summary>
public sealed class ExternalTask : IJobTask
{
    public string Type => "external";

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(TaskResult.PendingExternal());
}

/// <summary><c>needs-link</c>: pending a connection until <see cref="Up"/> is set, then completes.</summary>
public sealed class NeedsLinkTask : IJobTask
{
    public volatile bool Up;

    public string Type => "needs-link";

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Up ? TaskResult.Completed(JsonValue.Create("linked")) : TaskResult.PendingConnection("the link is down"));
}

/// <summary><c>throws</c>: throws.</summary>
public sealed class ThrowingTask : IJobTask
{
    public string Type => "throws";

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("the adapter is broken");
}
