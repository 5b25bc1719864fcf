using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Loop.Json;

namespace Loop.Jobs.Tasks;

/// <summary>Reading task parameters and inputs, tolerant of the ways specs write them (numbers as strings, names in any case).</summary>
internal static class TaskParams
{
    public static string? String(JsonObject parameters, string name) =>
        JsonParameters.Get(parameters, name) is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    public static decimal? Number(JsonNode? node) => node switch
    {
        // A value built in code holds its CLR type (int, double, …); one parsed holds a JsonElement: read both from their JSON text.
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        JsonValue v when v.TryGetValue<string>(out var s) && decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    /// <summary>An RFC 3339 time in a string value (UTC when it names no offset), or null.</summary>
    public static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text) ? Time(text) : null;

    /// <summary>An RFC 3339 time (UTC when it names no offset), or null.</summary>
    public static DateTimeOffset? Time(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    public static Uri? AbsoluteHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) ? url : null;

    /// <summary>A response body as JSON when it parses, else as a string.</summary>
    public static JsonNode? ParseBody(string body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return JsonValue.Create(body);
        }
    }
}
