namespace Loop.Jobs;

/// <summary>Conveniences over <see cref="IJobStore"/>.</summary>
public static class JobStoreExtensions
{
    /// <summary>Creates one run (see <see cref="IJobStore.CreateRunsAsync"/>); false when its fire was taken or its job is archived or gone.</summary>
    public static async Task<bool> CreateRunAsync(this IJobStore store, JobRun run, InitiatorFire? fire, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var created = await store.CreateRunsAsync([new NewRun(run, fire)], cancellationToken).ConfigureAwait(false);
        return created[0];
    }
}
