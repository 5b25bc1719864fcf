using Microsoft.Extensions.Logging;

namespace Loop.Visor.Upgrades;

/// <summary>
/// Polls the upgrade sources of one start of a version: once right away, then every poll interval. Failures of the
/// node's upgrade-status endpoint count against the start's retry limit and are visible while they last: a warning at
/// the first, at most one a minute with the count, and one line when the endpoint answers again.
/// </summary>
internal sealed partial class UpgradeWatcher : IDisposable
{
    /// <summary>How often a lasting status outage is logged again.</summary>
    internal static readonly TimeSpan OutageLogInterval = TimeSpan.FromMinutes(1);

    private readonly List<IUpgradeSource> _sources;
    private readonly JsonRpcUpgradeSource? _rpc;
    private readonly RunConfig _runConfig;
    private readonly int _retryLimit;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Loop.Telemetry.OutageTracker _outage;

    public UpgradeWatcher(
        RunConfig runConfig, string upgradeInfoPath, IEnumerable<IUpgradeSource> extraSources, VisorServiceOptions options,
        int retryLimit, TimeProvider timeProvider, ILogger logger)
    {
        _runConfig = runConfig;
        _retryLimit = retryLimit;
        _timeProvider = timeProvider;
        _logger = logger;
        _outage = new Loop.Telemetry.OutageTracker(timeProvider, OutageLogInterval);
        _sources = [.. extraSources, new UpgradeInfoFileSource(upgradeInfoPath)];
        if (runConfig.UpgradeRpc is { } endpoint && options.UseUpgradeRpc)
        {
            _rpc = new JsonRpcUpgradeSource(endpoint, options.RpcTimeout);
            _sources.Add(_rpc);
        }
    }

    /// <summary>
    /// Polls every source once: the first upgrade reported, or null. With <paramref name="countFailures"/> false (the
    /// node has just exited, so its endpoint is down) a status failure neither counts nor ends the watch.
    /// </summary>
    public async Task<WatchOutcome?> PollOnceAsync(bool countFailures, CancellationToken cancellationToken)
    {
        foreach (var source in _sources)
        {
            UpgradeRequest? request;
            try
            {
                request = await source.PollAsync(_runConfig, cancellationToken).ConfigureAwait(false);
                if (source == _rpc && countFailures)
                {
                    Recovered();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (source != _rpc)
                {
                    VisorLog.SourceFailed(_logger, source.Name, ex.Message);
                    continue;
                }

                if (countFailures && Failed(ex) is { } exit)
                {
                    return exit;
                }

                continue;
            }

            if (request is not null)
            {
                return new WatchOutcome(request, null);
            }
        }

        return null;
    }

    /// <summary>
    /// Polls (right away when <paramref name="pollNow"/>) and then every <paramref name="interval"/> until an upgrade is
    /// reported or the status limit is reached; <paramref name="onTick"/> runs before each poll.
    /// </summary>
    public async Task<WatchOutcome> WatchAsync(TimeSpan interval, bool pollNow, Action onTick, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, _timeProvider);
        while (pollNow || await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            pollNow = false;
            onTick();
            if (await PollOnceAsync(countFailures: true, cancellationToken).ConfigureAwait(false) is { } outcome)
            {
                return outcome;
            }
        }

        return new WatchOutcome(null, VisorExitCodes.Stopped);
    }

    public void Dispose() => _rpc?.Dispose();

    private WatchOutcome? Failed(Exception ex)
    {
        var endpoint = _rpc!.Endpoint;
        switch (_outage.Fail(ex.Message))
        {
            case Loop.Telemetry.OutageStep.Started:
                VisorLog.StatusFailing(_logger, endpoint, ex.Message, _retryLimit);
                break;
            case Loop.Telemetry.OutageStep.Ongoing:
                VisorLog.StatusStillFailing(_logger, endpoint, _outage.Failures, _outage.Duration, ex.Message, _retryLimit);
                break;
        }

        if (_outage.Failures > _retryLimit)
        {
            VisorLog.StatusUnreachable(_logger, endpoint, _outage.Failures - 1, ex.Message);
            return new WatchOutcome(null, VisorExitCodes.UpgradeStatusUnreachable);
        }

        return null;
    }

    private void Recovered()
    {
        if (_outage.Succeed() is { } ended)
        {
            VisorLog.StatusRecovered(_logger, _rpc!.Endpoint, ended.Failures, ended.Duration);
        }
    }

}

/// <summary>How a watch ended: an upgrade reported, or an exit code (the status endpoint stayed unreachable).</summary>
internal sealed record WatchOutcome(UpgradeRequest? Upgrade, int? ExitCode);
