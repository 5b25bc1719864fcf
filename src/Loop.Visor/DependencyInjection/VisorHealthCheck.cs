using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Loop.Visor;

/// <summary>
/// The hosted Visor's health, from its run and its home's visor-state.json: Unhealthy when Visor has ended or no process
/// of the set runs, Degraded when the last upgrade was rolled back or refused (it needs an operator), else Healthy,
/// naming the running version either way.
/// </summary>
internal sealed class VisorHealthCheck(VisorHostedService visor, IOptions<VisorHostOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check());

    private HealthCheckResult Check()
    {
        if (visor.ExitCode is { } code)
        {
            return HealthCheckResult.Unhealthy($"visor ended with exit code {code}; nothing is supervised");
        }

        VisorState state;
        try
        {
            state = VisorStateFile.Load(new VisorHome(options.Value.Home!));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or VisorHomeException)
        {
            return HealthCheckResult.Unhealthy($"visor state unreadable: {ex.Message}");
        }

        if (state.Running is not { } running || running.VisorPid != Environment.ProcessId)
        {
            return HealthCheckResult.Unhealthy("no process of the set is running (starting, restarting or switching versions)");
        }

        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["version"] = running.Version,
            ["processes"] = string.Join(", ", running.Processes.Select(p => $"{p.Name} ({p.Pid})")),
        };
        var upgradedAt = state.LastUpgrade?.At ?? DateTimeOffset.MinValue;
        if (state.LastRollback is { } rollback && rollback.At >= upgradedAt)
        {
            return HealthCheckResult.Degraded($"running {running.Version}; the upgrade to {rollback.Failed} was rolled back: {rollback.Reason}", data: data);
        }

        if (state.Refused.Where(r => r.At >= upgradedAt).OrderByDescending(r => r.At).FirstOrDefault() is { } refused)
        {
            return HealthCheckResult.Degraded($"running {running.Version}; the upgrade to {refused.Tag} at height {refused.Height} was refused: {refused.Reason}", data: data);
        }

        return HealthCheckResult.Healthy($"running {running.Version} ({running.Processes.Count} processes)", data);
    }
}
