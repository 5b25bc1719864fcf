using System.Text.Json.Nodes;
using Loop.Jobs.Ethereum.Telemetry;
using Loop.Services;
using Loop.Telemetry;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Ethereum.Initiators;

/// <summary>
/// One log initiator of one job at work: watches its logs from the block after the last one processed (recorded in
/// the job store, so a restart or a reconnect backfills), starts a run per log (the log's id is the fire, so a log
/// reported again starts no second run, on any host), cancels the unconfirmed run of a log a reorganisation removed,
/// and reconnects with backoff when the source is lost.
/// </summary>
internal sealed class LogSubscription : IAsyncDisposable
{
    private readonly JobSpec _job;
    private readonly int _index;
    private readonly LogFilter _filter;
    private readonly Func<ChainLog, (JsonNode? Input, string? Refusal)> _input;
    private readonly ILogSource _source;
    private readonly IRunStarter _runs;
    private readonly EthereumChainOptions _options;
    private readonly EthereumMetrics _metrics;
    private readonly ILogger _logger;
    private readonly OutageTracker _outage;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _type;
    private Task _loop = Task.CompletedTask;

    // Confirmations in this host wait while this initiator has not checked its waiting runs' logs against the chain (at
    // start, and after a lost connection): see IRunStarter.HoldConfirmations.
    private IDisposable? _hold;

    public LogSubscription(JobSpec job, int index, LogFilter filter, Func<ChainLog, (JsonNode? Input, string? Refusal)> input, ILogSource source, IRunStarter runs, EthereumChainOptions options, EthereumMetrics metrics, ILogger logger)
    {
        _job = job;
        _index = index;
        _filter = filter;
        _input = input;
        _source = source;
        _runs = runs;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _type = job.Initiators[index].Type.ToLowerInvariant();
        _outage = new OutageTracker(runs.TimeProvider, TimeSpan.FromMinutes(1));
    }

    public void Start()
    {
        // Taken before the loop runs, so that the host's first dispatch already sees it.
        _hold = _runs.HoldConfirmations();
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _hold?.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        long? processed = null;
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                processed ??= await StartingBlockAsync(stopping).ConfigureAwait(false);
                await RecheckPendingAsync(stopping).ConfigureAwait(false);
                _hold?.Dispose();
                _hold = null;
                EthereumLog.Subscribed(_logger, _job.Id, _type, processed.Value + 1, _source.Description);
                await foreach (var batch in _source.WatchLogsAsync(_filter, processed.Value + 1, stopping).ConfigureAwait(false))
                {
                    if (_outage.Succeed() is { } outage)
                    {
                        EthereumLog.SourceBack(_logger, _job.Id, _type, _source.Description, outage.Failures, outage.Duration);
                    }

                    failures = 0;
                    foreach (var log in batch.Logs)
                    {
                        await HandleAsync(log, stopping).ConfigureAwait(false);
                    }

                    if (batch.ProcessedThrough > processed)
                    {
                        processed = batch.ProcessedThrough;
                        await _runs.SaveCheckpointAsync(_job.Id, _index, batch.ProcessedThrough, stopping).ConfigureAwait(false);
                    }
                }

                Lost("the node ended the subscription", processed);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Lost($"{ex.GetType().Name}: {ex.Message}", processed);
            }

            _metrics.Reconnect(_job.Id);
            try
            {
                await Task.Delay(DoublingDelay.After(failures++, _options.ReconnectDelay, _options.MaxReconnectDelay), _runs.TimeProvider, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    // The block after which this initiator's logs count: the one recorded by any host, or (a job's first start) the
    // chain's current block, recorded at once so that a restart before the first log backfills from there.
    private async Task<long> StartingBlockAsync(CancellationToken cancellationToken)
    {
        if (await _runs.GetCheckpointAsync(_job.Id, _index, cancellationToken).ConfigureAwait(false) is { } saved)
        {
            return saved;
        }

        var current = await _source.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        await _runs.SaveCheckpointAsync(_job.Id, _index, current, cancellationToken).ConfigureAwait(false);
        return current;
    }

    // The runs of this initiator still waiting for confirmations (or a connection) were started from logs that this or
    // another host saw. While no host watched (a restart, a lost connection) the node may have replaced their blocks,
    // and the watch's own re-checks only cover the logs it reported itself. So each (re)subscription asks the chain for
    // those blocks, and a log whose height now holds another block is handled as removed. A height the chain does not
    // reach yet cannot be judged; it is looked at again at the next (re)subscription.
    private async Task RecheckPendingAsync(CancellationToken cancellationToken)
    {
        var pending = new List<(string LogId, long Block, string Hash)>();
        foreach (var fire in await _runs.ListPendingFiresAsync(_job.Id, _index, cancellationToken).ConfigureAwait(false))
        {
            if (fire.CreationHeight is { } block && ChainLog.BlockHashOf(fire.Key) is { } hash)
            {
                pending.Add((fire.Key, block, hash));
            }
        }

        if (pending.Count == 0)
        {
            return;
        }

        var onChain = await _source.GetBlockHashesAsync([.. pending.Select(p => p.Block)], cancellationToken).ConfigureAwait(false);
        foreach (var (logId, block, hash) in pending)
        {
            if (onChain.TryGetValue(block, out var current) && !string.Equals(current, hash, StringComparison.OrdinalIgnoreCase))
            {
                await RemovedAsync(logId, block, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RemovedAsync(string logId, long block, CancellationToken cancellationToken)
    {
        var reason = $"log {logId} was removed by a chain reorganisation (block {block} was replaced) before the run's confirmations";
        if (await _runs.CancelFiredRunAsync(_job, _index, logId, reason, cancellationToken).ConfigureAwait(false) is { } cancelled)
        {
            _metrics.Log(_job.Id, "cancelled");
            EthereumLog.RunCancelled(_logger, _job.Id, logId, block, cancelled.Id);
        }
        else
        {
            _metrics.Log(_job.Id, "removed");
            EthereumLog.LogRemoved(_logger, _job.Id, logId, block);
        }
    }

    private async Task HandleAsync(ChainLog log, CancellationToken cancellationToken)
    {
        if (log.Removed)
        {
            await RemovedAsync(log.Id, log.BlockNumber, cancellationToken).ConfigureAwait(false);
            return;
        }

        var (input, refusal) = _input(log);
        if (refusal is not null)
        {
            _metrics.Log(_job.Id, "refused");
            EthereumLog.LogRefused(_logger, _job.Id, _type, log.Id, log.BlockNumber, refusal);
            return;
        }

        var fire = new InitiatorFire(_index, log.Id, _runs.TimeProvider.GetUtcNow());
        if (await _runs.StartRunAsync(_job, _index, input, fire, log.BlockNumber, cancellationToken).ConfigureAwait(false) is null)
        {
            _metrics.Log(_job.Id, "duplicate");
            EthereumLog.LogDuplicate(_logger, _job.Id, log.Id);
            return;
        }

        _metrics.Log(_job.Id, "started");
    }

    private void Lost(string error, long? processed)
    {
        // While no watch runs, the chain may replace the blocks of waiting runs' logs again.
        _hold ??= _runs.HoldConfirmations();
        switch (_outage.Fail(error))
        {
            case OutageStep.Started:
                EthereumLog.SourceLost(_logger, _job.Id, _type, _source.Description, error, (processed ?? -1) + 1);
                break;
            case OutageStep.Ongoing:
                EthereumLog.SourceStillLost(_logger, _job.Id, _type, _source.Description, _outage.Failures, _outage.Duration, error);
                break;
        }
    }
}
