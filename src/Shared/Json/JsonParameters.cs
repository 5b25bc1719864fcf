using System.Text.Json.Nodes;

namespace Loop.Json;

/// <summary>
/// Reading parameters from a job spec's JSON the way the core does: names in any case. Shared by Loop.Jobs' tasks and
/// Loop.Jobs.Ethereum's initiators, so that both read and quote a spec's values alike.
/// </summary>
internal static class JsonParameters
{
    /// <summary>The most characters of a value that an error message quotes.</summary>
    public const int QuotedLength = 80;

    /// <summary>The value of <paramref name="name"/> (in any case), or null when there is none.</summary>
    public static JsonNode? Get(JsonObject parameters, string name)
    {
        foreach (var (key, value) in parameters)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>A value as an error message quotes it: its JSON, cut to <see cref="QuotedLength"/> characters.</summary>
    public static string Describe(JsonNode? node)
    {
        var text = node?.ToJsonString() ?? "null";
        return text.Length <= QuotedLength ? text : text[..(QuotedLength - 3)] + "...";
    }
}
