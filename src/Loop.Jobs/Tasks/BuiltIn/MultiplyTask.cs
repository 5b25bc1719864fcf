using System.Text.Json.Nodes;
using Loop.Json;

namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary><c>multiply</c> <c>{"times": 100}</c>: its input (a number, or a number in a string) times <c>times</c>.</summary>
internal sealed class MultiplyTask : IJobTask
{
    public string Type => "multiply";

    public bool IsPure => true;

    public IEnumerable<JobValidationError> Validate(TaskSpec task)
    {
        var times = JsonParameters.Get(task.Params, "times");
        if (TaskParams.Number(times) is null)
        {
            yield return new JobValidationError("times", $"must be a number (was {JsonParameters.Describe(times)})");
        }
    }

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var times = TaskParams.Number(JsonParameters.Get(context.Task.Params, "times"))!.Value;
        if (TaskParams.Number(context.Input) is not { } input)
        {
            return ValueTask.FromResult(TaskResult.Errored($"multiply: the input is not a number (was {JsonParameters.Describe(context.Input)})"));
        }

        try
        {
            return ValueTask.FromResult(TaskResult.Completed(JsonValue.Create(input * times)));
        }
        catch (OverflowException)
        {
            return ValueTask.FromResult(TaskResult.Errored($"multiply: {input} times {times} overflows"));
        }
    }
}
