using Loop.Sample.V1;
using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Loop.Plugins.Tests;

public sealed class AddLoopPluginTests
{
    private static readonly HandshakeConfig Handshake = new("LOOP_SAMPLE_PLUGIN", "a3d5e9c1-loop-sample", [1]);

    [Fact]
    public async Task A_host_runs_a_registered_supervised_plugin_and_stops_it_with_itself()
    {
        var builder = Host.CreateApplicationBuilder();
        var first = 32_700 + Random.Shared.Next(0, 6) * 10; // 32700-32759
        builder.Services.AddLoopPlugins(o => { o.FirstPort = first; o.LastPort = first + 9; });
        builder.Services.AddLoopPlugin(new CmdConfig("sample", BuiltProgram.Path("samples/Loop.SamplePlugin", "Loop.SamplePlugin")), Handshake);
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
    public async Task Bad_options_fail_the_start_naming_the_setting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddLoopPlugins(o => o.LastPort = 80);
        using var host = builder.Build();
        (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("LoopPluginsOptions.LastPort");
    }
}
