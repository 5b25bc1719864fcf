using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Loop.Plugins.Sdk;

/// <summary>What either plugin server is built from, once the handshake side is settled: the listener, the logging, the protocol services.</summary>
internal sealed class PluginServerSetup(
    LoopPluginServerOptions options,
    IReadOnlyDictionary<string, string> environment,
    TextWriter stderr,
    PluginListener listener,
    StdioForwarder stdio,
    PluginBroker broker,
    int? metricsPort,
    LoopEnvConfig? loopEnvironment,
    int hostPid,
    PeerTls? tls)
{
    /// <summary>AutoMTLS, when the host asked for it.</summary>
    public PeerTls? Tls { get; } = tls;

    public LoopPluginServerOptions Options { get; } = options;

    public PluginListener Listener { get; } = listener;

    public int? MetricsPort { get; } = metricsPort;

    public LoopEnvConfig? LoopEnvironment { get; } = loopEnvironment;

    public int HostPid { get; } = hostPid;

    /// <summary>hclog JSON on stderr, at the level the host asked for this plugin; the frameworks' own chatter at Warning.</summary>
    public void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.AddProvider(new HclogLoggerProvider(stderr));
        logging.SetMinimumLevel(PluginLogLevel.Parse(environment.GetValueOrDefault(PluginLogLevel.Variable)));
        logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
    }

    /// <summary>
    /// The plugin's telemetry: the meters on <c>/metrics</c> when the host gave a Prometheus port, and tracing from
    /// <c>CL_TRACING_*</c> (the plugin's activity sources and the SDK's server spans).
    /// </summary>
    public void AddTelemetry(IServiceCollection services)
    {
        if (MetricsPort is not null)
        {
            services.AddOpenTelemetry().WithMetrics(m => m.AddMeter([.. Options.Meters]).AddPrometheusExporter());
        }

        if (LoopEnvironment is not null)
        {
            PluginTracing.Add(services, LoopEnvironment.Tracing, [.. Options.ActivitySources, Grpc.GrpcServerApplication.ActivitySourceName]);
        }
    }

    /// <summary>
    /// Builds the meter and tracer providers on another core, while the caller binds the services (each takes ~2 ms of
    /// a Native AOT plugin's start, and the host is already waiting).
    /// </summary>
    public static Task BuildTelemetryAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                _ = services.GetService<MeterProvider>();
                _ = services.GetService<TracerProvider>();
            },
            cancellationToken);

    /// <summary>go-plugin's protocol services (health, controller, broker, stdio) and what they need.</summary>
    public void AddProtocolServices(IServiceCollection services)
    {
        var health = new HealthServiceImpl();
        health.SetStatus(string.Empty, HealthCheckResponse.Types.ServingStatus.Serving);
        health.SetStatus("plugin", HealthCheckResponse.Types.ServingStatus.Serving);
        services.AddSingleton(health);
        services.AddSingleton(stdio);
        services.AddSingleton(broker);
        services.AddSingleton<ControllerService>().AddSingleton<BrokerService>().AddSingleton<StdioService>();
    }
}
