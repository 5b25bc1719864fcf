namespace Loop.Jobs;

/// <summary>The errors every store raises the same way.</summary>
internal static class StoreErrors
{
    public static JobValidationException JobExists(JobSpec job) =>
        new(job.ToString(), [new JobValidationError("id", $"a job with id '{job.Id}' exists")]);

    public static JobValidationException BridgeExists(string name) =>
        new($"bridge {name}", [new JobValidationError("name", $"a bridge named '{name}' exists")]);
}
