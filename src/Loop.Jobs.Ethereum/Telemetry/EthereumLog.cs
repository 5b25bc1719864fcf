using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Ethereum.Telemetry;

/// <summary>Loop.Jobs.Ethereum's log messages, source-generated, in one place: event ids 700–749, unique in the package. No message carries a node URL's credentials.</summary>
internal static partial class EthereumLog
{
    /// <summary>The event ids, one per message.</summary>
    internal static class EventIds
    {
        public const int Subscribed = 700;
        public const int SourceLost = 701;
        public const int SourceStillLost = 702;
        public const int SourceBack = 703;
        public const int LogRefused = 704;
        public const int LogRemoved = 705;
        public const int RunCancelled = 706;
        public const int LogDuplicate = 707;
    }

    [LoggerMessage(EventIds.Subscribed, LogLevel.Information, "Job {JobId}'s {Initiator} initiator watches logs from block {FromBlock} on {Source}")]
    public static partial void Subscribed(ILogger logger, string jobId, string initiator, long fromBlock, string source);

    [LoggerMessage(EventIds.SourceLost, LogLevel.Warning, "Job {JobId}'s {Initiator} initiator lost {Source}: {Error}; reconnecting, and backfilling from block {FromBlock}")]
    public static partial void SourceLost(ILogger logger, string jobId, string initiator, string source, string error, long fromBlock);

    [LoggerMessage(EventIds.SourceStillLost, LogLevel.Warning, "Job {JobId}'s {Initiator} initiator still cannot reach {Source} after {Failures} attempt(s) over {Duration}: {Error}")]
    public static partial void SourceStillLost(ILogger logger, string jobId, string initiator, string source, int failures, TimeSpan duration, string error);

    [LoggerMessage(EventIds.SourceBack, LogLevel.Information, "Job {JobId}'s {Initiator} initiator reached {Source} again after {Failures} failed attempt(s) over {Duration}")]
    public static partial void SourceBack(ILogger logger, string jobId, string initiator, string source, int failures, TimeSpan duration);

    [LoggerMessage(EventIds.LogRefused, LogLevel.Warning, "Job {JobId}'s {Initiator} initiator started no run for log {LogId} (block {Block}): {Reason}")]
    public static partial void LogRefused(ILogger logger, string jobId, string initiator, string logId, long block, string reason);

    [LoggerMessage(EventIds.LogRemoved, LogLevel.Information, "Job {JobId}'s log {LogId} (block {Block}) was removed by a reorganisation; its run had gone past its confirmations (or was none) and is left")]
    public static partial void LogRemoved(ILogger logger, string jobId, string logId, long block);

    [LoggerMessage(EventIds.RunCancelled, LogLevel.Information, "Job {JobId}'s log {LogId} (block {Block}) was removed by a reorganisation; cancelled its run {RunId}")]
    public static partial void RunCancelled(ILogger logger, string jobId, string logId, long block, Guid runId);

    [LoggerMessage(EventIds.LogDuplicate, LogLevel.Debug, "Job {JobId}'s log {LogId} already started a run")]
    public static partial void LogDuplicate(ILogger logger, string jobId, string logId);
}
