using Loop.Events;
using Microsoft.Extensions.Logging;

namespace Loop.DurableEmitter;

/// <summary>
/// Sets up the store at start (its schema). When the store cannot be reached then, the emitter starts anyway and this
/// keeps trying with backoff: a host that starts while its database is down comes up, reports Unhealthy, and works
/// once the database answers.
/// </summary>
internal sealed class StoreSetup(IDurableEventStore store, StoreCalls calls, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>The first wait after a failed setup; it doubles up to <see cref="MaxBackoff"/>.</summary>
    internal static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two setup attempts.</summary>
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private const string Operation = "initialize";
    private readonly CancellationTokenSource _stop = new();
    private Task _retrying = Task.CompletedTask;

    /// <summary>Tries once; on failure starts retrying in the background. Throws only for a cancellation.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (store is not IInitializableStore initializable)
        {
            return;
        }

        var started = timeProvider.GetTimestamp();
        try
        {
            await initializable.InitializeAsync(cancellationToken).ConfigureAwait(false);
            calls.Record(Operation, timeProvider.GetElapsedTime(started), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            calls.Record(Operation, timeProvider.GetElapsedTime(started), ex);
            EmitterLog.StoreSetupFailed(logger, ex.Message, FirstBackoff);
            _retrying = RetryAsync(initializable, _stop.Token);
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _retrying.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task RetryAsync(IInitializableStore initializable, CancellationToken cancellationToken)
    {
        var delay = FirstBackoff;
        for (var attempt = 2; ; attempt++)
        {
            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            var started = timeProvider.GetTimestamp();
            try
            {
                await initializable.InitializeAsync(cancellationToken).ConfigureAwait(false);
                calls.Record(Operation, timeProvider.GetElapsedTime(started), null);
                EmitterLog.StoreReady(logger, attempt);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                calls.Record(Operation, timeProvider.GetElapsedTime(started), ex);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
