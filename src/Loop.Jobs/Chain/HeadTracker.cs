using Loop.Jobs.Telemetry;
using Loop.Services;
using Loop.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Jobs;

/// <summary>
/// The chain's latest head, from an <see cref="IHeadSource"/>: saved in the job store (only a head later than the one
/// held), read back on start, and told to its trackables (connect, disconnect, each new head) in order, one call at a
/// time. When the source is lost the tracker says so, waits (doubling up to a limit) and connects again.
/// </summary>
public sealed class HeadTracker : LoopService, IHeadTracker
{
    private readonly IHeadSource _source;
    private readonly IJobStore _store;
    private readonly HeadTrackerOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly TrackedHead _tracked = new();
    private readonly OutageTracker _outage;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Creates a tracker of <paramref name="source"/> that keeps its head in <paramref name="store"/>.</summary>
    public HeadTracker(IHeadSource source, IJobStore store, HeadTrackerOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
        : base("HeadTracker")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(store);
        _source = source;
        _store = store;
        _options = options ?? new HeadTrackerOptions();
        _clock = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<HeadTracker>();
        _outage = new OutageTracker(_clock, TimeSpan.FromMinutes(1));
    }

    /// <inheritdoc />
    public Head? Head => _tracked.Head;

    /// <inheritdoc />
    public bool Connected => _tracked.Connected;

    /// <inheritdoc />
    public IDisposable Register(IHeadTrackable trackable) => _tracked.Add(trackable);

    /// <inheritdoc />
    protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <inheritdoc />
    protected override void ReportParts(IDictionary<string, Exception?> report) =>
        report[$"{Name}.Source"] = Connected ? null : new InvalidOperationException(_outage.Ongoing
            ? $"not connected to {_source.Description}: {_outage.LastError} ({_outage.Failures} attempt(s) over {_outage.Duration:g})"
            : $"not connected to {_source.Description} yet");

    private async Task RunAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            string error;
            try
            {
                await WatchAsync(stopping).ConfigureAwait(false);
                error = "the source ended its stream of heads";
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                error = $"{ex.GetType().Name}: {ex.Message}";
            }

            if (Connected)
            {
                failures = 0;
                await DisconnectAsync(stopping).ConfigureAwait(false);
            }

            switch (_outage.Fail(error))
            {
                case OutageStep.Started:
                    JobsLog.HeadTrackerDisconnected(_logger, _source.Description, error);
                    break;
                case OutageStep.Ongoing:
                    JobsLog.HeadTrackerStillDisconnected(_logger, _source.Description, _outage.Failures, _outage.Duration, error);
                    break;
            }

            var delay = DoublingDelay.After(failures++, _options.ReconnectDelay, _options.MaxReconnectDelay);
            try
            {
                await Task.Delay(delay, _clock, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (Connected)
        {
            await DisconnectAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task WatchAsync(CancellationToken stopping)
    {
        // The head saved by this host or another before: confirmations count on from it while the source is away.
        if (Head is null && await ReadSavedHeadAsync(stopping).ConfigureAwait(false) is { } saved)
        {
            _tracked.Seed(saved);
        }

        await foreach (var head in _source.WatchHeadsAsync(stopping).ConfigureAwait(false))
        {
            if (!Connected)
            {
                if (_outage.Succeed() is { } outage)
                {
                    JobsLog.HeadTrackerBack(_logger, _source.Description, outage.Failures, outage.Duration);
                }

                if (_tracked.Connect(head))
                {
                    await SaveAsync(head, stopping).ConfigureAwait(false);
                }

                JobsLog.HeadTrackerConnected(_logger, _source.Description, Head?.Number);
                await TellConnectionAsync(true, stopping).ConfigureAwait(false);
                continue;
            }

            // Keeps (and saves) a head only when it is later than the one held: a reorganisation to a shorter chain
            // waits for the chain to grow past the height already seen.
            if (_tracked.TryAdvance(head))
            {
                await SaveAsync(head, stopping).ConfigureAwait(false);
                foreach (var trackable in _tracked.Snapshot())
                {
                    await trackable.OnNewHeadAsync(head, stopping).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task<Head?> ReadSavedHeadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _store.GetHeadAsync(_options.Chain, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            JobsLog.StoreFailing(_logger, "read head", ex.Message);
            return null;
        }
    }

    private async Task SaveAsync(Head head, CancellationToken cancellationToken)
    {
        try
        {
            await _store.SaveHeadAsync(_options.Chain, head, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The head is held and told all the same; a later one is saved when the store is back.
            JobsLog.StoreFailing(_logger, "save head", ex.Message);
        }
    }

    private Task DisconnectAsync(CancellationToken cancellationToken)
    {
        _tracked.SetConnected(false);
        return TellConnectionAsync(false, cancellationToken);
    }

    private async Task TellConnectionAsync(bool connected, CancellationToken cancellationToken)
    {
        var head = Head;
        foreach (var trackable in _tracked.Snapshot())
        {
            try
            {
                await (connected ? trackable.ConnectAsync(head, cancellationToken) : trackable.DisconnectAsync(cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // One trackable's failure does not keep the others from hearing of the connection.
                JobsLog.InitiatorFailed(_logger, "(head tracker)", trackable.GetType().Name, ex.Message);
            }
        }
    }
}
