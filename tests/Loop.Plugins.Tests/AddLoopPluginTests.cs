using Loop.Sample.V1;
using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Loop.Plugins.Tests;

public sealed class AddLoopPluginTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;
    private static readonly string Plugin = SamplePlugin.Binary;

    /// <summary>A host builder with AddLoopPlugins on this class's port band, 32700-32759.</summary>
    private static HostApplicationBuilder Builder()
    {
        var builder = Host.CreateApplicationBuilder();
        var first = 32_700 + Random.Shared.Next(0, 6) * 10;
        builder.Services.AddLoopPlugins(o => { o.FirstPort = first; o.LastPort = first + 9; });
        return builder;
    }

    [Fact]
    public async Task A_host_runs_a_registered_supervised_plugin_and_stops_it_with_itself()
    {
        var builder = Builder();
        builder.Services.AddLoopPlugin(new CmdConfig("sample", Plugin), Handshake);
        using var host = builder.Build();

        await host.StartAsync();
        var service = host.Services.GetRequiredKeyedService<PluginService>("sample");
        var client = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "via DI" })).Text.Should().Be("via DI");
        host.Services.GetRequiredService<ILoopRegistry>().List().Select(l => l.Name).Should().Equal("sample");
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        health.Entries["plugin:sample"].Status.Should().Be(HealthStatus.Healthy);

        await host.StopAsync();
        Directory.Exists($"/proc/{client.ProcessId}").Should().BeFalse();
    }

    [Fact]
    public async Task A_kind_configured_by_CL_KIND_CMD_runs_out_of_process()
    {
        var builder = Builder();
        var env = new Dictionary<string, string> { ["CL_ECHO_CMD"] = Plugin };
        var inProcess = false;
        builder.Services.AddLoopPluginFromEnvironment("Echo", Handshake, _ => inProcess = true, env);
        using var host = builder.Build();

        await host.StartAsync();
        var client = await host.Services.GetRequiredKeyedService<PluginService>("echo").WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "configured" })).Text.Should().Be("configured");
        inProcess.Should().BeFalse();
        await host.StopAsync();
    }

    [Fact]
    public void An_unconfigured_kind_registers_its_in_process_implementation_instead()
    {
        var services = new ServiceCollection().AddLoopPlugins().Services;
        services.AddLoopPluginFromEnvironment("echo", Handshake, s => s.AddSingleton<IGreeter, InProcessGreeter>(), new Dictionary<string, string>());
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IGreeter>().Should().BeOfType<InProcessGreeter>();
        provider.GetKeyedService<PluginService>("echo").Should().BeNull();
    }

    [Fact]
    public async Task A_plugin_stopped_for_good_leaves_the_registry_and_returns_its_port()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var builder = Builder();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddLoopPlugin(new CmdConfig("leaving", Plugin), Handshake);
        using var host = builder.Build();
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<ILoopRegistry>();
        var service = host.Services.GetRequiredKeyedService<PluginService>("leaving");
        await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        var port = registry.List().Single().EnvConfig.PrometheusPort;
        var pool = host.Services.GetRequiredService<PortPool>();

        await service.StopAsync();

        registry.TryGet("leaving", out _).Should().BeFalse("a stopped plugin is not discovered");
        registry.List().Should().BeEmpty();
        registry.Register("leaving").EnvConfig.PrometheusPort.Should().NotBe(port, "the name is free again, the port resting");
        var others = Enumerable.Range(0, pool.LastPort - pool.FirstPort - 1).Select(_ => pool.Take()).ToList();
        others.Should().NotContain(port, "the returned port rests in quarantine first");
        time.Advance(pool.Quarantine);
        pool.Take().Should().Be(port, "once rested, the returned port is handed out again");
        await host.StopAsync();
    }

    [Fact]
    public void The_default_grpc_and_Prometheus_port_ranges_do_not_overlap()
    {
        var client = new PluginClientOptions();
        var host = new LoopPluginsOptions();
        PluginPorts.Overlap(client.MinPort, client.MaxPort, host.FirstPort, host.LastPort).Should().BeFalse();
        var pool = new PortPool();
        PluginPorts.Overlap(client.MinPort, client.MaxPort, pool.FirstPort, pool.LastPort).Should().BeFalse();
        (client.MinPort, client.MaxPort).Should().Be((10_000, 25_000), "go-plugin's PLUGIN_MIN_PORT and PLUGIN_MAX_PORT defaults");
        pool.LastPort.Should().BeLessThan(32_768, "below Linux's ephemeral ports");
    }

    [Fact]
    public async Task A_plugin_grpc_range_overlapping_the_Prometheus_pool_fails_the_start_naming_both()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddLoopPlugins(o => { o.FirstPort = 20_000; o.LastPort = 20_099; });
        builder.Services.AddLoopPlugin(new CmdConfig("clash", Plugin), Handshake);
        using var host = builder.Build();
        var error = (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Message.Should().Contain("plugin clash").And.Contain("10000-25000").And.Contain("20000-20099");
    }

    [Fact]
    public async Task Bad_options_fail_the_start_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddLoopPlugins(o => o.LastPort = 80);
        using var host = builder.Build();
        (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("LoopPluginsOptions.LastPort");
    }

    private interface IGreeter;

    private sealed class InProcessGreeter : IGreeter;
}
