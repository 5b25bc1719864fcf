using System.Text.Json;
using System.Text.Json.Nodes;
using Loop.Jobs.Tasks;
using Loop.Json;

namespace Loop.Jobs;

/// <summary>The job spec's JSON shape, read by hand so that every wrong field is reported with its path (and no reflection is needed).</summary>
internal static class JobSpecJson
{
    public static JobSpec Read(JsonNode? node)
    {
        var errors = new List<JobValidationError>();
        if (node is not JsonObject root)
        {
            throw new JobValidationException("job spec", [new JobValidationError("$", "must be a JSON object")]);
        }

        var id = String(root, "id", "id", errors);
        var spec = new JobSpec
        {
            Id = id ?? Guid.NewGuid().ToString("N"),
            Name = String(root, "name", "name", errors),
            Initiators = List(root, "initiators", errors, (o, path) => new InitiatorSpec(String(o, "type", $"{path}.type", errors) ?? string.Empty, Params(o, path, errors))),
            Tasks = List(root, "tasks", errors, (o, path) => new TaskSpec(String(o, "type", $"{path}.type", errors) ?? string.Empty, Params(o, path, errors), Int(o, "confirmations", $"{path}.confirmations", errors))),
            StartAt = Time(root, "startAt", errors),
            EndAt = Time(root, "endAt", errors),
            MinConfirmations = Int(root, "minConfirmations", "minConfirmations", errors) ?? 0,
        };

        return errors.Count == 0 ? spec : throw new JobValidationException(spec.ToString(), errors);
    }

    public static JsonObject Write(JobSpec spec)
    {
        var json = new JsonObject
        {
            ["id"] = spec.Id,
            ["name"] = spec.Name,
            ["initiators"] = new JsonArray([.. spec.Initiators.Select(i => new JsonObject { ["type"] = i.Type, ["params"] = i.Params.DeepClone() })]),
            ["tasks"] = new JsonArray([.. spec.Tasks.Select(WriteTask)]),
            ["startAt"] = spec.StartAt is { } start ? JobSpec.Time(start) : null,
            ["endAt"] = spec.EndAt is { } end ? JobSpec.Time(end) : null,
            ["minConfirmations"] = spec.MinConfirmations,
        };
        return json;
    }

    private static JsonObject WriteTask(TaskSpec task)
    {
        var json = new JsonObject { ["type"] = task.Type, ["params"] = task.Params.DeepClone() };
        if (task.Confirmations is { } confirmations)
        {
            json["confirmations"] = confirmations;
        }

        return json;
    }

    private static List<T> List<T>(JsonObject root, string name, List<JobValidationError> errors, Func<JsonObject, string, T> read)
    {
        var items = new List<T>();
        switch (JsonParameters.Get(root, name))
        {
            case null:
                return items;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var path = $"{name}[{i}]";
                    if (array[i] is JsonObject item)
                    {
                        items.Add(read(item, path));
                    }
                    else
                    {
                        errors.Add(new JobValidationError(path, "must be an object with a type"));
                    }
                }

                return items;
            default:
                errors.Add(new JobValidationError(name, "must be an array"));
                return items;
        }
    }

    private static JsonObject? Params(JsonObject item, string path, List<JobValidationError> errors)
    {
        switch (JsonParameters.Get(item, "params"))
        {
            case null:
                return null;
            case JsonObject parameters:
                return parameters;
            default:
                errors.Add(new JobValidationError($"{path}.params", "must be an object"));
                return null;
        }
    }

    private static string? String(JsonObject item, string name, string path, List<JobValidationError> errors)
    {
        var value = JsonParameters.Get(item, name);
        if (value is null)
        {
            return null;
        }

        if (value is JsonValue v && v.TryGetValue<string>(out var text))
        {
            return text;
        }

        errors.Add(new JobValidationError(path, "must be a string"));
        return null;
    }

    private static int? Int(JsonObject item, string name, string path, List<JobValidationError> errors)
    {
        var value = JsonParameters.Get(item, name);
        if (value is null)
        {
            return null;
        }

        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var number))
        {
            return number;
        }

        errors.Add(new JobValidationError(path, $"must be a whole number (was {value.ToJsonString()})"));
        return null;
    }

    private static DateTimeOffset? Time(JsonObject item, string name, List<JobValidationError> errors)
    {
        var text = String(item, name, name, errors);
        if (text is null)
        {
            return null;
        }

        if (TaskParams.Time(text) is { } time)
        {
            return time;
        }

        errors.Add(new JobValidationError(name, $"must be an RFC 3339 time (was \"{text}\")"));
        return null;
    }
}
