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

    /// <summary>
    /// Runs a plugin out of process under supervision for the host's lifetime: it is registered with the
    /// <see cref="ILoopRegistry"/> (so it appears in discovery and the metrics proxy), launched with exactly its
    /// configured environment plus the registry's and the handshake's, relaunched when it dies or stops answering, and
    /// stopped with the host. The <see cref="PluginService"/> is a keyed singleton under <see cref="CmdConfig.Id"/>.
    /// </summary>
    public static IServiceCollection AddLoopPlugin(
        this IServiceCollection services, CmdConfig command, HandshakeConfig handshake, Action<PluginServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(handshake);

        // A bad name is an error here, at registration, not a /discovery entry whose path 404s later.
        PluginName.Require(command.Id);
        services.AddKeyedSingleton(command.Id, (sp, _) =>
        {
            var options = new PluginServiceOptions();
            configure?.Invoke(options);
            RequireSeparatePorts(command.Id, options.Client, sp.GetRequiredService<IOptions<LoopPluginsOptions>>().Value);
            var registry = sp.GetRequiredService<ILoopRegistry>();
            return new PluginService(
                command.Id,
                LoopCommands.RegisterLoop(registry, command),
                handshake,
                options,
                sp.GetService<ILogger<PluginService>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
                sp.GetService<ILoggerFactory>(),
                registry);
        });
        services.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(sp =>
            new Loop.Services.LoopServiceHostedService<PluginService>(sp.GetRequiredKeyedService<PluginService>(command.Id)));
        services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            $"plugin:{command.Id}",
            sp => new Loop.Services.LoopServiceHealthCheck(sp.GetRequiredKeyedService<PluginService>(command.Id)),
            failureStatus: null,
            tags: ["loop", "plugin"]));
        return services;
    }

    /// <summary>
    /// Runs the plugin of kind <paramref name="kind"/> out of process when configured as upstream hosts do it:
    /// <c>CL_&lt;KIND&gt;_CMD</c> names the executable and <c>CL_&lt;KIND&gt;_ENV</c> an optional <c>.env</c> file (see
    /// <see cref="LoopCommands.FromEnvironment"/>); the plugin is then <see cref="AddLoopPlugin"/>'s keyed
    /// <see cref="PluginService"/> under the lowercase kind. When <c>CL_&lt;KIND&gt;_CMD</c> is unset,
    /// <paramref name="inProcess"/> registers the in-process implementation instead.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="kind">The plugin kind, such as <c>median</c>.</param>
    /// <param name="handshake">The cookie and versions the plugin expects.</param>
    /// <param name="inProcess">Registers the in-process implementation when the plugin is not configured.</param>
    /// <param name="environment">The variables to read; the process's own when null.</param>
    /// <param name="configure">Supervision options for the out-of-process plugin.</param>
    public static IServiceCollection AddLoopPluginFromEnvironment(
        this IServiceCollection services,
        string kind,
        HandshakeConfig handshake,
        Action<IServiceCollection>? inProcess = null,
        IReadOnlyDictionary<string, string>? environment = null,
        Action<PluginServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (LoopCommands.FromEnvironment(kind, environment ?? LoopEnvironment.ProcessVariables()) is { } command)
        {
            return services.AddLoopPlugin(command, handshake, configure);
        }

        inProcess?.Invoke(services);
        return services;
    }

    // A TCP plugin's gRPC port taken from the Prometheus pool would fail another plugin's metrics listener, or this one's
    // start, depending on which came first: refuse the overlap up front.
    private static void RequireSeparatePorts(string id, PluginClientOptions client, LoopPluginsOptions host)
    {
        if (PluginPorts.Overlap(client.MinPort, client.MaxPort, host.FirstPort, host.LastPort))
        {
            throw new OptionsValidationException(
                id,
                typeof(PluginClientOptions),
                [$"plugin {id}: Client.MinPort-MaxPort ({client.MinPort}-{client.MaxPort}) overlaps the Prometheus ports of LoopPluginsOptions.FirstPort-LastPort ({host.FirstPort}-{host.LastPort})."]);
        }
    }

    private sealed class Validator : IValidateOptions<LoopPluginsOptions>
    {
        public ValidateOptionsResult Validate(string? name, LoopPluginsOptions options) =>
            options.Validate() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
