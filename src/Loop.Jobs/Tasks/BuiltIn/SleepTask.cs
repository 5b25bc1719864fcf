using System.Globalization;
using System.Text.Json.Nodes;
using Loop.Json;

namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary>
/// <c>sleep</c> <c>{"until": 1767225600}</c> (unix seconds, or an RFC 3339 time) or <c>{"for": "00:05:00"}</c> (or
/// seconds): parks the run until then; the run then goes on with its input unchanged. The wake time is stored, so a
/// restart does not shorten or lengthen the sleep.
/// </summary>
internal sealed class SleepTask : IJobTask
{
    public string Type => "sleep";

    public IEnumerable<JobValidationError> Validate(TaskSpec task)
    {
        var until = JsonParameters.Get(task.Params, "until");
        var duration = JsonParameters.Get(task.Params, "for");
        if ((until is null) == (duration is null))
        {
            yield return new JobValidationError("until", "set exactly one of until (unix seconds or RFC 3339) and for (hh:mm:ss or seconds)");
        }
        else if (until is not null && Until(until) is null)
        {
            yield return new JobValidationError("until", $"must be unix seconds or an RFC 3339 time (was {JsonParameters.Describe(until)})");
        }
        else if (duration is not null && For(duration) is null)
        {
            yield return new JobValidationError("for", $"must be hh:mm:ss or seconds, not negative (was {JsonParameters.Describe(duration)})");
        }
    }

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var until = JsonParameters.Get(context.Task.Params, "until") is { } at
            ? Until(at)!.Value
            : context.TimeProvider.GetUtcNow() + For(JsonParameters.Get(context.Task.Params, "for"))!.Value;
        return ValueTask.FromResult(TaskResult.SleepUntil(until));
    }

    private static DateTimeOffset? Until(JsonNode? node)
    {
        if (TaskParams.Number(node) is { } seconds && seconds is >= 0 and < 253402300800m)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000));
        }

        return TaskParams.Time(node);
    }

    private static TimeSpan? For(JsonNode? node)
    {
        if (node is JsonValue v && v.TryGetValue<string>(out var text) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span >= TimeSpan.Zero ? span : null;
        }

        return TaskParams.Number(node) is { } seconds && seconds is >= 0 and <= 315360000m ? TimeSpan.FromSeconds((double)seconds) : null;
    }
}
