namespace Loop.Jobs;

/// <summary>
/// Where jobs, runs, task results, bridges and initiator fires are kept. Two implementations ship (PostgreSQL and memory)
/// and pass one contract test suite. Every run update is a compare-and-swap on <see cref="JobRun.Version"/>, so two
/// hosts never both advance one run.
/// </summary>
public interface IJobStore
{
    /// <summary>Creates (or migrates) the store's tables. Idempotent; safe from many hosts at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Adds a job. Fails with <see cref="JobValidationException"/> when its id is taken.</summary>
    Task AddJobAsync(JobSpec job, CancellationToken cancellationToken);

    /// <summary>The job with <paramref name="jobId"/>, archived or not, or null.</summary>
    Task<JobSpec?> GetJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Every job not archived.</summary>
    Task<IReadOnlyList<JobSpec>> ListActiveJobsAsync(CancellationToken cancellationToken);

    /// <summary>Marks a job archived at <paramref name="at"/>; false when there is no such job.</summary>
    Task<bool> ArchiveJobAsync(string jobId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Adds a bridge (its incoming token already hashed). Fails with <see cref="JobValidationException"/> when its name is taken.</summary>
    Task AddBridgeAsync(StoredBridge bridge, CancellationToken cancellationToken);

    /// <summary>The bridge named <paramref name="name"/>, or null.</summary>
    Task<StoredBridge?> GetBridgeAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every bridge.</summary>
    Task<IReadOnlyList<StoredBridge>> ListBridgesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates each run (assigning its <see cref="JobRun.Sequence"/>), in one transaction, in the order given. With a
    /// fire, a run is created only if that fire was not recorded before (by any host), and the fire is recorded with it:
    /// a cron or run-at fire starts one run across all hosts. Returns, per run, whether it was created (false: the fire
    /// was taken, or the job is archived or gone, checked in the same transaction). A single run:
    /// <see cref="JobStoreExtensions.CreateRunAsync"/>.
    /// </summary>
    Task<IReadOnlyList<bool>> CreateRunsAsync(IReadOnlyList<NewRun> runs, CancellationToken cancellationToken);

    /// <summary>The latest fire recorded for initiator <paramref name="initiatorIndex"/> of a job, or null.</summary>
    Task<DateTimeOffset?> GetLastFireAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken);

    /// <summary>The run that the fire <paramref name="key"/> of initiator <paramref name="initiatorIndex"/> created, or null (no such fire, or reaped).</summary>
    Task<Guid?> FindFireRunAsync(string jobId, int initiatorIndex, string key, CancellationToken cancellationToken);

    /// <summary>
    /// The fires of initiator <paramref name="initiatorIndex"/> whose runs wait for confirmations or for a connection:
    /// the events not acted on yet, which a chain initiator checks are still on the chain when it (re)starts.
    /// </summary>
    Task<IReadOnlyList<PendingFire>> ListPendingFiresAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken);

    /// <summary>The position an event initiator last processed (a chain initiator: the block), or null.</summary>
    Task<long?> GetInitiatorCheckpointAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken);

    /// <summary>Records the position an event initiator processed; kept only when later than the one held.</summary>
    Task SaveInitiatorCheckpointAsync(string jobId, int initiatorIndex, long position, CancellationToken cancellationToken);

    /// <summary>The latest head saved for <paramref name="chain"/>, or null.</summary>
    Task<Head?> GetHeadAsync(string chain, CancellationToken cancellationToken);

    /// <summary>Saves <paramref name="head"/> for <paramref name="chain"/> when it is later than the one held; returns whether it was.</summary>
    Task<bool> SaveHeadAsync(string chain, Head head, CancellationToken cancellationToken);

    /// <summary>The run, or null.</summary>
    Task<JobRun?> GetRunAsync(Guid runId, CancellationToken cancellationToken);

    /// <summary>The runs of a job, in order.</summary>
    Task<IReadOnlyList<JobRun>> ListRunsAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Takes ready runs for <paramref name="owner"/> until <paramref name="leaseUntil"/>, from up to
    /// <paramref name="jobs"/> jobs: of each, its first unfinished run when it is not leased by a live owner (a lease
    /// ending before <paramref name="now"/> is over) and is in progress, or asleep (or created ahead of its occurrence)
    /// until no later than <paramref name="wakeBy"/>, or waiting for a height no greater than <paramref name="height"/>; then up to <paramref name="runsPerJob"/> - 1 of the runs right after it, while they
    /// are in progress and not leased (a host executes them in order, after the first). Returned grouped by job, each
    /// job's runs in order. Runs of an archived job are taken as usual.
    /// </summary>
    Task<IReadOnlyList<JobRun>> ClaimRunsAsync(string owner, DateTimeOffset now, DateTimeOffset wakeBy, DateTimeOffset leaseUntil, long? height, int jobs, int runsPerJob, CancellationToken cancellationToken);

    /// <summary>
    /// Writes each run's state if its stored <see cref="JobRun.Version"/> still equals the one in the run, and then
    /// increments the version in the run; returns, per run, whether it was written (false: another host or call
    /// changed it first).
    /// </summary>
    Task<IReadOnlyList<bool>> UpdateRunsAsync(IReadOnlyList<JobRun> runs, CancellationToken cancellationToken);

    /// <summary>Moves every run pending a connection back to in progress; returns how many.</summary>
    Task<int> ResumeConnectingRunsAsync(CancellationToken cancellationToken);

    /// <summary>The earliest wake time of a sleeping run, or null.</summary>
    Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken);

    /// <summary>Runs by status.</summary>
    Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="limit"/> finished runs that finished before <paramref name="before"/> (and fires older than it, but each initiator's latest); returns how many runs.</summary>
    Task<int> DeleteFinishedRunsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken);
}
