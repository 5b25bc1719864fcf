using System.Text.Json.Nodes;

namespace Loop.Jobs;

/// <summary>The job service: add and archive jobs, start and resume runs, add bridges.</summary>
public interface IJobService
{
    /// <summary>
    /// Validates <paramref name="job"/> (every problem at once, each naming its field), stores it and starts its
    /// initiators. Returns the stored job (with <see cref="JobSpec.CreatedAt"/>).
    /// </summary>
    /// <exception cref="JobValidationException">The job is invalid or its id is taken.</exception>
    Task<JobSpec> AddJobAsync(JobSpec job, CancellationToken cancellationToken = default);

    /// <summary>Archives a job: its initiators stop and no new run starts. Runs already created go on.</summary>
    /// <exception cref="JobNotFoundException">No such job.</exception>
    Task ArchiveJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>The job, archived or not, or null.</summary>
    Task<JobSpec?> GetJobAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>The jobs not archived.</summary>
    Task<IReadOnlyList<JobSpec>> ListJobsAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a run of a job that has a <c>web</c> initiator, with <paramref name="input"/> as the first task's input.</summary>
    /// <exception cref="JobNotFoundException">No such job.</exception>
    /// <exception cref="RunRefusedException">The job is archived, has no web initiator, or is outside its start and end.</exception>
    Task<JobRun> TriggerRunAsync(string jobId, JsonNode? input = null, CancellationToken cancellationToken = default);

    /// <summary>The run, or null.</summary>
    Task<JobRun?> GetRunAsync(Guid runId, CancellationToken cancellationToken = default);

    /// <summary>The runs of a job, in the order they were created.</summary>
    Task<IReadOnlyList<JobRun>> ListRunsAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>
    /// An external adapter's answer to a run pending on it: data becomes the task's output and the run goes on with the
    /// next task; an error errors the run; a pending answer changes nothing. Returns the run as stored after.
    /// </summary>
    /// <exception cref="RunNotFoundException">No such run.</exception>
    /// <exception cref="RunRefusedException">The run is not pending an external answer.</exception>
    Task<JobRun> ResumePendingTaskAsync(Guid runId, BridgeAnswer answer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels an unfinished run, with <paramref name="reason"/> as its error; a task in flight on a host finishes, but
    /// its result is not written and no later task runs. Returns the run as stored after.
    /// </summary>
    /// <exception cref="RunNotFoundException">No such run.</exception>
    /// <exception cref="RunRefusedException">The run is already finished.</exception>
    Task<JobRun> CancelRunAsync(Guid runId, string reason, CancellationToken cancellationToken = default);

    /// <summary>Resumes every run pending a connection (a dependency is back); returns how many.</summary>
    Task<int> ResumeConnectingRunsAsync(CancellationToken cancellationToken = default);

    /// <summary>Validates and stores a bridge; its name becomes a task type.</summary>
    /// <exception cref="JobValidationException">The bridge is invalid or its name is taken.</exception>
    Task AddBridgeAsync(BridgeSpec bridge, CancellationToken cancellationToken = default);
}
