using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Grpc.Health.V1;
using Grpc.AspNetCore.Server.Model;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Loop.Plugins.Sdk;

/// <summary>
/// Makes a .NET program a go-plugin compatible LOOP plugin: checks the magic cookie (printing go-plugin's message and
/// exiting 1 on a mismatch), negotiates the app protocol version, serves gRPC on a Unix socket (health, broker,
/// controller, stdio and the plugin's own services; loopback TCP on Windows or when asked), prints the handshake line
/// first and alone on stdout once it listens, secures the socket with go-plugin's AutoMTLS when the host asks (<c>PLUGIN_CLIENT_CERT</c>), serves <c>/metrics</c> on <c>CL_PROMETHEUS_PORT</c> on 127.0.0.1, and logs hclog JSON to stderr.
/// </summary>
public static class LoopPluginServer
{
    /// <summary>Runs the plugin until the host shuts it down (or <paramref name="cancellationToken"/>); returns the exit code.</summary>
    public static async Task<int> RunAsync(LoopPluginServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hostPid = HostWatch.Host();
        var env = options.Environment ?? LoopEnvironment.ProcessVariables();
        var stdout = options.Stdout ?? Console.Out;
        var stderr = options.Stderr ?? Console.Error;
        var handshake = options.Handshake;

        if (!env.TryGetValue(handshake.MagicCookieKey, out var cookie) || cookie != handshake.MagicCookieValue)
        {
            await stderr.WriteLineAsync(HandshakeConfig.NotAPluginMessage).ConfigureAwait(false);
            return 1;
        }

        var version = Negotiate(handshake.ProtocolVersions, env.GetValueOrDefault(HandshakeConfig.ProtocolVersionsVariable));
        var loopEnv = env.ContainsKey(LoopEnvironment.PrometheusPort) ? LoopEnvironment.Parse(env) : null;
        int? metricsPort = loopEnv?.PrometheusPort;

        // AutoMTLS when the host sent its certificate: ours goes back in the handshake, and only the host's is accepted.
        PeerTls? tls = null;
        if (env.GetValueOrDefault(AutoMtls.ClientCertVariable) is { Length: > 0 } hostPem)
        {
            using var host = X509Certificate2.CreateFromPem(hostPem);
            tls = new PeerTls(AutoMtls.CreateCertificate(), host.RawData);
        }

        // Bound before the server is built, so that (where the server can adopt the socket) the handshake line goes out
        // now: the host connects and waits in the backlog while the server starts.
        using var listener = PluginListener.Open(options.Network, env, metricsPort);
        var stdio = new StdioForwarder();
        void Handshake()
        {
            stdout.WriteLine(new HandshakeLine(version, listener.Network, listener.Address, "grpc", tls?.Own.RawData).ToString());
            stdout.Flush();
            if (options.Stdout is null)
            {
                // From here on the console belongs to the host's GRPCStdio stream (the handshake line was the last raw write).
                Console.SetOut(stdio.Writer(Protocol.StdioData.Types.Channel.Stdout));
            }
        }

        if (PluginListener.CanHandOver)
        {
            Handshake();
        }

        // The empty builder: no configuration files, environment sources or default logging to set up (the slim
        // builder's defaults took ~10 ms of a Native AOT plugin's start).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Logging.AddProvider(new HclogLoggerProvider(stderr));

        // The host says how much it shows of this plugin; lines below that are not even written.
        builder.Logging.SetMinimumLevel(PluginLogLevel.Parse(env.GetValueOrDefault(PluginLogLevel.Variable)));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => PluginKestrel.Listen(kestrel, listener, tls, metricsPort));
        builder.Services.AddGrpc();
        var health = new HealthServiceImpl();
        health.SetStatus(string.Empty, HealthCheckResponse.Types.ServingStatus.Serving);
        health.SetStatus("plugin", HealthCheckResponse.Types.ServingStatus.Serving);
        builder.Services.AddSingleton(health);
        builder.Services.AddSingleton(stdio);
        await using var broker = new PluginBroker(tls);
        builder.Services.AddSingleton(broker);
        builder.Services.AddSingleton<BoundServices>();
        builder.Services.AddSingleton<ControllerService>().AddSingleton<BrokerService>().AddSingleton<StdioService>();
        builder.Services.AddSingleton<IServiceMethodProvider<BoundServices>>(services => new BoundServicesMethodProvider(services, options.Services));
        if (metricsPort is not null)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter([.. options.Meters]).AddPrometheusExporter());
        }

        if (loopEnv is not null)
        {
            PluginTracing.Add(builder.Services, loopEnv.Tracing, options.ActivitySources);
        }

        options.ConfigureServices?.Invoke(builder.Services);
        await using var app = builder.Build();

        // The telemetry providers are built on another core while the endpoints are mapped (each takes ~2 ms of a
        // Native AOT plugin's start, and the host is already waiting).
        var telemetry = Task.Run(
            () =>
            {
                _ = app.Services.GetService<MeterProvider>();
                _ = app.Services.GetService<TracerProvider>();
            },
            cancellationToken);
        app.MapGrpcService<BoundServices>();
        options.MapServices?.Invoke(app);
        if (metricsPort is { } p)
        {
            app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{p.ToString(CultureInfo.InvariantCulture)}");
        }

        if (!PluginListener.CanHandOver)
        {
            app.Lifetime.ApplicationStarted.Register(Handshake);
        }

        await telemetry.ConfigureAwait(false);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        using var hostWatch = HostWatch.Start(
            hostPid,
            options.HostCheckInterval, app.Lifetime, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Loop.Plugins.Sdk"));
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The highest version both sides speak; with none in common the plugin's lowest, which the host then rejects.</summary>
    public static int Negotiate(IReadOnlyList<int> plugin, string? hostVersions)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        var host = (hostVersions ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)
            .ToHashSet();
        var common = plugin.Where(host.Contains).ToList();
        return common.Count > 0 ? common.Max() : plugin.Min();
    }
}
