using System.Net;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Loop.Plugins.Tests;

/// <summary>The host's own /metrics as the README shows it: OpenTelemetry's Prometheus exporter and AddLoopInstrumentation().</summary>
public sealed class InstrumentationTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;

    [Fact]
    public async Task AddLoopInstrumentation_exports_the_plugin_instruments_under_the_suite_scheme()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Services.AddLoopPlugins(o => { o.FirstPort = 26_540; o.LastPort = 26_549; });
        builder.Services.AddLoopPlugin(new CmdConfig("measured", SamplePlugin.Binary), Handshake, o => o.HealthTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddLoopInstrumentation().AddPrometheusExporter());
        await using var app = builder.Build();
        app.MapPrometheusScrapingEndpoint();
        await app.StartAsync();
        await app.Services.GetRequiredKeyedService<PluginService>("measured").WaitAsync().WaitAsync(Eventually.DefaultTimeout);

        using var http = new HttpClient();
        var metrics = "";
        await Eventually.WaitAsync(
            async () => (metrics = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics")).Contains("loop_plugins_launches", StringComparison.Ordinal),
            "the launch counter on /metrics");

        metrics.Should().Contain("loop_plugins_launches_total{otel_scope_name=\"Loop.Plugins\",outcome=\"succeeded\",plugin=\"measured\"} 1")
            .And.Contain("loop_plugins_healthy");
        await app.StopAsync();
    }
}
