using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>The outcome of one task of a run: completed with an output, or errored with a reason.</summary>
/// <param name="Index">The task's position in the job.</param>
/// <param name="Type">The task type.</param>
/// <param name="Completed">Whether it completed.</param>
/// <param name="Output">Its output when it completed.</param>
/// <param name="Error">Why it failed when it did not.</param>
/// <param name="FinishedAt">When it finished.</param>
public sealed record TaskRunResult(int Index, string Type, bool Completed, JsonNode? Output, string? Error, DateTimeOffset FinishedAt);
