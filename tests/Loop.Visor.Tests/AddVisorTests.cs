using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Loop.Visor.Tests;

public sealed class AddVisorTests : IDisposable
{
    private readonly TempHome _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_host_runs_visor_and_its_stop_stops_the_children()
    {
        var pidFile = Path.Combine(_temp.Parent, "pid");
        _temp.Version("genesis", $"echo $$ > {pidFile}\nexec sleep 600");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddVisor(o => o.Home = _temp.Root);
        using var host = builder.Build();

        await host.StartAsync();
        await Eventually.WaitAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, "the child to start");
        var child = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await host.StopAsync();

        Directory.Exists($"/proc/{child}").Should().BeFalse();
    }

    [Fact]
    public async Task A_missing_home_or_bad_config_fails_the_start_with_the_reason()
    {
        var missing = Host.CreateApplicationBuilder();
        missing.Services.AddVisor(o => o.Home = Path.Combine(_temp.Parent, "nowhere"));
        using var missingHost = missing.Build();
        (await missingHost.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("loop-visor init");

        File.WriteAllText(_temp.Home.ConfigPath, "stopDelaySeconds = true\n");
        var bad = Host.CreateApplicationBuilder();
        bad.Services.AddVisor(o => o.Home = _temp.Root);
        using var badHost = bad.Build();
        (await badHost.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain(":1: stopDelaySeconds: expected an integer");
    }
}
