using System.Globalization;
using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>What starts runs of a job: a type (<c>cron</c>, <c>runat</c>, <c>web</c>, or an event initiator's type) and its parameters.</summary>
public sealed class InitiatorSpec
{
    /// <summary>Creates an initiator of <paramref name="type"/> with <paramref name="parameters"/> (copied).</summary>
    public InitiatorSpec(string type, JsonObject? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        Type = type;
        Params = parameters is null ? [] : (JsonObject)parameters.DeepClone();
    }

    /// <summary>The initiator type, matched case-insensitively.</summary>
    public string Type { get; }

    /// <summary>The initiator's parameters (a copy owned by this spec).</summary>
    public JsonObject Params { get; }

    /// <summary>A <c>cron</c> initiator: six fields, seconds first (<c>*/5 * * * * *</c>), in UTC unless <paramref name="timeZone"/> (an IANA id) is given.</summary>
    public static InitiatorSpec Cron(string schedule, string? timeZone = null)
    {
        var parameters = new JsonObject { ["schedule"] = schedule };
        if (timeZone is not null)
        {
            parameters["timeZone"] = timeZone;
        }

        return new InitiatorSpec(InitiatorTypes.Cron, parameters);
    }

    /// <summary>A <c>runat</c> initiator: one run at <paramref name="time"/>.</summary>
    public static InitiatorSpec RunAt(DateTimeOffset time) =>
        new(InitiatorTypes.RunAt, new JsonObject { ["time"] = time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) });

    /// <summary>A <c>web</c> initiator: runs requested through <see cref="IJobService.TriggerRunAsync"/> or the mapped endpoint.</summary>
    public static InitiatorSpec Web() => new(InitiatorTypes.Web);
}
