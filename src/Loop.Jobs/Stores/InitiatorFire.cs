namespace Loop.Jobs;

/// <summary>
/// One firing of an initiator, recorded with the run it created so that it starts one run across all hosts:
/// <paramref name="Key"/> identifies the fire (a cron occurrence, a log's block hash and index) and
/// <paramref name="At"/> is when it was due.
/// </summary>
/// <param name="InitiatorIndex">The initiator's position in the job.</param>
/// <param name="Key">What identifies the fire among the initiator's fires.</param>
/// <param name="At">When it was due.</param>
public sealed record InitiatorFire(int InitiatorIndex, string Key, DateTimeOffset At);
