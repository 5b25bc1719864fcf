namespace Loop.Jobs.Stores.InMemory;

/// <summary>The job store in memory, for tests and hosts that need no durability. Thread-safe; returns copies.</summary>
public sealed class MemJobStore : IJobStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JobSpec> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredBridge> _bridges = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, JobRun> _runs = [];
    private readonly Dictionary<(string JobId, int Initiator, string Key), (DateTimeOffset At, Guid RunId)> _fires = [];
    private readonly Dictionary<(string JobId, int Initiator), long> _checkpoints = [];
    private readonly Dictionary<string, Head> _heads = new(StringComparer.Ordinal);
    private long _sequence;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task AddJobAsync(JobSpec job, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_jobs.TryAdd(job.Id, job))
            {
                throw StoreErrors.JobExists(job);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<JobSpec?> GetJobAsync(string jobId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_jobs.GetValueOrDefault(jobId));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobSpec>> ListActiveJobsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<JobSpec>>([.. _jobs.Values.Where(j => j.ArchivedAt is null).OrderBy(j => j.CreatedAt)]);
        }
    }

    /// <inheritdoc />
    public Task<bool> ArchiveJobAsync(string jobId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(jobId, out var job))
            {
                return Task.FromResult(false);
            }

            _jobs[jobId] = job.With(archivedAt: job.ArchivedAt ?? at);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task AddBridgeAsync(StoredBridge bridge, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_bridges.TryAdd(bridge.Name, bridge))
            {
                throw StoreErrors.BridgeExists(bridge.Name);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<StoredBridge?> GetBridgeAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_bridges.GetValueOrDefault(name));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredBridge>> ListBridgesAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<StoredBridge>>([.. _bridges.Values]);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<bool>> CreateRunsAsync(IReadOnlyList<NewRun> runs, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var created = new bool[runs.Count];
            for (var i = 0; i < runs.Count; i++)
            {
                var (run, fire) = runs[i];
                if (!_jobs.TryGetValue(run.JobId, out var job) || job.ArchivedAt is not null)
                {
                    continue;
                }

                if (fire is not null && !_fires.TryAdd((run.JobId, fire.InitiatorIndex, fire.Key), (fire.At, run.Id)))
                {
                    continue;
                }

                run.Sequence = ++_sequence;
                _runs.Add(run.Id, run.Clone());
                created[i] = true;
            }

            return Task.FromResult<IReadOnlyList<bool>>(created);
        }
    }

    /// <inheritdoc />
    public Task<DateTimeOffset?> GetLastFireAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var times = _fires.Where(f => f.Key.JobId == jobId && f.Key.Initiator == initiatorIndex).Select(f => f.Value.At).ToList();
            return Task.FromResult(times.Count == 0 ? (DateTimeOffset?)null : times.Max());
        }
    }

    /// <inheritdoc />
    public Task<Guid?> FindFireRunAsync(string jobId, int initiatorIndex, string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_fires.TryGetValue((jobId, initiatorIndex, key), out var fire) ? fire.RunId : (Guid?)null);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<PendingFire>> ListPendingFiresAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var pending = new List<PendingFire>();
            foreach (var (fire, (_, runId)) in _fires)
            {
                if (fire.JobId == jobId && fire.Initiator == initiatorIndex
                    && _runs.TryGetValue(runId, out var run) && run.Status is RunStatus.PendingConfirmations or RunStatus.PendingConnection)
                {
                    pending.Add(new PendingFire(fire.Key, runId, run.CreationHeight));
                }
            }

            return Task.FromResult<IReadOnlyList<PendingFire>>(pending);
        }
    }

    /// <inheritdoc />
    public Task<long?> GetInitiatorCheckpointAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_checkpoints.TryGetValue((jobId, initiatorIndex), out var position) ? position : (long?)null);
        }
    }

    /// <inheritdoc />
    public Task SaveInitiatorCheckpointAsync(string jobId, int initiatorIndex, long position, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_checkpoints.TryGetValue((jobId, initiatorIndex), out var held) || position > held)
            {
                _checkpoints[(jobId, initiatorIndex)] = position;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<Head?> GetHeadAsync(string chain, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_heads.GetValueOrDefault(chain));
        }
    }

    /// <inheritdoc />
    public Task<bool> SaveHeadAsync(string chain, Head head, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        lock (_gate)
        {
            if (_heads.TryGetValue(chain, out var held) && held.Number >= head.Number)
            {
                return Task.FromResult(false);
            }

            _heads[chain] = head;
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<JobRun?> GetRunAsync(Guid runId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_runs.TryGetValue(runId, out var run) ? run.Clone() : null);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobRun>> ListRunsAsync(string jobId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<JobRun>>([.. _runs.Values.Where(r => r.JobId == jobId).OrderBy(r => r.Sequence).Select(r => r.Clone())]);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<JobRun>> ClaimRunsAsync(string owner, DateTimeOffset now, DateTimeOffset wakeBy, DateTimeOffset leaseUntil, long? height, int jobs, int runsPerJob, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var claimed = new List<JobRun>();
            var open = _runs.Values.Where(r => !r.Status.IsFinished()).GroupBy(r => r.JobId).Select(g => g.OrderBy(r => r.Sequence).ToList()).OrderBy(g => g[0].Sequence);
            var taken = 0;
            foreach (var runs in open)
            {
                if (taken >= jobs)
                {
                    break;
                }

                var head = runs[0];
                if (!RunReadiness.IsReady(head.Status, head.SleepUntil, head.WaitForHeight, wakeBy, height) || !Free(head, now))
                {
                    continue;
                }

                taken++;
                foreach (var run in runs.Take(runsPerJob).TakeWhile((r, i) => i == 0 || (r.Status == RunStatus.InProgress && !(r.SleepUntil > wakeBy) && Free(r, now))))
                {
                    run.Owner = owner;
                    run.LeaseUntil = leaseUntil;
                    run.Version++;
                    claimed.Add(run.Clone());
                }
            }

            return Task.FromResult<IReadOnlyList<JobRun>>(claimed);
        }
    }

    private static bool Free(JobRun run, DateTimeOffset now) => run.Owner is null || run.LeaseUntil < now;

    /// <inheritdoc />
    public Task<IReadOnlyList<bool>> UpdateRunsAsync(IReadOnlyList<JobRun> runs, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var written = new bool[runs.Count];
            for (var i = 0; i < runs.Count; i++)
            {
                var run = runs[i];
                if (_runs.TryGetValue(run.Id, out var stored) && stored.Version == run.Version)
                {
                    run.Version++;
                    var copy = run.Clone();
                    copy.Sequence = stored.Sequence;
                    _runs[run.Id] = copy;
                    written[i] = true;
                }
            }

            return Task.FromResult<IReadOnlyList<bool>>(written);
        }
    }

    /// <inheritdoc />
    public Task<int> ResumeConnectingRunsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var count = 0;
            foreach (var run in _runs.Values.Where(r => r.Status == RunStatus.PendingConnection))
            {
                run.Status = RunStatus.InProgress;
                run.Version++;
                count++;
            }

            return Task.FromResult(count);
        }
    }

    /// <inheritdoc />
    public Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_runs.Values.Where(r => r.Status is RunStatus.PendingSleep or RunStatus.InProgress && r.SleepUntil is not null).Select(r => r.SleepUntil).Min());
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<RunStatus, long>>(_runs.Values.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => (long)g.Count()));
        }
    }

    /// <inheritdoc />
    public Task<int> DeleteFinishedRunsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var old = _runs.Values.Where(r => r.Status.IsFinished() && r.FinishedAt < before).OrderBy(r => r.FinishedAt).Take(limit).Select(r => r.Id).ToList();
            foreach (var id in old)
            {
                _runs.Remove(id);
            }

            var latest = _fires.GroupBy(f => (f.Key.JobId, f.Key.Initiator)).Select(g => g.MaxBy(f => f.Value.At).Key).ToHashSet();
            foreach (var fire in _fires.Where(f => f.Value.At < before && !latest.Contains(f.Key)).Select(f => f.Key).ToList())
            {
                _fires.Remove(fire);
            }

            return Task.FromResult(old.Count);
        }
    }
}
