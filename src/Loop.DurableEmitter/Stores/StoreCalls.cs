using System.Collections.Concurrent;
using Loop.Telemetry;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>
/// The emitter's calls to its store, timed into <c>loop.emitter.store.operations</c>, with each operation's outages
/// logged the way an operator reads them: a warning when an operation starts failing, once a minute with the count
/// while it fails, a line when it succeeds again. It also answers whether the store is failing now, and why, for the
/// health check.
/// </summary>
internal sealed class StoreCalls(DurableEmitterMetrics metrics, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>How often a lasting failure of one operation is logged again.</summary>
    internal static readonly TimeSpan OutageLogInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, OutageTracker> _operations = new(StringComparer.Ordinal);
    private readonly OutageTracker _store = new(timeProvider, OutageLogInterval);

    /// <summary>
    /// When the latest call to the store failed: the operations failing, with how long and the latest error; empty
    /// when the latest call succeeded (an operation that failed and was not tried since does not keep the store down).
    /// </summary>
    public IReadOnlyList<(string Operation, TimeSpan Duration, string Error)> Failing =>
        _store.Ongoing
            ? [.. _operations.Where(o => o.Value.Ongoing).Select(o => (o.Key, o.Value.Duration, o.Value.LastError)).OrderBy(o => o.Key, StringComparer.Ordinal)]
            : [];

    /// <summary>
    /// Runs <paramref name="call"/>; a failure is recorded and logged (never thrown), and the result says whether the
    /// call succeeded. A cancellation is thrown.
    /// </summary>
    public async ValueTask<(bool Ok, T Value)> TryAsync<T>(string operation, Func<ValueTask<T>> call)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            var result = await call().ConfigureAwait(false);
            Record(operation, timeProvider.GetElapsedTime(started), null);
            return (true, result);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Record(operation, timeProvider.GetElapsedTime(started), ex);
            return (false, default!);
        }
    }

    /// <summary>Records the outcome of a store call made elsewhere (inserts, marks, lease releases).</summary>
    public void Record(string operation, TimeSpan elapsed, Exception? error)
    {
        metrics.StoreOperation(operation, elapsed, error is not null);
        var outage = _operations.GetOrAdd(operation, _ => new OutageTracker(timeProvider, OutageLogInterval));
        if (error is null)
        {
            _store.Succeed();
            if (outage.Succeed() is { } ended)
            {
                EmitterLog.StoreRecovered(logger, operation, ended.Duration, ended.Failures);
            }

            return;
        }

        var reason = error.Message;
        _store.Fail(reason);
        switch (outage.Fail(reason))
        {
            case OutageStep.Started:
                EmitterLog.StoreFailing(logger, operation, reason);
                break;
            case OutageStep.Ongoing:
                EmitterLog.StoreStillFailing(logger, operation, outage.Duration, outage.Failures, reason);
                break;
        }
    }
}
