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

        /// <summary>BufferFull (EventDelivery): the transport started refusing events.</summary>
        public const int BufferFull = 3;

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

        /// <summary>BufferStillFull (EventDelivery).</summary>
        public const int BufferStillFull = 11;

        /// <summary>BufferAcceptsAgain (EventDelivery).</summary>
        public const int BufferAcceptsAgain = 12;

        /// <summary>StoreFailing (StoreCalls): an operation on the store started failing.</summary>
        public const int StoreFailing = 13;

        /// <summary>StoreStillFailing (StoreCalls).</summary>
        public const int StoreStillFailing = 14;

        /// <summary>StoreRecovered (StoreCalls).</summary>
        public const int StoreRecovered = 15;

        /// <summary>StoreSetupFailed (StoreSetup): the schema could not be set up at start.</summary>
        public const int StoreSetupFailed = 16;

        /// <summary>StoreReady (StoreSetup).</summary>
        public const int StoreReady = 17;

        /// <summary>IngressFailing (BatchingEmitter): sends started failing.</summary>
        public const int IngressFailing = 104;

        /// <summary>IngressStillFailing (BatchingEmitter).</summary>
        public const int IngressStillFailing = 105;

        /// <summary>IngressRecovered (BatchingEmitter).</summary>
        public const int IngressRecovered = 106;

        /// <summary>CallbackFailed (BatchingEmitter).</summary>
        public const int CallbackFailed = 102;

        /// <summary>BatchingEmitterStopTimedOut (BatchingEmitter).</summary>
        public const int BatchingEmitterStopTimedOut = 103;
    }

    [LoggerMessage(EventId = EventIds.Started, Level = LogLevel.Information, Message = "{Name} started (retransmit {Retransmit}, coalescing {Coalescing}, fallback {Fallback})")]
    internal static partial void Started(ILogger logger, string name, bool retransmit, bool coalescing, bool fallback);

    [LoggerMessage(EventId = EventIds.Stopped, Level = LogLevel.Information, Message = "{Name} stopped")]
    internal static partial void Stopped(ILogger logger, string name);



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



    [LoggerMessage(EventId = EventIds.CallbackFailed, Level = LogLevel.Error, Message = "{Transport}: a delivery callback threw")]
    internal static partial void CallbackFailed(ILogger logger, string transport, Exception exception);

    [LoggerMessage(EventId = EventIds.BatchingEmitterStopTimedOut, Level = LogLevel.Warning, Message = "{Transport}: stop did not finish within {Timeout}; cancelling in-flight batches (their events stay stored)")]
    internal static partial void BatchingEmitterStopTimedOut(ILogger logger, string transport, TimeSpan timeout);

    [LoggerMessage(EventId = EventIds.BufferFull, Level = LogLevel.Warning, Message = "The transport refuses events ({Result}, phase {Phase}): they stay stored and are retransmitted; refusals are counted on loop.emitter.refused and logged again once a minute while they last")]
    internal static partial void BufferFull(ILogger logger, Loop.Events.QueueResult result, string phase);

    [LoggerMessage(EventId = EventIds.BufferStillFull, Level = LogLevel.Warning, Message = "The transport still refuses events after {Duration}: {Count} events refused so far ({Result}); they stay stored")]
    internal static partial void BufferStillFull(ILogger logger, TimeSpan duration, int count, Loop.Events.QueueResult result);

    [LoggerMessage(EventId = EventIds.BufferAcceptsAgain, Level = LogLevel.Information, Message = "The transport accepts events again after {Duration} ({Count} events refused meanwhile, all stored)")]
    internal static partial void BufferAcceptsAgain(ILogger logger, TimeSpan duration, int count);

    [LoggerMessage(EventId = EventIds.StoreFailing, Level = LogLevel.Warning, Message = "Store operation {Operation} is failing: {Reason}; it is retried, and logged again once a minute while it fails")]
    internal static partial void StoreFailing(ILogger logger, string operation, string reason);

    [LoggerMessage(EventId = EventIds.StoreStillFailing, Level = LogLevel.Warning, Message = "Store operation {Operation} still failing after {Duration}: {Count} failures, latest: {Reason}")]
    internal static partial void StoreStillFailing(ILogger logger, string operation, TimeSpan duration, int count, string reason);

    [LoggerMessage(EventId = EventIds.StoreRecovered, Level = LogLevel.Information, Message = "Store operation {Operation} succeeds again after {Duration} ({Count} failures)")]
    internal static partial void StoreRecovered(ILogger logger, string operation, TimeSpan duration, int count);

    [LoggerMessage(EventId = EventIds.StoreSetupFailed, Level = LogLevel.Warning, Message = "Setting up the store failed: {Reason}. The emitter runs without it (emits fail, the health check is Unhealthy) and tries again with backoff, next in {Delay}")]
    internal static partial void StoreSetupFailed(ILogger logger, string reason, TimeSpan delay);

    [LoggerMessage(EventId = EventIds.StoreReady, Level = LogLevel.Information, Message = "The store is set up after {Attempts} attempts")]
    internal static partial void StoreReady(ILogger logger, int attempts);

    [LoggerMessage(EventId = EventIds.IngressFailing, Level = LogLevel.Warning, Message = "Sends to {Destination} are failing: {Reason}. The events stay stored and are retried; logged again once a minute while it lasts")]
    internal static partial void IngressFailing(ILogger logger, string destination, string reason);

    [LoggerMessage(EventId = EventIds.IngressStillFailing, Level = LogLevel.Warning, Message = "Sends to {Destination} still failing after {Duration}: {Count} failed calls, latest: {Reason}")]
    internal static partial void IngressStillFailing(ILogger logger, string destination, TimeSpan duration, int count, string reason);

    [LoggerMessage(EventId = EventIds.IngressRecovered, Level = LogLevel.Information, Message = "Sends to {Destination} succeed again after {Duration} ({Count} failed calls)")]
    internal static partial void IngressRecovered(ILogger logger, string destination, TimeSpan duration, int count);
}
