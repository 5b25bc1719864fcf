using Microsoft.Extensions.Logging;

namespace Loop.Plugins;

/// <summary>Loop.Plugins' log messages, source-generated, in one place: event ids 400–499, unique in the package.</summary>
internal static partial class PluginsLog
{
    /// <summary>The event ids, one per message; unique in the package, so unique in every category it logs under.</summary>
    internal static class EventIds
    {
        /// <summary>Registered (LoopRegistry).</summary>
        public const int Registered = 401;

        /// <summary>Unknown (LoopRegistry).</summary>
        public const int Unknown = 402;

        /// <summary>Plugin (PluginClient).</summary>
        public const int Plugin = 410;

        /// <summary>Started (PluginClient).</summary>
        public const int Started = 411;

        /// <summary>Killed (PluginClient).</summary>
        public const int Killed = 412;

        /// <summary>Stdio (PluginClient).</summary>
        public const int Stdio = 413;

        /// <summary>Relaunching (PluginService).</summary>
        public const int Relaunching = 420;

        /// <summary>LaunchFailed (PluginService).</summary>
        public const int LaunchFailed = 421;

        /// <summary>CheckFailed (PluginService).</summary>
        public const int CheckFailed = 422;

        /// <summary>Healthy (PluginService).</summary>
        public const int Healthy = 423;

        /// <summary>Unregistered (PluginService).</summary>
        public const int Unregistered = 424;
    }

    [LoggerMessage(EventId = EventIds.Registered, Level = LogLevel.Debug, Message = "registered plugin {Id} with Prometheus port {Port}")]
    internal static partial void Registered(ILogger logger, string id, int port);

    [LoggerMessage(EventId = EventIds.Unknown, Level = LogLevel.Debug, Message = "unregister of unknown plugin {Id} ignored")]
    internal static partial void Unknown(ILogger logger, string id);

    [LoggerMessage(EventId = EventIds.Plugin, Message = "plugin.{Plugin}: {Message}")]
    internal static partial void Plugin(ILogger logger, LogLevel level, string plugin, string message);

    [LoggerMessage(EventId = EventIds.Started, Level = LogLevel.Information, Message = "plugin {Plugin} started (pid {Pid}) on {Address}, protocol version {Version}")]
    internal static partial void Started(ILogger logger, string plugin, int pid, string address, int version);

    [LoggerMessage(EventId = EventIds.Killed, Level = LogLevel.Warning, Message = "plugin {Plugin} (pid {Pid}) failed to exit gracefully; killed")]
    internal static partial void Killed(ILogger logger, string plugin, int pid);

    [LoggerMessage(EventId = EventIds.Stdio, Level = LogLevel.Information, Message = "plugin.{Plugin} {Stream}: {Line}")]
    internal static partial void Stdio(ILogger logger, string plugin, string stream, string line);

    [LoggerMessage(EventId = EventIds.Relaunching, Level = LogLevel.Warning, Message = "Relaunching unhealthy plugin {Plugin}: it {Reason}")]
    internal static partial void Relaunching(ILogger logger, string plugin, string reason);

    [LoggerMessage(EventId = EventIds.LaunchFailed, Level = LogLevel.Warning, Message = "plugin {Plugin} failed to launch ({Reason}); next try in {Backoff}")]
    internal static partial void LaunchFailed(ILogger logger, string plugin, string reason, TimeSpan backoff);

    [LoggerMessage(EventId = EventIds.CheckFailed, Level = LogLevel.Warning, Message = "plugin {Plugin} failed its health check ({Count} of {Threshold} in a row before a relaunch; deadline {Timeout})")]
    internal static partial void CheckFailed(ILogger logger, string plugin, int count, int threshold, TimeSpan timeout);

    [LoggerMessage(EventId = EventIds.Healthy, Level = LogLevel.Information, Message = "plugin {Plugin} answers its health check again after {Count} failed")]
    internal static partial void Healthy(ILogger logger, string plugin, int count);

    [LoggerMessage(EventId = EventIds.Unregistered, Level = LogLevel.Information, Message = "plugin {Plugin} stopped for good: unregistered, its Prometheus port returned")]
    internal static partial void Unregistered(ILogger logger, string plugin);
}
