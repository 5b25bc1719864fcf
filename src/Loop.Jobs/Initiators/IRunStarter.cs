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
}
