using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Sdk;

/// <summary>Loop.Plugins.Sdk's log messages, source-generated, in one place: event ids 500–549, unique in the package.</summary>
internal static partial class PluginSdkLog
{
    /// <summary>The event ids, one per message; unique in the package, so unique in every category it logs under.</summary>
    internal static class EventIds
    {
        /// <summary>HostGone (HostWatch).</summary>
        public const int HostGone = 500;

        /// <summary>CallFailed (the plugin's gRPC server).</summary>
        public const int CallFailed = 501;
    }

    [LoggerMessage(EventId = EventIds.HostGone, Level = LogLevel.Warning, Message = "the host process (pid {Host}) is gone; the plugin stops")]
    internal static partial void HostGone(ILogger logger, int host);

    [LoggerMessage(EventId = EventIds.CallFailed, Level = LogLevel.Error, Message = "the handler of {Method} failed; the caller gets UNKNOWN")]
    internal static partial void CallFailed(ILogger logger, string method, Exception exception);
}
