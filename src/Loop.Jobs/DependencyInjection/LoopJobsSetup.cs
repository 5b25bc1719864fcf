using Microsoft.Extensions.Options;

namespace Loop.Jobs;

/// <summary>What the builder calls chose (the store), checked when the host starts.</summary>
internal sealed class LoopJobsSetup
{
    public string? Store { get; set; }
}

/// <summary>Fails the start, naming the fix, when no store was chosen.</summary>
internal sealed class LoopJobsSetupValidator : IValidateOptions<LoopJobsSetup>
{
    public ValidateOptionsResult Validate(string? name, LoopJobsSetup options) => options.Store is null
        ? ValidateOptionsResult.Fail("AddLoopJobs: no job store was chosen; call UsePostgres(...) (durable, several hosts) or UseInMemoryStore() on the builder.")
        : ValidateOptionsResult.Success;
}
