namespace Loop.Jobs.Initiators;

/// <summary><c>web</c>: runs requested through <see cref="IJobService.TriggerRunAsync"/> or the mapped endpoint; nothing to watch.</summary>
internal sealed class WebInitiator : IJobInitiator
{
    public string Type => InitiatorTypes.Web;

    public IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now) => [];

    public ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IAsyncDisposable?>(null);
}
