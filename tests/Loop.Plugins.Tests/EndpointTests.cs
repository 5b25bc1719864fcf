using System.Net;
using System.Text.Json;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Tests;

/// <summary>The Prometheus endpoints on a real host, proxying to real plugin metrics servers on loopback.</summary>
public sealed class EndpointTests : IAsyncLifetime
{
    private readonly int _hostPort = FreePort.Next();
    private readonly List<WebApplication> _apps = [];
    private readonly HttpClient _http = new();
    private ILoopRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _hostPort));
        var first = 27_500 + Random.Shared.Next(0, 25) * 100; // 27500-29999
        builder.Services.AddLoopPlugins(o => { o.FirstPort = first; o.LastPort = first + 99; });
        var app = builder.Build();
        // The proxy's 1 s default bounds a hung plugin; these tests are about what is proxied, and on a loaded 2-core
        // run (plugin processes starting in parallel test classes) a cold Kestrel's first answer took longer.
        app.MapLoopPluginEndpoints(o =>
        {
            o.DiscoveryHostName = "node-1";
            o.ProxyTimeout = TimeSpan.FromSeconds(10);
        });
        await app.StartAsync();
        _apps.Add(app);
        _registry = app.Services.GetRequiredService<ILoopRegistry>();
    }

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        _http.Dispose();
    }

    private async Task ServeMetricsAsync(int port, string body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapGet("/metrics", () => Results.Text(body, "text/plain; version=0.0.4"));
        await app.StartAsync();
        _apps.Add(app);
    }

    private string Url(string path) => $"http://127.0.0.1:{_hostPort}{path}";

    [Fact]
    public async Task Discovery_lists_the_host_first_then_each_plugin_by_name()
    {
        _registry.Register("zeta");
        _registry.Register("alpha");

        using var response = await _http.GetAsync(Url("/discovery"));
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var groups = json.RootElement.EnumerateArray().ToList();

        groups.Should().HaveCount(3);
        groups.Should().AllSatisfy(g => g.GetProperty("targets").EnumerateArray().Single().GetString().Should().Be($"node-1:{_hostPort}"));
        groups.Select(g => g.GetProperty("labels").GetProperty("__metrics_path__").GetString())
            .Should().Equal("/metrics", "/plugins/alpha/metrics", "/plugins/zeta/metrics");
        groups[0].GetProperty("labels").TryGetProperty("plugin", out _).Should().BeFalse();
        groups[1].GetProperty("labels").GetProperty("plugin").GetString().Should().Be("alpha");
    }

    [Fact]
    public async Task The_proxy_returns_a_registered_plugins_metrics()
    {
        var loop = _registry.Register("median");
        await ServeMetricsAsync(loop.EnvConfig.PrometheusPort, "super_great_counter 1\n");

        using var response = await _http.GetAsync(Url("/plugins/median/metrics"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain("super_great_counter 1");
        response.Content.Headers.ContentType!.ToString().Should().Contain("version=0.0.4");
    }

    [Fact]
    public async Task An_unknown_plugin_is_404_with_the_name_escaped()
    {
        using var response = await _http.GetAsync(Url("/plugins/%3Cscript%3E/metrics"));
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("plugin \"&lt;script&gt;\" does not exist");
    }

    [Fact]
    public async Task A_plugin_that_is_down_is_502_with_a_short_reason()
    {
        _registry.Register("down");
        using var response = await _http.GetAsync(Url("/plugins/down/metrics"));
        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().Be("plugin down is unreachable");
    }

    [Fact]
    public async Task Nothing_in_the_request_can_choose_the_target()
    {
        var loop = _registry.Register("p");
        await ServeMetricsAsync(loop.EnvConfig.PrometheusPort, "ok 1\n");
        using var request = new HttpRequestMessage(HttpMethod.Get, Url("/plugins/p/metrics?host=evil.example&port=1"));
        request.Headers.Host = "evil.example:1";

        using var response = await _http.SendAsync(request);

        (await response.Content.ReadAsStringAsync()).Should().Be("ok 1\n");
        using var traversal = await _http.GetAsync(Url("/plugins/..%2F..%2Fadmin/metrics"));
        traversal.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
