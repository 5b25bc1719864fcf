namespace Loop.Jobs.Initiators;

/// <summary>
/// How long before its occurrence a cron or run-at fire is written: the run (and the fire that makes it one across
/// hosts) is stored when it is due, so it starts on time rather than one durable commit late.
/// </summary>
internal static class FireLead
{
    public static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(250);
}
