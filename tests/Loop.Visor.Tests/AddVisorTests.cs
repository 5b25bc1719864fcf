using Loop.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
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

    [Fact]
    public async Task Options_bound_from_a_section_report_every_error_with_its_configuration_path()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Loop:Visor:StopHostWhenVisorExits"] = "false",
            ["Loop:Visor:Service:PollInterval"] = "00:00:00",
            ["Loop:Visor:Service:DownloadTimeout"] = "-00:00:01",
        });
        builder.Services.AddVisor(builder.Configuration.GetSection("Loop:Visor"));
        using var host = builder.Build();

        var failures = string.Join("\n", (await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which.Failures);

        failures.Should().Contain("Loop:Visor:Home is required")
            .And.Contain("Loop:Visor:Service:PollInterval must be positive (was 00:00:00)")
            .And.Contain("Loop:Visor:Service:DownloadTimeout must be positive (was -00:00:01)");
    }

    [Fact]
    public async Task A_section_with_a_home_runs_visor_and_its_health_check_names_the_running_version()
    {
        var pidFile = Path.Combine(_temp.Parent, "pid");
        _temp.Version("genesis", $"echo $$ > {pidFile}\nexec sleep 600");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Loop:Visor:Home"] = _temp.Root, ["Loop:Visor:Service:PollInterval"] = "00:00:01" });
        builder.Services.AddVisor(builder.Configuration.GetSection("Loop:Visor"));
        using var host = builder.Build();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        await host.StartAsync();
        await Eventually.WaitAsync(async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy, "visor healthy");
        var entry = (await health.CheckHealthAsync()).Entries["visor"];
        entry.Description.Should().StartWith("running genesis");
        entry.Data["processes"].Should().BeOfType<string>().Which.Should().Contain("vega");

        // A rolled-back upgrade needs an operator: Degraded, saying which and why.
        VisorStateFile.Update(_temp.Home, s => s with { LastRollback = new RollbackRecord("v2.0.0", "genesis", TimeProvider.System.GetUtcNow(), "exited with code 1 at start") });
        var degraded = (await health.CheckHealthAsync()).Entries["visor"];
        degraded.Status.Should().Be(HealthStatus.Degraded);
        degraded.Description.Should().Contain("the upgrade to v2.0.0 was rolled back: exited with code 1 at start");

        await host.StopAsync();
    }

    [Fact]
    public async Task An_upgrade_source_added_on_the_builder_is_polled()
    {
        _temp.Version("genesis", "exec sleep 600");
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<CountingSource>();
        builder.Services.AddVisor(o => o.Home = _temp.Root).AddUpgradeSource(sp => sp.GetRequiredService<CountingSource>());
        using var host = builder.Build();

        await host.StartAsync();
        var source = host.Services.GetRequiredService<CountingSource>();
        await Eventually.WaitAsync(() => source.Polls > 0, "the added source polled");
        await host.StopAsync();
    }

    private sealed class CountingSource : IUpgradeSource
    {
        private int _polls;

        public int Polls => Volatile.Read(ref _polls);

        public string Name => "counting";

        public ValueTask<UpgradeRequest?> PollAsync(RunConfig runConfig, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _polls);
            return ValueTask.FromResult<UpgradeRequest?>(null);
        }
    }
}
