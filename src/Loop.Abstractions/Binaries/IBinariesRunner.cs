namespace Loop.Visor;

/// <summary>
/// Runs the processes of one <see cref="RunConfig"/> as a tied set: when any of them exits, the others are stopped and
/// the run ends, so a supervisor can restart the set together or switch it to another version.
/// </summary>
public interface IBinariesRunner
{
    /// <summary>Starts every process of <paramref name="config"/> and completes when the first of them exits.</summary>
    /// <param name="config">The processes to run.</param>
    /// <param name="cancellationToken">Stops the set gracefully when cancelled.</param>
    /// <returns>Which process ended the run and how.</returns>
    Task<BinariesExit> RunAsync(RunConfig config, CancellationToken cancellationToken = default);

    /// <summary>Stops the running set gracefully: the stop delay, SIGTERM, then SIGKILL after the stop timeout.</summary>
    Task StopAsync(CancellationToken cancellationToken = default);

    /// <summary>Kills every running process at once.</summary>
    void Kill();
}
