using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Telemetry;

/// <summary>The job service's log messages, source-generated, in one place: event ids 600–699, unique in the package. No message carries a token.</summary>
internal static partial class JobsLog
{
    /// <summary>The event ids, one per message.</summary>
    internal static class EventIds
    {
        public const int Started = 600;
        public const int Stopped = 601;
        public const int JobAdded = 602;
        public const int JobArchived = 603;
        public const int RunCreated = 604;
        public const int RunFinished = 605;
        public const int RunParked = 606;
        public const int RunLost = 607;
        public const int TaskFailed = 608;
        public const int ResumeRefused = 609;
        public const int RunResumed = 610;
        public const int StoreFailing = 611;
        public const int StoreStillFailing = 612;
        public const int StoreBack = 613;
        public const int FireMissed = 614;
        public const int FireTaken = 615;
        public const int InitiatorFailed = 616;
        public const int Reaped = 617;
        public const int BridgeAdded = 618;
        public const int ConnectingResumed = 619;
        public const int RunCancelled = 620;
        public const int HeadTrackerConnected = 621;
        public const int HeadTrackerDisconnected = 622;
        public const int HeadTrackerStillDisconnected = 623;
        public const int HeadTrackerBack = 624;
    }

    [LoggerMessage(EventIds.Started, LogLevel.Information, "Job service started as {HostId}: {Jobs} active job(s), store {Store}")]
    public static partial void Started(ILogger logger, string hostId, int jobs, string store);

    [LoggerMessage(EventIds.Stopped, LogLevel.Information, "Job service stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventIds.JobAdded, LogLevel.Information, "Added {Job} with {Initiators} initiator(s) and {Tasks} task(s)")]
    public static partial void JobAdded(ILogger logger, string job, int initiators, int tasks);

    [LoggerMessage(EventIds.JobArchived, LogLevel.Information, "Archived {Job}: no new runs")]
    public static partial void JobArchived(ILogger logger, string job);

    [LoggerMessage(EventIds.RunCreated, LogLevel.Debug, "Created run {RunId} of job {JobId} by {Initiator}")]
    public static partial void RunCreated(ILogger logger, Guid runId, string jobId, string initiator);

    [LoggerMessage(EventIds.RunFinished, LogLevel.Information, "Run {RunId} of job {JobId} {Status} after {Tasks} task(s){Reason}")]
    public static partial void RunFinished(ILogger logger, Guid runId, string jobId, string status, int tasks, string reason);

    [LoggerMessage(EventIds.RunParked, LogLevel.Debug, "Run {RunId} of job {JobId} is {Status} at task {Task}")]
    public static partial void RunParked(ILogger logger, Guid runId, string jobId, string status, int task);

    [LoggerMessage(EventIds.RunLost, LogLevel.Warning, "Run {RunId} of job {JobId} was changed elsewhere while this host executed it (its lease ran out, or it was resumed); this host leaves it")]
    public static partial void RunLost(ILogger logger, Guid runId, string jobId);

    [LoggerMessage(EventIds.TaskFailed, LogLevel.Warning, "Task {Task} ({Type}) of run {RunId} of job {JobId} failed: {Reason}")]
    public static partial void TaskFailed(ILogger logger, int task, string type, Guid runId, string jobId, string reason);

    [LoggerMessage(EventIds.ResumeRefused, LogLevel.Warning, "Refused to resume run {RunId}: {Reason}")]
    public static partial void ResumeRefused(ILogger logger, string runId, string reason);

    [LoggerMessage(EventIds.RunResumed, LogLevel.Information, "Resumed run {RunId} of job {JobId} with the answer of bridge {Bridge}")]
    public static partial void RunResumed(ILogger logger, Guid runId, string jobId, string bridge);

    [LoggerMessage(EventIds.StoreFailing, LogLevel.Warning, "The job store is failing ({Operation}): {Error}; runs wait until it is back")]
    public static partial void StoreFailing(ILogger logger, string operation, string error);

    [LoggerMessage(EventIds.StoreStillFailing, LogLevel.Warning, "The job store is still failing after {Failures} attempt(s) over {Duration}: {Error}")]
    public static partial void StoreStillFailing(ILogger logger, int failures, TimeSpan duration, string error);

    [LoggerMessage(EventIds.StoreBack, LogLevel.Information, "The job store is back after {Failures} failed attempt(s) over {Duration}")]
    public static partial void StoreBack(ILogger logger, int failures, TimeSpan duration);

    [LoggerMessage(EventIds.FireMissed, LogLevel.Information, "Job {JobId}'s {Initiator} initiator missed its fire due {Due} while no host ran; starting one run for it")]
    public static partial void FireMissed(ILogger logger, string jobId, string initiator, DateTimeOffset due);

    [LoggerMessage(EventIds.FireTaken, LogLevel.Debug, "Job {JobId}'s fire {Key} was taken by another host")]
    public static partial void FireTaken(ILogger logger, string jobId, string key);

    [LoggerMessage(EventIds.InitiatorFailed, LogLevel.Error, "Job {JobId}'s {Initiator} initiator failed: {Error}")]
    public static partial void InitiatorFailed(ILogger logger, string jobId, string initiator, string error);

    [LoggerMessage(EventIds.Reaped, LogLevel.Information, "Reaper deleted {Runs} finished run(s) older than {Before}")]
    public static partial void Reaped(ILogger logger, int runs, DateTimeOffset before);

    [LoggerMessage(EventIds.BridgeAdded, LogLevel.Information, "Added bridge {Bridge} at {Url}")]
    public static partial void BridgeAdded(ILogger logger, string bridge, string url);

    [LoggerMessage(EventIds.ConnectingResumed, LogLevel.Information, "Connected again: {Runs} run(s) pending a connection resume")]
    public static partial void ConnectingResumed(ILogger logger, int runs);

    [LoggerMessage(EventIds.RunCancelled, LogLevel.Information, "Cancelled run {RunId} of job {JobId}: {Reason}")]
    public static partial void RunCancelled(ILogger logger, Guid runId, string jobId, string reason);

    [LoggerMessage(EventIds.HeadTrackerConnected, LogLevel.Information, "Head tracker connected to {Source}; latest head {Head}")]
    public static partial void HeadTrackerConnected(ILogger logger, string source, long? head);

    [LoggerMessage(EventIds.HeadTrackerDisconnected, LogLevel.Warning, "Head tracker lost {Source}: {Error}; runs needing confirmations or the chain wait, reconnecting")]
    public static partial void HeadTrackerDisconnected(ILogger logger, string source, string error);

    [LoggerMessage(EventIds.HeadTrackerStillDisconnected, LogLevel.Warning, "Head tracker still cannot reach {Source} after {Failures} attempt(s) over {Duration}: {Error}")]
    public static partial void HeadTrackerStillDisconnected(ILogger logger, string source, int failures, TimeSpan duration, string error);

    [LoggerMessage(EventIds.HeadTrackerBack, LogLevel.Information, "Head tracker reached {Source} again after {Failures} failed attempt(s) over {Duration}")]
    public static partial void HeadTrackerBack(ILogger logger, string source, int failures, TimeSpan duration);
}
