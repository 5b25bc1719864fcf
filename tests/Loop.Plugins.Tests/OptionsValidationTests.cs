using Loop.Sample.V1;
using Loop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Loop.Plugins.Tests;

/// <summary>Every plugin options type bound from configuration or set in code: bad values fail the start, all named by where they were set.</summary>
public sealed class OptionsValidationTests
{
    private static readonly HandshakeConfig Handshake = SamplePlugin.Handshake;
    private static readonly string Plugin = SamplePlugin.Binary;

    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    private static async Task<string> StartFailureAsync(HostApplicationBuilder builder)
    {
        using var host = builder.Build();
        var error = (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        return string.Join("\n", error.Failures);
    }

    [Fact]
    public async Task A_plugin_section_with_bad_values_fails_the_start_naming_every_configuration_path()
    {
        var builder = Builder(new()
        {
            ["Loop:Plugins:FirstPort"] = "26500",
            ["Loop:Plugins:LastPort"] = "26509",
            ["Loop:Plugins:Instances:bad:Command"] = Plugin,
            ["Loop:Plugins:Instances:bad:KeepAliveInterval"] = "00:00:00",
            ["Loop:Plugins:Instances:bad:HealthTimeout"] = "-00:00:01",
            ["Loop:Plugins:Instances:bad:RelaunchBackoff"] = "00:00:00",
            ["Loop:Plugins:Instances:bad:UnhealthyThreshold"] = "0",
            ["Loop:Plugins:Instances:bad:Client:StartTimeout"] = "00:00:00",
            ["Loop:Plugins:Instances:bad:Client:MinPort"] = "80",
        });
        builder.Services.AddLoopPlugins(builder.Configuration.GetSection("Loop:Plugins"));
        builder.Services.AddLoopPlugin("bad", builder.Configuration.GetSection("Loop:Plugins:Instances:bad"), Handshake);

        var failures = await StartFailureAsync(builder);

        failures.Should().Contain("Loop:Plugins:Instances:bad:KeepAliveInterval must be positive (was 00:00:00)")
            .And.Contain("Loop:Plugins:Instances:bad:HealthTimeout must be positive (was -00:00:01)")
            .And.Contain("Loop:Plugins:Instances:bad:RelaunchBackoff must be positive (was 00:00:00)")
            .And.Contain("Loop:Plugins:Instances:bad:UnhealthyThreshold must be positive (was 0)")
            .And.Contain("Loop:Plugins:Instances:bad:Client:StartTimeout must be positive (was 00:00:00)")
            .And.Contain("Loop:Plugins:Instances:bad:Client:MinPort must be 1024 to 65535 (was 80)");
    }

    [Fact]
    public async Task Options_set_in_code_are_named_by_type_and_plugin()
    {
        var builder = Builder([]);
        builder.Services.AddLoopPlugins(o => { o.FirstPort = 26_510; o.LastPort = 26_519; });
        builder.Services.AddLoopPlugin(new CmdConfig("coded", Plugin), Handshake, o =>
        {
            o.RelaunchBackoff = TimeSpan.FromSeconds(10);
            o.Client.MaxPort = 9_000;
        });

        var failures = await StartFailureAsync(builder);

        failures.Should().Contain("PluginServiceOptions[coded].RelaunchBackoff must not be above MaxRelaunchBackoff (00:00:05) (was 00:00:10)")
            .And.Contain("PluginServiceOptions[coded].Client.MaxPort must not be below MinPort (10000) (was 9000)");
    }

    [Fact]
    public async Task Registry_options_report_every_error_at_once_and_binding_leaves_the_tracing_default_alone()
    {
        var builder = Builder(new()
        {
            ["Loop:Plugins:FirstPort"] = "80",
            ["Loop:Plugins:LastPort"] = "70000",
            ["Loop:Plugins:Tracing:Enabled"] = "true",
            ["Loop:Plugins:Tracing:SamplingRatio"] = "2",
        });
        builder.Services.AddLoopPlugins(builder.Configuration.GetSection("Loop:Plugins"));

        var failures = await StartFailureAsync(builder);

        failures.Should().Contain("Loop:Plugins:FirstPort must be 1024 to 65535 (was 80)")
            .And.Contain("Loop:Plugins:LastPort must be 1024 to 65535 (was 70000)")
            .And.Contain("Loop:Plugins:Tracing:SamplingRatio");
        LoopTracingConfig.Disabled.Enabled.Should().BeFalse("binding one options object must not turn tracing on for others");
        new LoopPluginsOptions().Tracing.Enabled.Should().BeFalse();
    }

    [Fact]
    public async Task Binding_twice_gives_two_independent_tracing_settings()
    {
        var first = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["P:Tracing:Enabled"] = "true", ["P:Tracing:SamplingRatio"] = "0.5" }).Build();
        var second = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["P:FirstPort"] = "26000" }).Build();
        using var one = new ServiceCollection().AddLoopPlugins(first.GetSection("P")).Services.BuildServiceProvider();
        using var two = new ServiceCollection().AddLoopPlugins(second.GetSection("P")).Services.BuildServiceProvider();

        one.GetRequiredService<IOptions<LoopPluginsOptions>>().Value.Tracing.Enabled.Should().BeTrue();
        two.GetRequiredService<IOptions<LoopPluginsOptions>>().Value.Tracing.Enabled.Should().BeFalse();
        two.GetRequiredService<IOptions<LoopPluginsOptions>>().Value.FirstPort.Should().Be(26_000);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_plugin_section_without_a_command_names_it()
    {
        var builder = Builder(new() { ["Loop:Plugins:Instances:nocmd:KeepAliveInterval"] = "00:00:05" });
        builder.Services.AddLoopPlugins(o => { o.FirstPort = 26_520; o.LastPort = 26_529; });
        builder.Services.AddLoopPlugin("nocmd", builder.Configuration.GetSection("Loop:Plugins:Instances:nocmd"), Handshake);

        (await StartFailureAsync(builder)).Should().Contain("Loop:Plugins:Instances:nocmd:Command is required");
    }

    [Fact]
    public async Task A_plugin_configured_from_a_section_runs_with_its_environment()
    {
        var builder = Builder(new()
        {
            ["Loop:Plugins:Instances:configured:Command"] = Plugin,
            ["Loop:Plugins:Instances:configured:Environment:LOOP_TEST_VALUE"] = "from-config",
            ["Loop:Plugins:Instances:configured:HealthTimeout"] = "00:00:10",
        });
        builder.Services.AddLoopPlugins(o => { o.FirstPort = 26_530; o.LastPort = 26_539; })
            .AddPlugin("configured", builder.Configuration.GetSection("Loop:Plugins:Instances:configured"), Handshake);
        using var host = builder.Build();

        await host.StartAsync();
        var service = host.Services.GetRequiredKeyedService<PluginService>("configured");
        var client = await service.WaitAsync().WaitAsync(Eventually.DefaultTimeout);
        (await new Echo.EchoClient(client.Channel).SayAsync(new EchoRequest { Text = "bound" })).Text.Should().Be("bound");
        var environ = await File.ReadAllTextAsync($"/proc/{client.ProcessId}/environ");
        environ.Split('\0').Should().Contain("LOOP_TEST_VALUE=from-config");
        host.Services.GetRequiredService<IOptionsMonitor<PluginServiceOptions>>().Get("configured").HealthTimeout.Should().Be(TimeSpan.FromSeconds(10));
        await host.StopAsync();
    }

    [Fact]
    public void Endpoint_options_out_of_range_are_refused_when_mapped()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddLoopPlugins();
        using var app = builder.Build();

        var map = () => app.MapLoopPluginEndpoints(o => { o.ProxyTimeout = TimeSpan.Zero; o.DiscoveryPort = 0; });

        var failures = string.Join("\n", map.Should().Throw<OptionsValidationException>().Which.Failures);
        failures.Should().Contain("PluginEndpointOptions.ProxyTimeout must be positive (was 00:00:00)").And.Contain("PluginEndpointOptions.DiscoveryPort must be 1 to 65535 (was 0)");
    }

    [Fact]
    public async Task Registering_twice_reports_each_error_once_by_the_bound_path()
    {
        var builder = Builder(new() { ["Loop:Plugins:LastPort"] = "80" });
        builder.Services.AddLoopPlugins();
        builder.Services.AddLoopPlugins(builder.Configuration.GetSection("Loop:Plugins"));

        var failures = (await StartFailureAsync(builder)).Split('\n');

        failures.Where(f => f.Contains("LastPort must be 1024 to 65535", StringComparison.Ordinal))
            .Should().Equal(["Loop:Plugins:LastPort must be 1024 to 65535 (was 80)"], "one error, named once, by the path it was bound from");
    }
}
