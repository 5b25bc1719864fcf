namespace Loop.Jobs;

/// <summary>The built-in initiator type names.</summary>
public static class InitiatorTypes
{
    /// <summary>Recurring runs on a cron schedule with a seconds field.</summary>
    public const string Cron = "cron";

    /// <summary>One run at a time.</summary>
    public const string RunAt = "runat";

    /// <summary>Runs requested through the API or the mapped endpoint.</summary>
    public const string Web = "web";
}
