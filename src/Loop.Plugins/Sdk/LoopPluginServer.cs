using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Loop.Plugins;

/// <summary>
/// Makes a .NET program a go-plugin compatible LOOP plugin: checks the magic cookie (printing go-plugin's message and
/// exiting 1 on a mismatch), negotiates the app protocol version, serves gRPC on a Unix socket (health, broker,
/// controller, stdio and the plugin's own services), prints the handshake line first and alone on stdout once it
/// listens, secures the socket with go-plugin's AutoMTLS when the host asks (<c>PLUGIN_CLIENT_CERT</c>), serves <c>/metrics</c> on <c>CL_PROMETHEUS_PORT</c> on 127.0.0.1, and logs hclog JSON to stderr.
/// </summary>
public static class LoopPluginServer
{
    /// <summary>Runs the plugin until the host shuts it down (or <paramref name="cancellationToken"/>); returns the exit code.</summary>
    public static async Task<int> RunAsync(LoopPluginServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
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
        var socket = SocketPath(env);
        var loopEnv = env.ContainsKey(LoopEnvironment.PrometheusPort) ? LoopEnvironment.Parse(env) : null;
        int? metricsPort = loopEnv?.PrometheusPort;

        // AutoMTLS when the host sent its certificate: ours goes back in the handshake, and only the host's is accepted.
        X509Certificate2? serverCertificate = null;
        byte[]? hostCertificate = null;
        if (env.GetValueOrDefault(AutoMtls.ClientCertVariable) is { Length: > 0 } hostPem)
        {
            using var host = X509Certificate2.CreateFromPem(hostPem);
            hostCertificate = host.RawData;
            serverCertificate = AutoMtls.CreateCertificate();
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new HclogLoggerProvider(stderr));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(socket, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                if (serverCertificate is not null)
                {
                    l.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = serverCertificate,
                        ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                        ClientCertificateValidation = (certificate, _, _) => AutoMtls.IsPinned(certificate, hostCertificate!),
                        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    });
                }
            });
            if (metricsPort is { } port)
            {
                kestrel.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1);
            }
        });
        builder.Services.AddGrpc();
        var health = new HealthServiceImpl();
        health.SetStatus(string.Empty, HealthCheckResponse.Types.ServingStatus.Serving);
        health.SetStatus("plugin", HealthCheckResponse.Types.ServingStatus.Serving);
        builder.Services.AddSingleton(health);
        var stdio = new StdioForwarder();
        builder.Services.AddSingleton(stdio);
        await using var broker = new PluginBroker();
        builder.Services.AddSingleton(broker);
        if (metricsPort is not null)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter([.. options.Meters]).AddPrometheusExporter());
        }

        if (loopEnv is not null)
        {
            PluginTracing.Add(builder.Services, loopEnv.Tracing, options.ActivitySources);
        }

        options.ConfigureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcService<ControllerService>();
        app.MapGrpcService<BrokerService>();
        app.MapGrpcService<StdioService>();
        options.MapServices?.Invoke(app);
        if (metricsPort is { } p)
        {
            app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{p.ToString(CultureInfo.InvariantCulture)}");
        }

        // The host connects as soon as it reads the line, so it is printed only once the socket listens.
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            stdout.WriteLine(new HandshakeLine(version, "unix", socket, "grpc", serverCertificate?.RawData).ToString());
            stdout.Flush();

            // From here on the console belongs to the host's GRPCStdio stream (the handshake line was the last raw write).
            if (options.Stdout is null)
            {
                Console.SetOut(stdio.Writer(Protocol.StdioData.Types.Channel.Stdout));
            }
        });

        try
        {
            await app.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(socket);
        }

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

    private static string SocketPath(IReadOnlyDictionary<string, string> env) =>
        PluginChannels.NewSocketPath(
            env.GetValueOrDefault("PLUGIN_UNIX_SOCKET_DIR") is { Length: > 0 } d ? d
            : env.GetValueOrDefault("TMPDIR") is { Length: > 0 } t ? t
            : null);
}
