using Loop.Plugins;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the LOOP plugin host services.</summary>
public static class LoopPluginsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ILoopRegistry"/> (with its port pool and tracing settings) and the metrics proxy's
    /// HttpClient; options are validated at start. Map the Prometheus endpoints with <c>app.MapLoopPluginEndpoints()</c>.
    /// </summary>
    public static IServiceCollection AddLoopPlugins(this IServiceCollection services, Action<LoopPluginsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LoopPluginsOptions>().Configure(o => configure?.Invoke(o))
            .Validate(o => o.Validate() is null, "invalid LoopPluginsOptions")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LoopPluginsOptions>, Validator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LoopPluginsOptions>>().Value;
            return new PortPool(o.FirstPort, o.LastPort, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<ILoopRegistry>(sp => new LoopRegistry(
            sp.GetRequiredService<PortPool>(),
            sp.GetRequiredService<IOptions<LoopPluginsOptions>>().Value.Tracing,
            sp.GetService<ILogger<LoopRegistry>>()));
        services.AddHttpClient(PluginEndpoints.ProxyClientName);
        return services;
    }

    private sealed class Validator : IValidateOptions<LoopPluginsOptions>
    {
        public ValidateOptionsResult Validate(string? name, LoopPluginsOptions options) =>
            options.Validate() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
