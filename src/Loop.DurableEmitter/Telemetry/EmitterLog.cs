using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>The emitter's log messages, source-generated, in one place: event ids 1–199, unique in the package. No message carries a payload or a header.</summary>
internal static partial class EmitterLog
{
    /// <summary>The event ids, one per message; unique in the package, so unique in every category it logs under.</summary>
    internal static class EventIds
    {
        /// <summary>Started (EmitterLog).</summary>
        public const int Started = 1;

        /// <summary>Stopped (EmitterLog).</summary>
        public const int Stopped = 2;

        /// <summary>NotQueued (EmitterLog).</summary>
        public const int NotQueued = 3;

        /// <summary>MarkFailed (EmitterLog).</summary>
        public const int MarkFailed = 4;

        /// <summary>CorruptEvent (EmitterLog).</summary>
        public const int CorruptEvent = 5;

        /// <summary>Expired (EmitterLog).</summary>
        public const int Expired = 6;

        /// <summary>Retransmitted (EmitterLog).</summary>
        public const int Retransmitted = 7;

        /// <summary>FallbackFailed (EmitterLog).</summary>
        public const int FallbackFailed = 8;

        /// <summary>StopTimedOut (EmitterLog).</summary>
        public const int StopTimedOut = 9;

        /// <summary>LoopFailed (EmitterLog).</summary>
        public const int LoopFailed = 10;

        /// <summary>BatchFailed (BatchingEmitter).</summary>
        public const int BatchFailed = 101;

        /// <summary>CallbackFailed (BatchingEmitter).</summary>
        public const int CallbackFailed = 102;

        /// <summary>BatchingEmitterStopTimedOut (BatchingEmitter).</summary>
        public const int BatchingEmitterStopTimedOut = 103;
    }

    [LoggerMessage(EventId = EventIds.Started, Level = LogLevel.Information, Message = "{Name} started (retransmit {Retransmit}, coalescing {Coalescing}, fallback {Fallback})")]
    internal static partial void Started(ILogger logger, string name, bool retransmit, bool coalescing, bool fallback);

    [LoggerMessage(EventId = EventIds.Stopped, Level = LogLevel.Information, Message = "{Name} stopped")]
    internal static partial void Stopped(ILogger logger, string name);

    [LoggerMessage(EventId = EventIds.NotQueued, Level = LogLevel.Warning, Message = "Event {RowId} was not queued for delivery ({Result}, phase {Phase}); it stays stored for retransmit")]
    internal static partial void NotQueued(ILogger logger, long rowId, Loop.Events.QueueResult result, string phase);

    [LoggerMessage(EventId = EventIds.MarkFailed, Level = LogLevel.Warning, Message = "Marking {Count} events delivered failed; they will be sent again: {Reason}")]
    internal static partial void MarkFailed(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = EventIds.CorruptEvent, Level = LogLevel.Warning, Message = "Durable event {RowId} is corrupt and was skipped: {Reason}")]
    internal static partial void CorruptEvent(ILogger logger, long rowId, string reason);

    [LoggerMessage(EventId = EventIds.Expired, Level = LogLevel.Information, Message = "Expired {Count} undelivered events older than {Ttl}")]
    internal static partial void Expired(ILogger logger, long count, TimeSpan ttl);

    [LoggerMessage(EventId = EventIds.Retransmitted, Level = LogLevel.Debug, Message = "Retransmit queued {Count} pending events")]
    internal static partial void Retransmitted(ILogger logger, int count);

    [LoggerMessage(EventId = EventIds.FallbackFailed, Level = LogLevel.Debug, Message = "Fallback publish of event {RowId} failed; it stays stored for retransmit: {Reason}")]
    internal static partial void FallbackFailed(ILogger logger, long rowId, string reason);

    [LoggerMessage(EventId = EventIds.StopTimedOut, Level = LogLevel.Warning, Message = "{Name}: stop timed out after {Timeout} waiting for {What}")]
    internal static partial void StopTimedOut(ILogger logger, string name, TimeSpan timeout, string what);

    [LoggerMessage(EventId = EventIds.LoopFailed, Level = LogLevel.Warning, Message = "{Loop} failed: {Reason}")]
    internal static partial void LoopFailed(ILogger logger, string loop, string reason);

    [LoggerMessage(EventId = EventIds.BatchFailed, Level = LogLevel.Warning, Message = "{Transport}: a batch of {Count} events failed: {Reason}")]
    internal static partial void BatchFailed(ILogger logger, string transport, int count, string reason);

    [LoggerMessage(EventId = EventIds.CallbackFailed, Level = LogLevel.Error, Message = "{Transport}: a delivery callback threw")]
    internal static partial void CallbackFailed(ILogger logger, string transport, Exception exception);

    [LoggerMessage(EventId = EventIds.BatchingEmitterStopTimedOut, Level = LogLevel.Warning, Message = "{Transport}: stop did not finish within {Timeout}; cancelling in-flight batches (their events stay stored)")]
    internal static partial void BatchingEmitterStopTimedOut(ILogger logger, string transport, TimeSpan timeout);
}
