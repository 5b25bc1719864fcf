using System.Globalization;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Sdk;

/// <summary>
/// Serves a plugin on the ASP.NET Core host (<c>WebApplication</c>) with Grpc.AspNetCore: for plugins that map ASP.NET
/// Core endpoints (<see cref="LoopPluginServerOptions.MapServices"/>). Others run on
/// <see cref="BareKestrelHost"/>, which starts in about half the time under Native AOT.
/// </summary>
internal static class AspNetCoreHost
{
    /// <param name="setup">What the server is built from.</param>
    /// <param name="handshake">Prints the handshake line once the server listens; null when it was printed already.</param>
    /// <param name="cancellationToken">Stops the plugin.</param>
    public static async Task<int> RunAsync(PluginServerSetup setup, Action? handshake, CancellationToken cancellationToken)
    {
        var options = setup.Options;
        // The empty builder: no configuration files, environment sources or default logging to set up (the slim
        // builder's defaults took ~10 ms of a Native AOT plugin's start).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        setup.ConfigureLogging(builder.Logging);
        builder.WebHost.ConfigureKestrel(kestrel => PluginKestrel.Listen(kestrel, setup.Listener, setup.Tls, setup.MetricsPort));
        builder.Services.AddGrpc();
        setup.AddProtocolServices(builder.Services);
        builder.Services.AddSingleton<BoundServices>();
        builder.Services.AddSingleton<IServiceMethodProvider<BoundServices>>(services => new BoundServicesMethodProvider(services, options.Services));
        setup.AddTelemetry(builder.Services);

        options.ConfigureServices?.Invoke(builder.Services);
        await using var app = builder.Build();

        var telemetry = PluginServerSetup.BuildTelemetryAsync(app.Services, cancellationToken);
        app.MapGrpcService<BoundServices>();
        options.MapServices?.Invoke(app);
        if (setup.MetricsPort is { } p)
        {
            app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{p.ToString(CultureInfo.InvariantCulture)}");
        }

        if (handshake is not null)
        {
            app.Lifetime.ApplicationStarted.Register(handshake);
        }

        await telemetry.ConfigureAwait(false);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        using var hostWatch = HostWatch.Start(
            setup.HostPid,
            options.HostCheckInterval, app.Lifetime, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Loop.Plugins.Sdk"));
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
