using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Loop.Json;

namespace Loop.Jobs.Ethereum.Initiators;

/// <summary>Reads and checks a log initiator's <c>address</c> and <c>topics</c> parameters (names in any case, as the core's are).</summary>
internal static partial class LogInitiatorParams
{
    public const int MaxTopics = 4;

    public static IEnumerable<JobValidationError> Validate(JsonObject parameters, bool addressRequired, int fixedTopics)
    {
        var address = JsonParameters.Get(parameters, "address");
        if (address is null)
        {
            if (addressRequired)
            {
                yield return new JobValidationError("address", "is required: the contract whose logs start runs (0x and 40 hex digits)");
            }
        }
        else if (!(address is JsonValue v && v.TryGetValue<string>(out var text) && AddressPattern().IsMatch(text)))
        {
            yield return new JobValidationError("address", $"must be a contract address, 0x and 40 hex digits (was {JsonParameters.Describe(address)})");
        }

        switch (JsonParameters.Get(parameters, "topics"))
        {
            case null:
                break;
            case JsonArray topics:
                if (topics.Count + fixedTopics > MaxTopics)
                {
                    yield return new JobValidationError("topics", $"a log has at most {MaxTopics} topics; {topics.Count} given{(fixedTopics > 0 ? $" after the {fixedTopics} this initiator sets" : string.Empty)}");
                }

                for (var i = 0; i < topics.Count; i++)
                {
                    if (topics[i] is not null && !(topics[i] is JsonValue t && t.TryGetValue<string>(out var topic) && TopicPattern().IsMatch(topic)))
                    {
                        yield return new JobValidationError(string.Create(CultureInfo.InvariantCulture, $"topics[{i}]"), $"must be null (any) or 0x and 64 hex digits (was {JsonParameters.Describe(topics[i])})");
                    }
                }

                break;
            case var other:
                yield return new JobValidationError("topics", $"must be an array of topics (was {JsonParameters.Describe(other)})");
                break;
        }
    }

    /// <summary>The filter of a validated initiator, after <paramref name="fixedTopics"/>.</summary>
    public static LogFilter Filter(JsonObject parameters, IReadOnlyList<string?> fixedTopics)
    {
        var address = (JsonParameters.Get(parameters, "address") as JsonValue)?.GetValue<string>().ToLowerInvariant();
        var topics = (JsonParameters.Get(parameters, "topics") as JsonArray ?? []).Select(t => t?.GetValue<string>().ToLowerInvariant());
        return new LogFilter(address, [.. fixedTopics, .. topics]);
    }

    [GeneratedRegex("^0x[0-9a-fA-F]{40}$")]
    private static partial Regex AddressPattern();

    [GeneratedRegex("^0x[0-9a-fA-F]{64}$")]
    private static partial Regex TopicPattern();
}
