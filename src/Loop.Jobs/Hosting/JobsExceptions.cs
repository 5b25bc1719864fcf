namespace Loop.Jobs;

/// <summary>No job has the id.</summary>
public sealed class JobNotFoundException(string jobId) : KeyNotFoundException($"no job has id '{jobId}'")
{
    /// <summary>The id asked for.</summary>
    public string JobId { get; } = jobId;
}

/// <summary>No run has the id.</summary>
public sealed class RunNotFoundException(Guid runId) : KeyNotFoundException($"no run has id {runId}")
{
    /// <summary>The id asked for.</summary>
    public Guid RunId { get; } = runId;
}

/// <summary>A run could not be started or resumed in the state things are in; the message says why.</summary>
public sealed class RunRefusedException(string message) : InvalidOperationException(message);
