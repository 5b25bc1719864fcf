using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loop.Json;

namespace Loop.Jobs.Tasks.BuiltIn;

/// <summary>
/// <c>jsonparse</c> <c>{"path": ["data", "USD"]}</c> (or <c>"data.USD"</c>): the value at the path in its input (a JSON
/// value, or a string holding JSON). Array elements are addressed by index.
/// </summary>
internal sealed class JsonParseTask : IJobTask
{
    public string Type => "jsonparse";

    public bool IsPure => true;

    public IEnumerable<JobValidationError> Validate(TaskSpec task)
    {
        if (Path(task.Params) is null)
        {
            yield return new JobValidationError("path", "must be an array of keys or a dotted string");
        }
    }

    public ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
    {
        var node = context.Input;
        if (node is JsonValue v && v.TryGetValue<string>(out var text))
        {
            try
            {
                node = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                return ValueTask.FromResult(TaskResult.Errored("jsonparse: the input is a string that is not JSON"));
            }
        }

        var walked = new List<string>();
        foreach (var key in Path(context.Task.Params)!)
        {
            walked.Add(key);
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(key, out var child) => child,
                JsonArray a when int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
            if (node is null)
            {
                return ValueTask.FromResult(TaskResult.Errored($"jsonparse: no value at {string.Join('.', walked)}"));
            }
        }

        return ValueTask.FromResult(TaskResult.Completed(node?.DeepClone()));
    }

    private static List<string>? Path(JsonObject parameters) => JsonParameters.Get(parameters, "path") switch
    {
        JsonArray keys when keys.Count > 0 && keys.All(k => k is JsonValue kv && kv.TryGetValue<string>(out _)) => [.. keys.Select(k => k!.GetValue<string>())],
        JsonValue dotted when dotted.TryGetValue<string>(out var s) && s.Length > 0 => [.. s.Split('.')],
        _ => null,
    };
}
