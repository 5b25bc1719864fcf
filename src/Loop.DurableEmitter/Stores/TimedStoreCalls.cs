using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>The background loops' store calls, each timed into <c>loop.emitter.store.operations</c>, failures logged.</summary>
internal sealed class TimedStoreCalls(DurableEmitterMetrics metrics, TimeProvider timeProvider, ILogger logger)
{
    public async ValueTask<T> CallAsync<T>(string operation, Func<ValueTask<T>> call)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            var result = await call().ConfigureAwait(false);
            metrics.StoreOperation(operation, timeProvider.GetElapsedTime(started), error: false);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.StoreOperation(operation, timeProvider.GetElapsedTime(started), error: true);
            EmitterLog.LoopFailed(logger, operation, ex.Message);
            throw;
        }
    }
}
