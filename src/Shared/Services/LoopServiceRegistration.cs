using Loop.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Loop.Hosting;

/// <summary>
/// The one way a Loop package runs an <see cref="ILoopService"/> in a .NET host: started and stopped with the host, and
/// reported by a health check (tagged <c>loop</c>) whose description names each failing part and why.
/// </summary>
internal static class LoopServiceRegistration
{
    public static IServiceCollection AddLoopService<TService>(this IServiceCollection services, string healthCheckName, Func<IServiceProvider, TService> resolve, params string[] tags)
        where TService : ILoopService =>
        AddLoopService(services, healthCheckName, resolve, sp => new LoopServiceHealthCheck(resolve(sp)), tags);

    /// <summary>As above, with a health check of the service's own (one that can say Degraded, say).</summary>
    public static IServiceCollection AddLoopService<TService>(
        this IServiceCollection services, string healthCheckName, Func<IServiceProvider, TService> resolve, Func<IServiceProvider, IHealthCheck> healthCheck, params string[] tags)
        where TService : ILoopService
    {
        services.AddSingleton<IHostedService>(sp => new LoopServiceHostedService<TService>(resolve(sp)));
        services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckName, healthCheck, failureStatus: null, tags: ["loop", .. tags]));
        return services;
    }
}
