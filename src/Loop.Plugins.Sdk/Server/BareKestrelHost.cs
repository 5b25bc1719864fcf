using System.Runtime.InteropServices;
using Loop.Plugins.Sdk.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Sdk;

/// <summary>
/// Serves a plugin on Kestrel alone: a service provider with the plugin's services, Kestrel on the pre-bound socket, and
/// the SDK's own gRPC dispatch (<see cref="GrpcServerApplication"/>). No ASP.NET Core host, routing or Grpc.AspNetCore
/// endpoints: building those was most of a Native AOT plugin's start (a bare Kestrel answered a health check 2.0× the Go
/// plugin's time, the plugin on the full host 5.8×; docs/benchmarks.md). Used unless the plugin maps ASP.NET Core
/// endpoints. AutoMTLS is done per connection (<see cref="PluginTlsConnections"/>).
/// </summary>
internal static class BareKestrelHost
{
    /// <summary>How long a stop waits for calls in flight before it aborts them (the ASP.NET Core host's default).</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    public static bool CanServe(LoopPluginServerOptions options) =>
        options.MapServices is null && PluginListener.CanHandOver;

    public static async Task<int> RunAsync(PluginServerSetup setup, CancellationToken cancellationToken)
    {
        var options = setup.Options;
        using var lifetime = new PluginLifetime();
        var services = new ServiceCollection();
        services.AddLogging(setup.ConfigureLogging);
        services.AddSingleton<IHostApplicationLifetime>(lifetime);
        setup.AddProtocolServices(services);
        setup.AddTelemetry(services);

        options.ConfigureServices?.Invoke(services);
        await using var provider = services.BuildServiceProvider();

        var telemetry = PluginServerSetup.BuildTelemetryAsync(provider, cancellationToken);
        var methods = new GrpcMethodTable();
        ProtocolMethods.Add(methods, provider);
        foreach (var bind in options.Services)
        {
            bind(methods, provider);
        }

        var loggerFactory = provider.GetRequiredService<ILoggerFactory>();
        var logger = loggerFactory.CreateLogger("Loop.Plugins.Sdk");
        var kestrelOptions = new KestrelServerOptions { ApplicationServices = provider };
        PluginKestrel.Listen(kestrelOptions, setup.Listener, setup.Tls, setup.MetricsPort);
        var application = new GrpcServerApplication(
            methods,
            TimeProvider.System,
            logger,
            setup.MetricsPort,
            setup.MetricsPort is null ? null : () => new ApplicationBuilder(provider).UseOpenTelemetryPrometheusScrapingEndpoint("/metrics").Build());

        await telemetry.ConfigureAwait(false);
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        using var server = new KestrelServer(
            Microsoft.Extensions.Options.Options.Create(kestrelOptions),
            new SocketTransportFactory(Microsoft.Extensions.Options.Options.Create(new SocketTransportOptions()), loggerFactory),
            loggerFactory);
        await server.StartAsync(application, cancellationToken).ConfigureAwait(false);
        lifetime.NotifyStarted();

        // As the ASP.NET Core host's console lifetime does: these signals stop the plugin gracefully.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Stop);
        using (HostWatch.Start(setup.HostPid, options.HostCheckInterval, lifetime, logger))
        using (cancellationToken.Register(lifetime.StopApplication))
        {
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        using (var drain = new CancellationTokenSource(ShutdownTimeout))
        {
            await server.StopAsync(drain.Token).ConfigureAwait(false);
            for (var i = hosted.Count - 1; i >= 0; i--)
            {
                await hosted[i].StopAsync(drain.Token).ConfigureAwait(false);
            }
        }

        lifetime.NotifyStopped();
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            lifetime.StopApplication();
        }
    }
}
