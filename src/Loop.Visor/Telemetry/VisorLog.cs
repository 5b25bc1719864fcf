using Microsoft.Extensions.Logging;

namespace Loop.Visor;

/// <summary>Loop.Visor's log messages, source-generated, in one place: event ids 200–399, unique in the package.</summary>
internal static partial class VisorLog
{
    /// <summary>The event ids, one per message; unique in the package, so unique in every category it logs under.</summary>
    internal static class EventIds
    {
        /// <summary>Started (BinariesRunner).</summary>
        public const int Started = 201;

        /// <summary>Stdout (BinariesRunner).</summary>
        public const int Stdout = 202;

        /// <summary>Stderr (BinariesRunner).</summary>
        public const int Stderr = 203;

        /// <summary>Exited (BinariesRunner).</summary>
        public const int Exited = 204;

        /// <summary>Stopping (BinariesRunner).</summary>
        public const int Stopping = 205;

        /// <summary>Killing (BinariesRunner).</summary>
        public const int Killing = 206;

        /// <summary>NoProcessGroups (BinariesRunner).</summary>
        public const int NoProcessGroups = 207;

        /// <summary>NotReaped (BinariesRunner).</summary>
        public const int NotReaped = 208;

        /// <summary>Running (VisorService).</summary>
        public const int Running = 301;

        /// <summary>Upgraded (VisorService).</summary>
        public const int Upgraded = 302;

        /// <summary>RollingBack (VisorService).</summary>
        public const int RollingBack = 303;

        /// <summary>MaxRestarts (VisorService).</summary>
        public const int MaxRestarts = 304;

        /// <summary>Restarting (VisorService).</summary>
        public const int Restarting = 305;

        /// <summary>UpgradeRefused (VisorService).</summary>
        public const int UpgradeRefused = 306;

        /// <summary>StatusUnreachable (UpgradeWatcher).</summary>
        public const int StatusUnreachable = 307;

        /// <summary>SourceFailed (UpgradeWatcher).</summary>
        public const int SourceFailed = 308;

        /// <summary>ConfigReloaded (VisorService).</summary>
        public const int ConfigReloaded = 309;

        /// <summary>ConfigRejected (VisorService).</summary>
        public const int ConfigRejected = 310;

        /// <summary>StopFailed (VisorService).</summary>
        public const int StopFailed = 311;

        /// <summary>Fatal (VisorService).</summary>
        public const int Fatal = 312;

        /// <summary>Installing (UpgradePreparer).</summary>
        public const int Installing = 313;

        /// <summary>Unexpected (VisorService).</summary>
        public const int Unexpected = 314;

        /// <summary>UpgradeRetried (VisorService).</summary>
        public const int UpgradeRetried = 315;

        /// <summary>SameVersion (VisorService).</summary>
        public const int SameVersion = 316;

        /// <summary>RefusedBefore (VisorService).</summary>
        public const int RefusedBefore = 317;

        /// <summary>HeightDropped (VisorService).</summary>
        public const int HeightDropped = 318;

        /// <summary>HaltedForUpgrade (VisorService).</summary>
        public const int HaltedForUpgrade = 319;

        /// <summary>StatusFailing (UpgradeWatcher).</summary>
        public const int StatusFailing = 320;

        /// <summary>StatusStillFailing (UpgradeWatcher).</summary>
        public const int StatusStillFailing = 321;

        /// <summary>StatusRecovered (UpgradeWatcher).</summary>
        public const int StatusRecovered = 322;

        /// <summary>StateNotWritten (VisorService).</summary>
        public const int StateNotWritten = 323;

        /// <summary>UnexpectedDetail (VisorService).</summary>
        public const int UnexpectedDetail = 324;
    }

    [LoggerMessage(EventId = EventIds.Started, Level = LogLevel.Information, Message = "[{Process}] started (pid {Pid}): {Path}")]
    internal static partial void Started(ILogger logger, string process, int pid, string path);

    [LoggerMessage(EventId = EventIds.Stdout, Level = LogLevel.Information, Message = "[{Process}] {Line}")]
    internal static partial void Stdout(ILogger logger, string process, string line);

    [LoggerMessage(EventId = EventIds.Stderr, Level = LogLevel.Warning, Message = "[{Process}] {Line}")]
    internal static partial void Stderr(ILogger logger, string process, string line);

    [LoggerMessage(EventId = EventIds.Exited, Level = LogLevel.Warning, Message = "[{Process}] exited (pid {Pid}) with code {Code}; stopping the rest of the set")]
    internal static partial void Exited(ILogger logger, string process, int pid, int code);

    [LoggerMessage(EventId = EventIds.Stopping, Level = LogLevel.Information, Message = "[{Process}] stopping (pid {Pid} and its process group): SIGTERM")]
    internal static partial void Stopping(ILogger logger, string process, int pid);

    [LoggerMessage(EventId = EventIds.Killing, Level = LogLevel.Warning, Message = "[{Process}] still running {Timeout} after SIGTERM (pid {Pid} or its process group): SIGKILL")]
    internal static partial void Killing(ILogger logger, string process, int pid, TimeSpan timeout);

    [LoggerMessage(EventId = EventIds.NoProcessGroups, Level = LogLevel.Warning, Message = "[{Process}] setsid was not found: the process runs in Visor's process group, and what it starts is not stopped with it")]
    internal static partial void NoProcessGroups(ILogger logger, string process);

    [LoggerMessage(EventId = EventIds.NotReaped, Level = LogLevel.Error, Message = "a SIGKILLed process was not reaped within {Wait}; going on without it")]
    internal static partial void NotReaped(ILogger logger, TimeSpan wait);

    [LoggerMessage(EventId = EventIds.Running, Level = LogLevel.Information, Message = "running version {Version} from {Folder}")]
    internal static partial void Running(ILogger logger, string version, string folder);

    [LoggerMessage(EventId = EventIds.Upgraded, Level = LogLevel.Information, Message = "upgraded {From} -> {To} at height {Height} (reported by {Source})")]
    internal static partial void Upgraded(ILogger logger, string from, string to, long height, string source);

    [LoggerMessage(EventId = EventIds.RollingBack, Level = LogLevel.Error, Message = "version {Version} died at start ({What}); rolling back to {Previous}, and {Version} is not tried again until cleared")]
    internal static partial void RollingBack(ILogger logger, string version, string what, string previous);

    [LoggerMessage(EventId = EventIds.MaxRestarts, Level = LogLevel.Error, Message = "maximum number of restarts ({Max}) reached: {Process} exited {Code}; giving up")]
    internal static partial void MaxRestarts(ILogger logger, int max, string process, int code);

    [LoggerMessage(EventId = EventIds.Restarting, Level = LogLevel.Warning, Message = "{Process} exited {Code}; restarting in {Delay} (restart {Count} of {Max})")]
    internal static partial void Restarting(ILogger logger, string process, int code, TimeSpan delay, int count, int max);

    [LoggerMessage(EventId = EventIds.UpgradeRefused, Level = LogLevel.Error, Message = "upgrade refused: {Reason} (reported by {Source}); the running version stays, and {Tag} is not tried again until cleared (loop-visor clear-refused)")]
    internal static partial void UpgradeRefused(ILogger logger, string reason, string source, string tag);

    [LoggerMessage(EventId = EventIds.StatusUnreachable, Level = LogLevel.Error, Message = "failed to get upgrade status from {Endpoint} for the maximum number of retries ({Retries}): {Reason}")]
    internal static partial void StatusUnreachable(ILogger logger, string endpoint, int retries, string reason);

    [LoggerMessage(EventId = EventIds.SourceFailed, Level = LogLevel.Warning, Message = "upgrade source {Source} failed: {Reason}")]
    internal static partial void SourceFailed(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = EventIds.ConfigReloaded, Level = LogLevel.Information, Message = "reloaded {Path}")]
    internal static partial void ConfigReloaded(ILogger logger, string path);

    [LoggerMessage(EventId = EventIds.ConfigRejected, Level = LogLevel.Error, Message = "config edit rejected, previous values stay: {Reason}")]
    internal static partial void ConfigRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.StopFailed, Level = LogLevel.Error, Message = "stopping the set failed ({Reason}); killing it")]
    internal static partial void StopFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.Fatal, Level = LogLevel.Critical, Message = "{Reason}")]
    internal static partial void Fatal(ILogger logger, string reason);

    [LoggerMessage(EventId = EventIds.Installing, Level = LogLevel.Information, Message = "version {Tag} is not installed: installing it from its release")]
    internal static partial void Installing(ILogger logger, string tag);

    [LoggerMessage(EventId = EventIds.Unexpected, Level = LogLevel.Critical, Message = "unexpected error ({Type}): {Reason}; the processes are stopped and Visor exits")]
    internal static partial void Unexpected(ILogger logger, string type, string reason);

    [LoggerMessage(EventId = EventIds.UpgradeRetried, Level = LogLevel.Warning, Message = "upgrade not made yet: {Reason} (reported by {Source}); the running version stays, and the upgrade is tried again in {Delay}")]
    internal static partial void UpgradeRetried(ILogger logger, string reason, string source, TimeSpan delay);

    [LoggerMessage(EventId = EventIds.SameVersion, Level = LogLevel.Information, Message = "upgrade to {Tag} at height {Height} (reported by {Source}) ignored: {Tag} is the version running")]
    internal static partial void SameVersion(ILogger logger, string tag, long height, string source);

    [LoggerMessage(EventId = EventIds.RefusedBefore, Level = LogLevel.Error, Message = "upgrade to {Tag} ignored: it was refused at {At} ({Reason}); clear it with loop-visor clear-refused --home {Home} {Tag}")]
    internal static partial void RefusedBefore(ILogger logger, string tag, DateTimeOffset at, string reason, string home);

    [LoggerMessage(EventId = EventIds.HeightDropped, Level = LogLevel.Information, Message = "version {Version} has no upgrade height (not upgraded to): arguments dropped: {Args}")]
    internal static partial void HeightDropped(ILogger logger, string version, string args);

    [LoggerMessage(EventId = EventIds.HaltedForUpgrade, Level = LogLevel.Information, Message = "{Process} exited {Code} and the node reports the upgrade to {Tag} at height {Height}: upgrading")]
    internal static partial void HaltedForUpgrade(ILogger logger, string process, int code, string tag, long height);

    [LoggerMessage(EventId = EventIds.StatusFailing, Level = LogLevel.Warning, Message = "upgrade status {Endpoint} failed: {Reason} (retrying; {Limit} failed calls in a row end Visor)")]
    internal static partial void StatusFailing(ILogger logger, string endpoint, string reason, int limit);

    [LoggerMessage(EventId = EventIds.StatusStillFailing, Level = LogLevel.Warning, Message = "upgrade status {Endpoint} still failing: {Count} failed calls over {Duration}; last: {Reason} (limit {Limit})")]
    internal static partial void StatusStillFailing(ILogger logger, string endpoint, int count, TimeSpan duration, string reason, int limit);

    [LoggerMessage(EventId = EventIds.StatusRecovered, Level = LogLevel.Information, Message = "upgrade status {Endpoint} answers again after {Count} failed calls over {Duration}")]
    internal static partial void StatusRecovered(ILogger logger, string endpoint, int count, TimeSpan duration);

    [LoggerMessage(EventId = EventIds.StateNotWritten, Level = LogLevel.Warning, Message = "could not write {Path}: {Reason}; supervision goes on")]
    internal static partial void StateNotWritten(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = EventIds.UnexpectedDetail, Level = LogLevel.Debug, Message = "the unexpected error in full")]
    internal static partial void UnexpectedDetail(ILogger logger, Exception exception);
}
