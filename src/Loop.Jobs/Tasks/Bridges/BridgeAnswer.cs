using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>
/// An external adapter's answer, synchronous or through the resume endpoint: <c>{"data": …}</c> (the task's output),
/// <c>{"error": "…"}</c> (the run errors), or <c>{"pending": true}</c> (the answer comes later).
/// </summary>
public sealed class BridgeAnswer
{
    private BridgeAnswer(JsonNode? data, string? error, bool pending)
    {
        Data = data;
        Error = error;
        Pending = pending;
    }

    /// <summary>The output, when the adapter answered with data.</summary>
    public JsonNode? Data { get; }

    /// <summary>The adapter's error, when it answered with one.</summary>
    public string? Error { get; }

    /// <summary>Whether the answer is still to come.</summary>
    public bool Pending { get; }

    /// <summary>An answer with <paramref name="data"/>.</summary>
    public static BridgeAnswer WithData(JsonNode? data) => new(data?.DeepClone(), null, false);

    /// <summary>An answer with an error.</summary>
    public static BridgeAnswer WithError(string error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        return new(null, error, false);
    }

    /// <summary>Reads an answer's JSON; null when it is none of the three shapes.</summary>
    public static BridgeAnswer? Read(JsonNode? body)
    {
        if (body is not JsonObject answer)
        {
            return null;
        }

        if (answer["error"] is JsonNode error && error.GetValueKind() != System.Text.Json.JsonValueKind.Null)
        {
            var text = error is JsonValue v && v.TryGetValue<string>(out var s) ? s : error.ToJsonString();
            return new(null, string.IsNullOrWhiteSpace(text) ? "the adapter answered with an empty error" : text, false);
        }

        if (answer["pending"] is JsonValue pending && pending.TryGetValue<bool>(out var isPending) && isPending)
        {
            return new(null, null, true);
        }

        return answer.ContainsKey("data") ? new(answer["data"]?.DeepClone(), null, false) : null;
    }
}
