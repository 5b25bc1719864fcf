namespace Loop.Services;

/// <summary>
/// A long-running part of a Loop host or plugin: it starts once, stops once, says whether it is ready and reports the
/// health of its named parts. <see cref="LoopService"/> implements the lifecycle; <see cref="LoopServiceHostedService{TService}"/>
/// runs one under a .NET host and <see cref="LoopServiceHealthCheck"/> exposes it to .NET health checks.
/// </summary>
public interface ILoopService
{
    /// <summary>The service's name, used as its key in health reports and logs.</summary>
    string Name { get; }

    /// <summary>Starts the service. A service starts at most once; a second call fails.</summary>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops the service. Only the first call stops; later calls wait for that same stop.</summary>
    Task StopAsync(CancellationToken cancellationToken = default);

    /// <summary>Returns <see langword="null"/> when the service is ready for use, otherwise why it is not.</summary>
    Exception? CheckReady();

    /// <summary>The health of the service and its parts by name; a <see langword="null"/> value means healthy.</summary>
    IReadOnlyDictionary<string, Exception?> GetHealthReport();
}
