using Loop.Hosting;
using Loop.Options;
using Loop.Plugins;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the LOOP plugin host services.</summary>
public static class LoopPluginsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ILoopRegistry"/> (with its port pool and tracing settings) and the metrics proxy's
    /// HttpClient; options are validated at start, every error named. Map the Prometheus endpoints with
    /// <c>app.MapLoopPluginEndpoints()</c>.
    /// </summary>
    public static ILoopPluginsBuilder AddLoopPlugins(this IServiceCollection services) => AddLoopPlugins(services, null, null);

    /// <summary><see cref="AddLoopPlugins(IServiceCollection)"/>, with <paramref name="configure"/> setting the options.</summary>
    public static ILoopPluginsBuilder AddLoopPlugins(this IServiceCollection services, Action<LoopPluginsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddLoopPlugins(services, null, configure);
    }

    /// <summary>
    /// <see cref="AddLoopPlugins(IServiceCollection)"/> with <see cref="LoopPluginsOptions"/>
    /// bound from <paramref name="section"/> (<c>builder.Configuration.GetSection("Loop:Plugins")</c>); errors name the
    /// configuration path (<c>Loop:Plugins:LastPort</c>).
    /// </summary>
    public static ILoopPluginsBuilder AddLoopPlugins(this IServiceCollection services, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddLoopPlugins(services, section, null);
    }

    private static ILoopPluginsBuilder AddLoopPlugins(IServiceCollection services, IConfigurationSection? section, Action<LoopPluginsOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ValidatedOptions.Add(services, Options.Options.DefaultName, section, BindLoopPlugins, configure, new LoopPluginsOptionsValidator(), LoopPluginsOptions.Rules);
        if (services.Any(d => d.ServiceType == typeof(LoopPluginsMarker)))
        {
            // The services are registered once; a later call only adds its configuration.
            return new LoopPluginsBuilder(services);
        }

        services.AddSingleton<LoopPluginsMarker>();
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
        return new LoopPluginsBuilder(services);
    }

    /// <summary>
    /// <see cref="AddLoopPlugin(IServiceCollection, CmdConfig, HandshakeConfig)"/> on the plugin host's builder:
    /// <c>services.AddLoopPlugins(section).AddPlugin(command, handshake)</c>.
    /// </summary>
    public static ILoopPluginsBuilder AddPlugin(this ILoopPluginsBuilder builder, CmdConfig command, HandshakeConfig handshake)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLoopPlugin(command, handshake);
        return builder;
    }

    /// <summary><see cref="AddLoopPlugin(IServiceCollection, CmdConfig, HandshakeConfig, Action{PluginServiceOptions})"/> on the plugin host's builder.</summary>
    public static ILoopPluginsBuilder AddPlugin(this ILoopPluginsBuilder builder, CmdConfig command, HandshakeConfig handshake, Action<PluginServiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLoopPlugin(command, handshake, configure);
        return builder;
    }

    /// <summary><see cref="AddLoopPlugin(IServiceCollection, string, IConfigurationSection, HandshakeConfig)"/> on the plugin host's builder.</summary>
    public static ILoopPluginsBuilder AddPlugin(this ILoopPluginsBuilder builder, string name, IConfigurationSection section, HandshakeConfig handshake)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddLoopPlugin(name, section, handshake);
        return builder;
    }

    /// <summary>
    /// Runs a plugin out of process under supervision for the host's lifetime: it is registered with the
    /// <see cref="ILoopRegistry"/> (so it appears in discovery and the metrics proxy), launched with exactly its
    /// configured environment plus the registry's and the handshake's, relaunched when it dies or stops answering, and
    /// stopped (and unregistered) with the host. The <see cref="PluginService"/> is a keyed singleton under
    /// <see cref="CmdConfig.Id"/>, its <see cref="PluginServiceOptions"/> the named options of that id, validated at start.
    /// </summary>
    public static IServiceCollection AddLoopPlugin(this IServiceCollection services, CmdConfig command, HandshakeConfig handshake) =>
        AddLoopPlugin(services, command, handshake, _ => { });

    /// <summary>
    /// <see cref="AddLoopPlugin(IServiceCollection, CmdConfig, HandshakeConfig)"/>, with <paramref name="configure"/>
    /// setting the plugin's <see cref="PluginServiceOptions"/>.
    /// </summary>
    public static IServiceCollection AddLoopPlugin(
        this IServiceCollection services, CmdConfig command, HandshakeConfig handshake, Action<PluginServiceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(handshake);

        // A bad name is an error here, at registration, not a /discovery entry whose path 404s later.
        PluginName.Require(command.Id);
        return AddSupervised(services, command.Id, null, configure, handshake, _ => command);
    }

    /// <summary>
    /// Runs the plugin <paramref name="name"/> as <see cref="AddLoopPlugin(IServiceCollection, CmdConfig, HandshakeConfig)"/>
    /// does, configured from <paramref name="section"/> (say <c>Loop:Plugins:Instances:median</c>): <c>Command</c> (the
    /// executable, required), <c>Environment</c> (variables it gets), <c>InheritHostEnvironment</c>, and the
    /// <see cref="PluginServiceOptions"/> (<c>KeepAliveInterval</c>, <c>Client:StartTimeout</c>, ...). Errors name the
    /// configuration path (<c>Loop:Plugins:Instances:median:KeepAliveInterval must be positive (was 00:00:00)</c>).
    /// </summary>
    public static IServiceCollection AddLoopPlugin(this IServiceCollection services, string name, IConfigurationSection section, HandshakeConfig handshake)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(handshake);
        PluginName.Require(name);
        return AddSupervised(services, name, section, null, handshake, _ => CommandFrom(name, section));
    }

    /// <summary>
    /// Runs the plugin of kind <paramref name="kind"/> out of process when configured as upstream hosts do it:
    /// <c>CL_&lt;KIND&gt;_CMD</c> names the executable and <c>CL_&lt;KIND&gt;_ENV</c> an optional <c>.env</c> file (see
    /// <see cref="LoopCommands.FromEnvironment"/>); the plugin is then <see cref="AddLoopPlugin(IServiceCollection, CmdConfig, HandshakeConfig)"/>'s keyed
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
            return configure is null ? services.AddLoopPlugin(command, handshake) : services.AddLoopPlugin(command, handshake, configure);
        }

        inProcess?.Invoke(services);
        return services;
    }

    private static IServiceCollection AddSupervised(
        IServiceCollection services, string name, IConfigurationSection? section, Action<PluginServiceOptions>? configure, HandshakeConfig handshake, Func<IServiceProvider, CmdConfig> command)
    {
        ValidatedOptions.Add(services, name, section, static (b, s) => b.Bind(s), configure, new PluginServiceOptionsValidator(), PluginServiceOptions.Rules);
        services.AddKeyedSingleton(name, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<PluginServiceOptions>>().Get(name);
            RequireSeparatePorts(name, options.Client, sp.GetRequiredService<IOptions<LoopPluginsOptions>>().Value);
            var registry = sp.GetRequiredService<ILoopRegistry>();
            return new PluginService(
                name,
                LoopCommands.RegisterLoop(registry, command(sp)),
                handshake,
                options,
                sp.GetService<ILogger<PluginService>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
                sp.GetService<ILoggerFactory>(),
                registry);
        });
        return services.AddLoopService($"plugin:{name}", sp => sp.GetRequiredKeyedService<PluginService>(name), "plugin");
    }

    // LoopTracingConfig is an immutable record (init-only), which the binder cannot fill in place: its section is bound to
    // a mutable copy, then swapped in whole.
    private static void BindLoopPlugins(OptionsBuilder<LoopPluginsOptions> builder, IConfigurationSection section) =>
        builder.Bind(section).Configure(options =>
        {
            var tracing = section.GetSection(nameof(LoopPluginsOptions.Tracing));
            if (!tracing.Exists())
            {
                return;
            }

            var bound = new TracingSettings();
            tracing.Bind(bound);
            options.Tracing = new LoopTracingConfig
            {
                Enabled = bound.Enabled,
                CollectorTarget = bound.CollectorTarget,
                SamplingRatio = bound.SamplingRatio,
                TlsCertPath = bound.TlsCertPath,
                Attributes = bound.Attributes,
            };
        });

    private static CmdConfig CommandFrom(string name, IConfigurationSection section)
    {
        var cmd = section["Command"];
        if (string.IsNullOrWhiteSpace(cmd))
        {
            throw new OptionsValidationException(name, typeof(PluginServiceOptions), [$"{section.Path}:Command is required: the plugin's executable"]);
        }

        var env = section.GetSection("Environment").GetChildren().Select(c => new KeyValuePair<string, string>(c.Key, c.Value ?? string.Empty)).ToList();
        var inherit = section["InheritHostEnvironment"] is { } text && (bool.TryParse(text, out var b)
            ? b
            : throw new OptionsValidationException(name, typeof(PluginServiceOptions), [$"{section.Path}:InheritHostEnvironment must be true or false (was {text})"]));
        return new CmdConfig(name, cmd, env) { InheritHostEnvironment = inherit };
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

    /// <summary>The bindable shape of <see cref="LoopTracingConfig"/>.</summary>
    internal sealed class TracingSettings
    {
        public bool Enabled { get; set; }

        public string? CollectorTarget { get; set; }

        public double SamplingRatio { get; set; }

        public string? TlsCertPath { get; set; }

        public Dictionary<string, string> Attributes { get; set; } = new(StringComparer.Ordinal);
    }

    private sealed class LoopPluginsBuilder(IServiceCollection services) : ILoopPluginsBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    /// <summary>Marks that <c>AddLoopPlugins</c> ran.</summary>
    private sealed class LoopPluginsMarker;
}
