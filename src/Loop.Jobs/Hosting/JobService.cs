using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Loop.Jobs.Initiators;
using Loop.Jobs.Maintenance;
using Loop.Jobs.Running;
using Loop.Jobs.Tasks.BuiltIn;
using Loop.Jobs.Telemetry;
using Loop.Jobs.Validation;
using Loop.Services;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Jobs;

/// <summary>
/// The job service (Chainlink's application of jobs): validates and stores jobs, runs their initiators, executes their
/// runs through the job runner, resumes parked runs, and reaps old ones. Register it with <c>AddLoopJobs</c>; several
/// hosts may share one PostgreSQL store.
/// </summary>
public sealed class JobService : LoopService, IJobService
{
    private readonly IJobStore _store;
    private readonly LoopJobsOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly TypeRegistry<IJobTask> _tasks;
    private readonly TypeRegistry<IJobInitiator> _initiators;
    private readonly JobValidator _validator;
    private readonly IHeadTracker? _heads;
    private readonly JobsMetrics _metrics;
    private readonly StoreBatches<JobRun, bool> _writer;
    private readonly StoreBatches<NewRun, bool> _creator;
    private readonly SpecCache<JobSpec> _jobs;
    private readonly RunExecutor _executor;
    private readonly JobRunner _runner;
    private readonly SpecCache<StoredBridge> _bridges;
    private readonly RunStarter _starter;
    private readonly ConfirmationHolds _holds = new();
    private readonly SleeperTask _reaper;
    private readonly SleeperTask _sync;
    private readonly SemaphoreSlim _subscriptionsGate = new(1, 1);
    private readonly Dictionary<string, List<IAsyncDisposable>> _subscriptions = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<BridgeSpec> _configuredBridges;
    private IDisposable? _headRegistration;

    /// <summary>Creates the service; it does nothing until started.</summary>
    /// <param name="store">Where jobs and runs are kept.</param>
    /// <param name="options">The options.</param>
    /// <param name="httpClients">The HTTP clients of the HTTP tasks and bridges (client name <c>Loop.Jobs</c>).</param>
    /// <param name="tasks">Task types beyond the built-in ones.</param>
    /// <param name="initiators">Initiator types beyond cron, runat and web.</param>
    /// <param name="heads">The chain head, for confirmations; without one a task needing confirmations waits pending a connection.</param>
    /// <param name="emitter">The durable emitter the <c>emit</c> task writes through, if any.</param>
    /// <param name="bridges">Bridges added on start when not stored yet.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="meterFactory">Where the meter comes from.</param>
    public JobService(
        IJobStore store,
        LoopJobsOptions options,
        IHttpClientFactory httpClients,
        IEnumerable<IJobTask>? tasks = null,
        IEnumerable<IJobInitiator>? initiators = null,
        IHeadTracker? heads = null,
        Loop.DurableEmitter.IDurableEventEmitter? emitter = null,
        IEnumerable<BridgeSpec>? bridges = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
        : base("Jobs")
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClients);
        _store = store;
        _options = options;
        _clock = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Loop.Jobs");
        _heads = heads;
        HostId = options.HostId ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var http = new JobsHttp(httpClients);
        _tasks = new TypeRegistry<IJobTask>(
            [new NoopTask(), new MultiplyTask(), new JsonParseTask(), new SleepTask(), new HttpGetTask(http), new HttpPostTask(http), new EmitTask(emitter), .. tasks ?? []],
            t => t.Type,
            "task");
        _initiators = new TypeRegistry<IJobInitiator>(
            [new CronInitiator(options, _logger), new RunAtInitiator(_logger), new WebInitiator(), .. initiators ?? []],
            i => i.Type,
            "initiator");
        _validator = new JobValidator(_tasks, _initiators);
        _metrics = new JobsMetrics(meterFactory);
        _writer = new StoreBatches<JobRun, bool>(runs => store.UpdateRunsAsync(runs, CancellationToken.None));
        _creator = new StoreBatches<NewRun, bool>(runs => store.CreateRunsAsync(runs, CancellationToken.None));
        // Bridge names are lower case; task types name them in any case.
        _bridges = new SpecCache<StoredBridge>((name, ct) => store.GetBridgeAsync(name.ToLowerInvariant(), ct), StringComparer.OrdinalIgnoreCase);
        _jobs = new SpecCache<JobSpec>(store.GetJobAsync, StringComparer.Ordinal);
        _executor = new RunExecutor(_bridges, _writer, _tasks, http, heads, _holds, options, _clock, _metrics, _logger);
        _runner = new JobRunner(store, _jobs, _executor, heads, _holds, options, HostId, _clock, _metrics, _logger);
        _holds.Released = _runner.OnHoldsReleased;
        _starter = new RunStarter(this);
        _configuredBridges = [.. bridges ?? []];
        _reaper = new SleeperTask("Loop.Jobs.Reaper", new RunReaper(store, options, _clock, _logger).ReapAsync, options.ReaperInterval, _clock, _logger);
        _sync = new SleeperTask("Loop.Jobs.Sync", SyncJobsAsync, options.PollInterval * 10, _clock, _logger);
    }

    /// <summary>This host's name as the owner of the runs it executes.</summary>
    public string HostId { get; }

    /// <summary>Runs executing in this host now.</summary>
    public int ExecutingRuns => _runner.Executing;

    /// <inheritdoc />
    public async Task<JobSpec> AddJobAsync(JobSpec job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var now = _clock.GetUtcNow();
        var bridgeNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in job.Tasks.Where(t => _tasks.Find(t.Type) is null))
        {
            if (await _bridges.FindAsync(task.Type, cancellationToken).ConfigureAwait(false) is not null)
            {
                bridgeNames.Add(task.Type);
            }
        }

        var errors = _validator.Validate(job, now, bridgeNames.Contains);
        if (errors.Count > 0)
        {
            throw new JobValidationException(job.ToString(), errors);
        }

        var stored = job.With(createdAt: now);
        await _store.AddJobAsync(stored, cancellationToken).ConfigureAwait(false);
        JobsLog.JobAdded(_logger, stored.ToString(), stored.Initiators.Count, stored.Tasks.Count);
        if (State == ServiceState.Started)
        {
            await StartInitiatorsAsync(stored, cancellationToken).ConfigureAwait(false);
        }

        return stored;
    }

    /// <inheritdoc />
    public async Task ArchiveJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (!await _store.ArchiveJobAsync(jobId, _clock.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            throw new JobNotFoundException(jobId);
        }

        await StopInitiatorsAsync(jobId).ConfigureAwait(false);
        _jobs.Forget(jobId);
        JobsLog.JobArchived(_logger, jobId);
    }

    /// <inheritdoc />
    public Task<JobSpec?> GetJobAsync(string jobId, CancellationToken cancellationToken = default) => _store.GetJobAsync(jobId, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<JobSpec>> ListJobsAsync(CancellationToken cancellationToken = default) => _store.ListActiveJobsAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<JobRun> TriggerRunAsync(string jobId, JsonNode? input = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        var job = await _jobs.FindAsync(jobId, cancellationToken).ConfigureAwait(false) ?? throw new JobNotFoundException(jobId);

        var web = job.Initiators.Select((i, index) => (i, index)).FirstOrDefault(p => string.Equals(p.i.Type, InitiatorTypes.Web, StringComparison.OrdinalIgnoreCase));
        if (web.i is null)
        {
            throw new RunRefusedException($"{job} has no web initiator");
        }

        if (await StartRunAsync(job, web.index, input, null, null, cancellationToken).ConfigureAwait(false) is { } run)
        {
            return run;
        }

        _jobs.Forget(jobId);
        var now = await _store.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
        throw now is null ? new JobNotFoundException(jobId)
            : new RunRefusedException(now.ArchivedAt is not null ? $"{job} is archived" : $"{job} does not start runs now (outside its startAt and endAt)");
    }

    /// <inheritdoc />
    public Task<JobRun?> GetRunAsync(Guid runId, CancellationToken cancellationToken = default) => _store.GetRunAsync(runId, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<JobRun>> ListRunsAsync(string jobId, CancellationToken cancellationToken = default) => _store.ListRunsAsync(jobId, cancellationToken);

    /// <inheritdoc />
    public Task<JobRun> ResumePendingTaskAsync(Guid runId, BridgeAnswer answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return ResumeAsync(runId, answer, null, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<JobRun> CancelRunAsync(Guid runId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return await CancelAsync(runId, reason, null, cancellationToken).ConfigureAwait(false)
            ?? throw new RunRefusedException($"run {runId} is already finished");
    }

    /// <inheritdoc />
    public Task<int> ResumeConnectingRunsAsync(CancellationToken cancellationToken = default) => _runner.ResumeConnectingAsync(cancellationToken);

    /// <inheritdoc />
    public async Task AddBridgeAsync(BridgeSpec bridge, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        var errors = BridgeValidator.Validate(bridge, _tasks);
        if (errors.Count > 0)
        {
            throw new JobValidationException($"bridge {bridge.Name}", errors);
        }

        await _store.AddBridgeAsync(new StoredBridge(bridge.Name, bridge.Url, HashToken(bridge.IncomingToken), bridge.OutgoingToken, bridge.Confirmations), cancellationToken).ConfigureAwait(false);
        JobsLog.BridgeAdded(_logger, bridge.Name, JobsHttp.Safe(bridge.Url));
    }

    /// <summary>
    /// A resume from the endpoint: refused (and logged) unless the run exists, is pending on a bridge, and
    /// <paramref name="token"/> is that bridge's incoming token (compared in constant time). Changes nothing when refused.
    /// </summary>
    internal async Task<(JobRun? Run, int Status, string? Refusal)> ResumeFromBridgeAsync(string runIdText, string? token, JsonNode? body, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(runIdText, out var runId))
        {
            return Refuse(runIdText, 404, "not a run id");
        }

        var run = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        if (run is null)
        {
            return Refuse(runIdText, 404, "no such run");
        }

        if (run.Status != RunStatus.PendingBridge || run.PendingBridge is null)
        {
            return Refuse(runIdText, 409, $"the run is {run.Status.ToName()}, not pending a bridge");
        }

        var bridge = await _bridges.FindAsync(run.PendingBridge, cancellationToken).ConfigureAwait(false);
        if (bridge is null || token is null || !CryptographicOperations.FixedTimeEquals(HashToken(token), bridge.IncomingTokenHash))
        {
            return Refuse(runIdText, 401, token is null ? "no bearer token" : $"the token is not bridge {run.PendingBridge}'s incoming token");
        }

        if (BridgeAnswer.Read(body) is not { } answer)
        {
            return Refuse(runIdText, 400, "the body is none of {\"data\"}, {\"error\"}, {\"pending\": true}");
        }

        try
        {
            return (await ResumeAsync(runId, answer, run, cancellationToken).ConfigureAwait(false), 200, null);
        }
        catch (RunRefusedException ex)
        {
            return Refuse(runIdText, 409, ex.Message);
        }
    }

    /// <inheritdoc />
    protected override async Task OnStartAsync(CancellationToken cancellationToken)
    {
        await _store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        foreach (var bridge in _configuredBridges)
        {
            if (await _store.GetBridgeAsync(bridge.Name, cancellationToken).ConfigureAwait(false) is null)
            {
                await AddBridgeAsync(bridge, cancellationToken).ConfigureAwait(false);
            }
        }

        var jobs = await _store.ListActiveJobsAsync(cancellationToken).ConfigureAwait(false);
        _headRegistration = _heads?.Register(_runner);

        // Event initiators take their confirmation holds as they start; until all have started, this one stands in for
        // them, so that the runner's first dispatches resume no run on a head before its event was checked.
        using (_holds.Hold())
        {
            _runner.Start();
            foreach (var job in jobs)
            {
                await StartInitiatorsAsync(job, cancellationToken).ConfigureAwait(false);
            }
        }

        _reaper.Start();
        _sync.Start();
        JobsLog.Started(_logger, HostId, jobs.Count, _store.GetType().Name);
    }

    /// <inheritdoc />
    protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        _headRegistration?.Dispose();
        await _sync.DisposeAsync().ConfigureAwait(false);
        await _reaper.DisposeAsync().ConfigureAwait(false);
        foreach (var jobId in _subscriptions.Keys.ToList())
        {
            await StopInitiatorsAsync(jobId).ConfigureAwait(false);
        }

        await _runner.DisposeAsync().ConfigureAwait(false);
        await _creator.DisposeAsync().ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
        JobsLog.Stopped(_logger);
    }

    /// <inheritdoc />
    protected override void ReportParts(IDictionary<string, Exception?> report)
    {
        report[$"{Name}.Store"] = _runner.StoreProblem is { } problem ? new InvalidOperationException($"the job store is failing: {problem}") : null;
        if (_heads is not null)
        {
            report[$"{Name}.Heads"] = _heads.Connected ? null : new InvalidOperationException("the head tracker is not connected: runs needing confirmations wait");
        }
    }

    internal static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private (JobRun?, int, string?) Refuse(string runId, int status, string reason)
    {
        JobsLog.ResumeRefused(_logger, runId.Length > 64 ? runId[..64] : runId, reason);
        return (null, status, reason);
    }

    private async Task<JobRun> ResumeAsync(Guid runId, BridgeAnswer answer, JobRun? read, CancellationToken cancellationToken)
    {
        var run = read ?? await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
        if (run.Status != RunStatus.PendingBridge)
        {
            throw new RunRefusedException($"{run} is not pending an external answer");
        }

        if (answer.Pending)
        {
            return run;
        }

        var job = await _jobs.FindAsync(run.JobId, cancellationToken).ConfigureAwait(false) ?? throw new JobNotFoundException(run.JobId);
        var bridge = run.PendingBridge;
        var spec = job.Tasks[run.TaskIndex];
        if (answer.Error is { } error)
        {
            run.Results.Add(new TaskRunResult(run.TaskIndex, spec.Type, false, null, error, _clock.GetUtcNow()));
            run.Status = RunStatus.Errored;
            run.Error = $"task {run.TaskIndex} ({spec.Type}): {error}";
            run.FinishedAt = _clock.GetUtcNow();
        }
        else
        {
            _executor.Complete(run, spec, answer.Data);
            run.Status = run.TaskIndex < job.Tasks.Count ? RunStatus.InProgress : RunStatus.Completed;
            run.FinishedAt = run.Status == RunStatus.Completed ? _clock.GetUtcNow() : null;
        }

        run.PendingBridge = null;
        if (!await _writer.OneAsync(run).ConfigureAwait(false))
        {
            throw new RunRefusedException($"{run} was changed meanwhile; it is no longer pending this answer");
        }

        if (run.Status.IsFinished())
        {
            _metrics.Finished(run, run.FinishedAt!.Value - run.CreatedAt);
        }

        JobsLog.RunResumed(_logger, run.Id, run.JobId, bridge ?? "?");
        _runner.WakeUp();
        return run;
    }

    // Cancels the run if it is unfinished (and passes the condition), retrying when a host changes it meanwhile: a
    // compare-and-swap on its version, so a host executing it finds its own write refused and leaves it.
    private async Task<JobRun?> CancelAsync(Guid runId, string reason, Func<JobRun, bool>? condition, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var run = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new RunNotFoundException(runId);
            if (run.Status.IsFinished() || condition?.Invoke(run) == false)
            {
                return null;
            }

            run.Status = RunStatus.Cancelled;
            run.Error = reason;
            run.FinishedAt = _clock.GetUtcNow();
            run.SleepUntil = null;
            run.WaitForHeight = null;
            run.PendingBridge = null;
            run.Owner = null;
            run.LeaseUntil = null;
            if (await _writer.OneAsync(run).WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                _metrics.Finished(run, run.FinishedAt.Value - run.CreatedAt);
                JobsLog.RunCancelled(_logger, run.Id, run.JobId, reason);
                _runner.WakeUp();
                return run;
            }

            if (attempt == 4)
            {
                throw new RunRefusedException($"{run} kept changing while it was being cancelled; try again");
            }
        }
    }

    private async Task<JobRun?> StartRunAsync(JobSpec job, int initiatorIndex, JsonNode? input, InitiatorFire? fire, long? creationHeight, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        if (job.ArchivedAt is not null || (job.StartAt is { } start && now < start) || (job.EndAt is { } end && now > end))
        {
            return null;
        }

        var initiator = job.Initiators[initiatorIndex].Type.ToLowerInvariant();

        // A fire created ahead of its occurrence (so that its durable write is done when it is due) starts no earlier.
        var ahead = fire is not null && fire.At > now;
        var run = new JobRun
        {
            Id = Guid.NewGuid(),
            JobId = job.Id,
            InitiatorType = initiator,
            CreatedAt = ahead ? fire!.At : now,
            SleepUntil = ahead ? fire!.At : null,
            CreationHeight = creationHeight ?? _heads?.Head?.Number,
            Input = input?.DeepClone(),
            Data = input?.DeepClone(),
            Status = RunStatus.InProgress,
        };
        if (!await _creator.OneAsync(new NewRun(run, fire)).WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            JobsLog.FireTaken(_logger, job.Id, fire?.Key ?? "(none)");
            return null;
        }

        if (fire is not null)
        {
            _metrics.Lateness(initiator, now - fire.At);
        }

        _metrics.Started(job.Id, initiator);
        JobsLog.RunCreated(_logger, run.Id, job.Id, initiator);
        _runner.WakeUp();
        return run;
    }

    private async Task StartInitiatorsAsync(JobSpec job, CancellationToken cancellationToken)
    {
        await _subscriptionsGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_subscriptions.ContainsKey(job.Id))
            {
                return;
            }

            var started = new List<IAsyncDisposable>();
            _subscriptions[job.Id] = started;
            for (var i = 0; i < job.Initiators.Count; i++)
            {
                var type = _initiators.Find(job.Initiators[i].Type);
                try
                {
                    if (type is not null && await type.StartAsync(job, i, _starter, cancellationToken).ConfigureAwait(false) is { } subscription)
                    {
                        started.Add(subscription);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    JobsLog.InitiatorFailed(_logger, job.Id, job.Initiators[i].Type, ex.Message);
                }
            }
        }
        finally
        {
            _subscriptionsGate.Release();
        }
    }

    private async Task StopInitiatorsAsync(string jobId)
    {
        List<IAsyncDisposable>? started;
        await _subscriptionsGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _subscriptions.Remove(jobId, out started);
        }
        finally
        {
            _subscriptionsGate.Release();
        }

        foreach (var subscription in started ?? [])
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Jobs added or archived through another host sharing the store: start or stop their initiators here too.
    private async ValueTask SyncJobsAsync(CancellationToken cancellationToken)
    {
        var active = await _store.ListActiveJobsAsync(cancellationToken).ConfigureAwait(false);
        var ids = active.Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var job in active)
        {
            await StartInitiatorsAsync(job, cancellationToken).ConfigureAwait(false);
        }

        List<string> gone;
        await _subscriptionsGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            gone = [.. _subscriptions.Keys.Where(id => !ids.Contains(id))];
        }
        finally
        {
            _subscriptionsGate.Release();
        }

        foreach (var jobId in gone)
        {
            await StopInitiatorsAsync(jobId).ConfigureAwait(false);
        }
    }

    private sealed class RunStarter(JobService service) : IRunStarter
    {
        public TimeProvider TimeProvider => service._clock;

        public Task<JobRun?> StartRunAsync(JobSpec job, int initiatorIndex, JsonNode? input, InitiatorFire? fire, long? creationHeight, CancellationToken cancellationToken) =>
            service.StartRunAsync(job, initiatorIndex, input, fire, creationHeight, cancellationToken);

        public Task<DateTimeOffset?> GetLastFireAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken) =>
            service._store.GetLastFireAsync(jobId, initiatorIndex, cancellationToken);

        public async Task<JobRun?> CancelFiredRunAsync(JobSpec job, int initiatorIndex, string fireKey, string reason, CancellationToken cancellationToken)
        {
            if (await service._store.FindFireRunAsync(job.Id, initiatorIndex, fireKey, cancellationToken).ConfigureAwait(false) is not { } runId)
            {
                return null;
            }

            // Past its confirmations (or into its tasks) a run has acted on the event; it is left to finish.
            return await service.CancelAsync(runId, reason, static r => r.Status is RunStatus.PendingConfirmations or RunStatus.PendingConnection
                || (r.Status == RunStatus.InProgress && r.TaskIndex == 0 && r.Results.Count == 0), cancellationToken).ConfigureAwait(false);
        }

        public Task<IReadOnlyList<PendingFire>> ListPendingFiresAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken) =>
            service._store.ListPendingFiresAsync(jobId, initiatorIndex, cancellationToken);

        public Task<long?> GetCheckpointAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken) =>
            service._store.GetInitiatorCheckpointAsync(jobId, initiatorIndex, cancellationToken);

        public Task SaveCheckpointAsync(string jobId, int initiatorIndex, long position, CancellationToken cancellationToken) =>
            service._store.SaveInitiatorCheckpointAsync(jobId, initiatorIndex, position, cancellationToken);

        public IDisposable HoldConfirmations() => service._holds.Hold();
    }
}
