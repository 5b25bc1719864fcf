using System.Collections.Concurrent;
using Loop.Jobs.Telemetry;
using Loop.Services;
using Loop.Telemetry;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Running;

/// <summary>
/// Takes ready runs from the store and executes them, up to <see cref="LoopJobsOptions.MaxConcurrentRuns"/> at once.
/// The store hands out only the first unfinished run of each job, so the runs of a job execute one at a time in the order
/// they were created, and a parked run holds back the later ones. Woken when a run is created or resumed here, when a
/// run finishes, when a sleeping run is due, on every new head, and every <see cref="LoopJobsOptions.PollInterval"/>
/// (work made ready by other hosts, leases run out).
/// </summary>
internal sealed class JobRunner : IHeadTrackable, IAsyncDisposable
{
    private readonly IJobStore _store;
    private readonly RunExecutor _executor;
    private readonly IHeadTracker? _heads;
    private readonly ConfirmationHolds _holds;
    private readonly LoopJobsOptions _options;
    private readonly string _hostId;
    private readonly TimeProvider _clock;
    private readonly JobsMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SleeperTask _dispatch;
    private readonly ConcurrentDictionary<Guid, Task> _active = new();
    private readonly SpecCache<JobSpec> _jobs;
    private readonly CancellationTokenSource _stopping = new();
    private readonly OutageTracker _storeOutage;
    private readonly Lock _gate = new();
    private ITimer? _wakeTimer;
    private DateTimeOffset? _wakeAt;
    private long _lastCount;
    private int _holdsReleased;

    public JobRunner(IJobStore store, SpecCache<JobSpec> jobs, RunExecutor executor, IHeadTracker? heads, ConfirmationHolds holds, LoopJobsOptions options, string hostId, TimeProvider clock, JobsMetrics metrics, ILogger logger)
    {
        _store = store;
        _jobs = jobs;
        _executor = executor;
        _heads = heads;
        _holds = holds;
        _options = options;
        _hostId = hostId;
        _clock = clock;
        _metrics = metrics;
        _logger = logger;
        _storeOutage = new OutageTracker(clock, TimeSpan.FromMinutes(1));
        _dispatch = new SleeperTask("Loop.Jobs.Dispatch", DispatchAsync, options.PollInterval, clock, logger);
    }

    /// <summary>Why the store is failing, while it is.</summary>
    public string? StoreProblem => _storeOutage.Ongoing ? _storeOutage.LastError : null;

    /// <summary>Runs executing in this host now.</summary>
    public int Executing => _active.Count;

    public void Start()
    {
        _dispatch.Start();

        // Runs left ready by an earlier host (a restart, a takeover) start now, not at the first poll.
        _dispatch.WakeUp();
    }

    public void WakeUp() => _dispatch.WakeUp();

    public Task ConnectAsync(Head? head, CancellationToken cancellationToken) => ResumeConnectingAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The last confirmation hold is gone: runs parked meanwhile as waiting for a connection are resumed (when the head
    /// tracker is connected), and runs whose confirmations the head reached are claimed, at the next dispatch.
    /// </summary>
    public void OnHoldsReleased()
    {
        Volatile.Write(ref _holdsReleased, 1);
        _dispatch.WakeUp();
    }

    public Task OnNewHeadAsync(Head head, CancellationToken cancellationToken)
    {
        _dispatch.WakeUp();
        return Task.CompletedTask;
    }

    public async Task<int> ResumeConnectingAsync(CancellationToken cancellationToken)
    {
        var resumed = await _store.ResumeConnectingRunsAsync(cancellationToken).ConfigureAwait(false);
        if (resumed > 0)
        {
            JobsLog.ConnectingResumed(_logger, resumed);
            _dispatch.WakeUp();
        }

        return resumed;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _dispatch.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _wakeTimer?.Dispose();
        }

        await Task.WhenAll(_active.Values).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async ValueTask DispatchAsync(CancellationToken cancellationToken)
    {
        var free = _options.MaxConcurrentRuns - _active.Count;
        IReadOnlyList<JobRun> claimed = [];
        try
        {
            if (Interlocked.Exchange(ref _holdsReleased, 0) == 1 && _heads?.Connected == true)
            {
                try
                {
                    await ResumeConnectingAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // Tried again at the next dispatch.
                    Volatile.Write(ref _holdsReleased, 1);
                    throw;
                }
            }

            if (free > 0)
            {
                var now = _clock.GetUtcNow();

                // While an event initiator has still to check its waiting runs' events, no head resumes a run waiting for
                // confirmations.
                var height = _holds.Held ? null : _heads?.Head?.Number;

                // Runs due within the fire lead are taken now and started by a local timer at their wake time, so that no
                // store round trip stands between a cron occurrence and its first task.
                claimed = await _store.ClaimRunsAsync(_hostId, now, now + Initiators.FireTimer.Lead, now + _options.RunLease, height, free, _options.RunsPerJobClaim, cancellationToken).ConfigureAwait(false);
            }

            foreach (var runs in claimed.GroupBy(r => r.JobId))
            {
                var job = await _jobs.FindAsync(runs.Key, cancellationToken).ConfigureAwait(false);
                var queue = runs.ToList();

                // The slot is taken before the runs start: runs that finished before a hot task was stored would
                // remove their entry first and leave the slot taken for good.
                var execution = new Task<Task>(() => ExecuteAsync(queue, job));
                _active[queue[0].Id] = execution.Unwrap();
                execution.Start(TaskScheduler.Default);
            }

            await ArmWakeAsync(cancellationToken).ConfigureAwait(false);
            await CountAsync(cancellationToken).ConfigureAwait(false);
            if (_storeOutage.Succeed() is { } outage)
            {
                JobsLog.StoreBack(_logger, outage.Failures, outage.Duration);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            switch (_storeOutage.Fail(ex.Message))
            {
                case OutageStep.Started:
                    JobsLog.StoreFailing(_logger, "claim", ex.Message);
                    break;
                case OutageStep.Ongoing:
                    JobsLog.StoreStillFailing(_logger, _storeOutage.Failures, _storeOutage.Duration, ex.Message);
                    break;
            }
        }
    }

    // The claimed runs of one job, in order: each after the one before finished; the rest go back when one parks, is
    // lost, or when the next one's lease would run out during it.
    // The claimed runs of one job, in order: each after the one before finished; the rest go back when one parks, is
    // lost, or when the next one's lease would run out during it. Runs without effect (pure tasks only) end together in
    // one write, before anything else of the job is written.
    private async Task ExecuteAsync(List<JobRun> runs, JobSpec? job)
    {
        var next = 0;
        var deferred = new List<JobRun>();
        try
        {
            while (next < runs.Count && !_stopping.IsCancellationRequested)
            {
                var run = runs[next];
                if (next > 0 && run.LeaseUntil - _clock.GetUtcNow() < _options.HttpTimeout)
                {
                    break;
                }

                // A run with an effect starts only once the ends of the runs before it are written.
                var defers = _executor.CanDefer(run, job);
                if (!defers && !await _executor.WriteDeferredAsync(deferred).ConfigureAwait(false))
                {
                    break;
                }

                next++;
                if (!await _executor.ExecuteAsync(run, job, _stopping.Token, defers ? deferred : null).ConfigureAwait(false))
                {
                    break;
                }
            }

            await _executor.WriteDeferredAsync(deferred).ConfigureAwait(false);
            if (next < runs.Count)
            {
                await _executor.ReleaseAsync(runs.Skip(next)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // The store failed mid-run: the leases run out and a host takes the runs again from their last checkpoint.
            if (_storeOutage.Fail(ex.Message) == OutageStep.Started)
            {
                JobsLog.StoreFailing(_logger, "run " + runs[Math.Max(0, next - 1)].Id, ex.Message);
            }
        }
        finally
        {
            _active.TryRemove(runs[0].Id, out _);
            if (!_stopping.IsCancellationRequested)
            {
                _dispatch.WakeUp();
            }
        }
    }

    // A one-shot timer at the earliest sleeping run's wake time, so a sleeper wakes on time rather than at the next poll.
    private async Task ArmWakeAsync(CancellationToken cancellationToken)
    {
        var next = await _store.GetNextWakeAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (next is null || next == _wakeAt || _stopping.IsCancellationRequested)
            {
                return;
            }

            _wakeTimer?.Dispose();
            _wakeAt = next;
            var due = next.Value - Initiators.FireTimer.Lead - _clock.GetUtcNow();
            _wakeTimer = _clock.CreateTimer(static s => ((JobRunner)s!).WakeFromTimer(), this, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        }
    }

    private void WakeFromTimer()
    {
        lock (_gate)
        {
            _wakeAt = null;
        }

        _dispatch.WakeUp();
    }

    // The runs-by-status gauge, refreshed at most every ten polls.
    private async Task CountAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetTimestamp();
        if (_lastCount != 0 && _clock.GetElapsedTime(_lastCount, now) < _options.PollInterval * 10)
        {
            return;
        }

        _lastCount = now;
        _metrics.RunsByStatus(await _store.CountRunsAsync(cancellationToken).ConfigureAwait(false));
    }
}
