namespace Loop.Jobs;

/// <summary>
/// An initiator type: what starts runs of the jobs that name it. Cron, run-at and web are built in; event initiators
/// (chain logs, queues) register their own through dependency injection (<c>AddLoopJobs().AddInitiator&lt;T&gt;()</c>).
/// </summary>
public interface IJobInitiator
{
    /// <summary>The initiator type name used in specs (matched case-insensitively).</summary>
    string Type { get; }

    /// <summary>
    /// Checks an initiator's parameters when a job is added; paths are relative to <c>params</c>, except one starting
    /// with <c>$.</c>, which names a field of the job (<c>$.id</c>).
    /// </summary>
    IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now);

    /// <summary>
    /// Starts watching for the initiator's events for <paramref name="job"/> (on add, and on every host's start); each
    /// event starts a run through <paramref name="runs"/>. Dispose the result (null: nothing to stop) to stop, when the
    /// job is archived or the host stops.
    /// </summary>
    ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken);
}
