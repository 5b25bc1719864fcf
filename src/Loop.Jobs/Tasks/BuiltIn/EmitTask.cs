using System.Text;
using Loop.DurableEmitter;

namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary>
/// <c>emit</c> <c>{"source": "…", "type": "…", "subject"?: "…"}</c>: emits its input as a JSON CloudEvent through the host's
/// durable emitter (the event is durable when the task completes); its output is its input. The idempotency key is the
/// run and task, so a task run again after a crash emits an event the ingress can recognise as the same.
/// </summary>
internal sealed class EmitTask(IDurableEventEmitter? emitter) : IJobTask
{
    public string Type => "emit";

    public IEnumerable<JobValidationError> Validate(TaskSpec task)
    {
        foreach (var name in new[] { "source", "type" })
        {
            if (string.IsNullOrWhiteSpace(TaskParams.String(task.Params, name)))
            {
                yield return new JobValidationError(name, "must be a non-empty string (the CloudEvent " + name + ")");
            }
        }

        if (emitter is null)
        {
            yield return new JobValidationError("type", "no durable emitter is registered (AddDurableEmitter) for the emit task");
        }
    }

    public async ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        if (emitter is null)
        {
            return TaskResult.Errored("emit: no durable emitter is registered");
        }

        var attributes = new EventAttributes
        {
            Source = TaskParams.String(context.Task.Params, "source")!,
            Type = TaskParams.String(context.Task.Params, "type")!,
            Subject = TaskParams.String(context.Task.Params, "subject"),
            DataContentType = ContentTypes.Json,
            IdempotencyKey = $"{context.RunId:N}/{context.TaskIndex}",
        };
        var body = Encoding.UTF8.GetBytes(context.Input?.ToJsonString() ?? "null");
        try
        {
            await emitter.EmitAsync(body, attributes, cancellationToken).ConfigureAwait(false);
            return TaskResult.Completed(context.Input);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return TaskResult.Errored($"emit: {ex.Message}");
        }
    }
}
