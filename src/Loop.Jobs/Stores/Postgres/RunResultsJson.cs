using System.Text.Json.Nodes;

namespace Loop.Jobs.Stores.Postgres;

/// <summary>A run's task results as the JSON array stored beside it.</summary>
internal static class RunResultsJson
{
    public static string Write(IEnumerable<TaskRunResult> results) => new JsonArray([.. results.Select(r => new JsonObject
    {
        ["index"] = r.Index,
        ["type"] = r.Type,
        ["completed"] = r.Completed,
        ["output"] = r.Output?.DeepClone(),
        ["error"] = r.Error,
        ["finishedAt"] = JobSpec.Time(r.FinishedAt),
    })]).ToJsonString();

    public static List<TaskRunResult> Read(string json) =>
        [.. JsonNode.Parse(json)!.AsArray().Select(n => new TaskRunResult(
            (int)n!["index"]!,
            (string)n["type"]!,
            (bool)n["completed"]!,
            n["output"]?.DeepClone(),
            (string?)n["error"],
            DateTimeOffset.Parse((string)n["finishedAt"]!, System.Globalization.CultureInfo.InvariantCulture)))];
}
