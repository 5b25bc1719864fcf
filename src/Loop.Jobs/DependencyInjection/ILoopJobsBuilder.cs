namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures the job service registered by <c>AddLoopJobs</c>.</summary>
public interface ILoopJobsBuilder
{
    /// <summary>The service collection the job service is registered in.</summary>
    IServiceCollection Services { get; }
}
