using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Loop.Services;

/// <summary>Reports an <see cref="ILoopService"/>'s health report as a .NET health check.</summary>
public sealed class LoopServiceHealthCheck : IHealthCheck
{
    private readonly ILoopService _service;

    /// <summary>Creates the health check for <paramref name="service"/>.</summary>
    public LoopServiceHealthCheck(ILoopService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = service;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var report = _service.GetHealthReport();
        var failing = report.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => (object)p.Value!.Message);
        var result = failing.Count == 0
            ? HealthCheckResult.Healthy($"{_service.Name}: {report.Count} part(s) healthy")
            : new HealthCheckResult(
                context?.Registration.FailureStatus ?? HealthStatus.Unhealthy,
                $"{_service.Name}: {failing.Count} of {report.Count} part(s) unhealthy: {string.Join("; ", failing.Select(p => $"{p.Key}: {p.Value}"))}",
                data: failing);
        return Task.FromResult(result);
    }
}
