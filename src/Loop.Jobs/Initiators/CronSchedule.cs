using Cronos;
using Loop.Jobs.Tasks;

namespace Loop.Jobs.Initiators;

/// <summary>
/// A <c>cron</c> initiator's schedule: six fields, seconds first, parsed by Cronos; in UTC unless a time zone is given
/// (the <c>timeZone</c> parameter, or robfig/cron's <c>CRON_TZ=Zone</c> prefix), with daylight-saving transitions as
/// Cronos handles them.
/// </summary>
internal sealed class CronSchedule
{
    private CronSchedule(CronExpression expression, TimeZoneInfo zone)
    {
        Expression = expression;
        Zone = zone;
    }

    public CronExpression Expression { get; }

    public TimeZoneInfo Zone { get; }

    public DateTimeOffset? NextAfter(DateTimeOffset time) => Expression.GetNextOccurrence(time, Zone);

    public static CronSchedule? TryRead(InitiatorSpec initiator, List<JobValidationError>? errors)
    {
        var text = TaskParams.String(initiator.Params, "schedule");
        if (string.IsNullOrWhiteSpace(text))
        {
            errors?.Add(new JobValidationError("schedule", "is required: six cron fields, seconds first (\"*/5 * * * * *\")"));
            return null;
        }

        var zoneId = TaskParams.String(initiator.Params, "timeZone");
        text = text.Trim();
        if (text.StartsWith("CRON_TZ=", StringComparison.Ordinal) || text.StartsWith("TZ=", StringComparison.Ordinal))
        {
            var space = text.IndexOf(' ', StringComparison.Ordinal);
            zoneId ??= space < 0 ? text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..] : text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..space];
            text = space < 0 ? string.Empty : text[(space + 1)..].Trim();
        }

        var zone = TimeZoneInfo.Utc;
        if (zoneId is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out zone!))
        {
            errors?.Add(new JobValidationError("timeZone", $"unknown time zone '{zoneId}'"));
            return null;
        }

        try
        {
            return new CronSchedule(CronExpression.Parse(text, CronFormat.IncludeSeconds), zone);
        }
        catch (CronFormatException ex)
        {
            errors?.Add(new JobValidationError("schedule", $"'{text}' is not a cron schedule with six fields, seconds first: {ex.Message}"));
            return null;
        }
    }
}
