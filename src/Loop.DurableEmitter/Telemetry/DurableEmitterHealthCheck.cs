using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Loop.DurableEmitter;

/// <summary>
/// The emitter's health: Unhealthy when it is not running or its store is failing, Degraded when sends have failed
/// for <see cref="DurableEmitterOptions.DegradedAfterSendFailures"/> or the oldest pending event is older than
/// <see cref="DurableEmitterOptions.DegradedPendingAge"/>, each with the reason in the description.
/// </summary>
internal sealed class DurableEmitterHealthCheck(DurableEventEmitter emitter) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(emitter.EvaluateHealth(context?.Registration.FailureStatus ?? HealthStatus.Unhealthy));
}
