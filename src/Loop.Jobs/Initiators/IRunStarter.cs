using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>How an initiator starts runs.</summary>
public interface IRunStarter
{
    /// <summary>The clock.</summary>
    TimeProvider TimeProvider { get; }

    /// <summary>
    /// Starts a run of <paramref name="job"/> with <paramref name="input"/>. With a <paramref name="fire"/>, at most one
    /// run is started for it across all hosts sharing the store. Returns null when none was started: the fire was taken,
    /// the job is archived, or the time is outside the job's start and end.
    /// </summary>
    Task<JobRun?> StartRunAsync(JobSpec job, int initiatorIndex, JsonNode? input, InitiatorFire? fire, long? creationHeight, CancellationToken cancellationToken);

    /// <summary>When the initiator last fired (recorded by any host), or null.</summary>
    Task<DateTimeOffset?> GetLastFireAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels the run that <paramref name="fireKey"/> started (a log removed by a chain reorganisation) if it has not
    /// gone past its confirmations: it is waiting for them or for a connection, or has not started its first task.
    /// Returns the cancelled run, or null when there was none to cancel.
    /// </summary>
    Task<JobRun?> CancelFiredRunAsync(JobSpec job, int initiatorIndex, string fireKey, string reason, CancellationToken cancellationToken);

    /// <summary>The fires of an initiator whose runs wait for confirmations or for a connection (not acted on yet).</summary>
    Task<IReadOnlyList<PendingFire>> ListPendingFiresAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken);

    /// <summary>The position (a block) an event initiator last processed, as recorded by any host, or null.</summary>
    Task<long?> GetCheckpointAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken);

    /// <summary>Records the position an event initiator processed (kept only when later than the one held).</summary>
    Task SaveCheckpointAsync(string jobId, int initiatorIndex, long position, CancellationToken cancellationToken);

    /// <summary>
    /// Holds confirmations in this host until the result is disposed: no run waiting for confirmations is resumed, and
    /// a run that needs confirmations waits as if the head tracker were not connected. An event initiator holds them
    /// from its start (and from a lost connection) until it has checked the events behind its waiting runs
    /// (<see cref="ListPendingFiresAsync"/>), so that a head reached on a chain that replaced an event's block resumes
    /// no run of that event before <see cref="CancelFiredRunAsync"/> could cancel it.
    /// </summary>
    IDisposable HoldConfirmations();
}
