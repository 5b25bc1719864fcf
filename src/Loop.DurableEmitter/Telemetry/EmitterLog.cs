using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>The emitter's log messages, source-generated. Event ids 1–99. No message carries a payload or a header.</summary>
internal static partial class EmitterLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Name} started (retransmit {Retransmit}, coalescing {Coalescing}, fallback {Fallback})")]
    public static partial void Started(ILogger logger, string name, bool retransmit, bool coalescing, bool fallback);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Name} stopped")]
    public static partial void Stopped(ILogger logger, string name);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Event {RowId} was not queued for delivery ({Result}, phase {Phase}); it stays stored for retransmit")]
    public static partial void NotQueued(ILogger logger, long rowId, Loop.Events.QueueResult result, string phase);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Marking {Count} events delivered failed; they will be sent again: {Reason}")]
    public static partial void MarkFailed(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Durable event {RowId} is corrupt and was skipped: {Reason}")]
    public static partial void CorruptEvent(ILogger logger, long rowId, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Expired {Count} undelivered events older than {Ttl}")]
    public static partial void Expired(ILogger logger, long count, TimeSpan ttl);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Retransmit queued {Count} pending events")]
    public static partial void Retransmitted(ILogger logger, int count);

    [LoggerMessage(EventId = 8, Level = LogLevel.Debug, Message = "Fallback publish of event {RowId} failed; it stays stored for retransmit: {Reason}")]
    public static partial void FallbackFailed(ILogger logger, long rowId, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "{Name}: stop timed out after {Timeout} waiting for {What}")]
    public static partial void StopTimedOut(ILogger logger, string name, TimeSpan timeout, string what);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "{Loop} failed: {Reason}")]
    public static partial void LoopFailed(ILogger logger, string loop, string reason);
}
