using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Loop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Visor.Tests;

public sealed class MetricsTests : IDisposable
{
    private readonly TempHome _temp = new();
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose()
    {
        _metrics.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Restarts_upgrades_rollbacks_processes_up_and_the_current_version_are_measured()
    {
        var factory = _metrics.GetRequiredService<IMeterFactory>();
        using var restarts = new MetricCollector<long>(factory, VisorService.MeterName, "loop.visor.restarts");
        using var upgrades = new MetricCollector<long>(factory, VisorService.MeterName, "loop.visor.upgrades");
        using var rollbacks = new MetricCollector<long>(factory, VisorService.MeterName, "loop.visor.rollbacks");
        using var up = new MetricCollector<int>(factory, VisorService.MeterName, "loop.visor.processes");
        using var version = new MetricCollector<int>(factory, VisorService.MeterName, "loop.visor.version");
        var time = new FakeTimeProvider();
        var flag = Path.Combine(_temp.Parent, "crashed-once");
        File.WriteAllText(_temp.Home.ConfigPath, "restartsDelaySeconds = 0\n");
        _temp.Version("genesis", $"if [ ! -f {flag} ]; then touch {flag}; exit 1; fi\nexec sleep 600");
        _temp.Version("v2", "exec sleep 600");
        _temp.Version("v3", "exit 9");
        var started = new ConcurrentQueue<string>();
        using var visor = new VisorService(_temp.Home, timeProvider: time, meterFactory: factory);
        visor.VersionStarted += started.Enqueue;
        using var stop = new CancellationTokenSource();
        var run = visor.RunAsync(stop.Token);

        await Eventually.WaitAsync(() => started.Count == 2 && visor.Runner.ProcessIds.Count == 1, "genesis restarted once");
        restarts.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(1);

        Directory.CreateDirectory(Path.Combine(_temp.Root, "data"));
        await File.WriteAllTextAsync(Path.Combine(_temp.Root, "data", "upgrade-info.json"), JsonSerializer.Serialize(new { name = "v2", height = 1 }));
        await time.AdvanceUntilAsync(() => started.Contains("v2") && visor.Runner.ProcessIds.Count == 1, "v2 running");
        up.RecordObservableInstruments();
        version.RecordObservableInstruments();
        up.LastMeasurement!.Value.Should().Be(1);
        version.LastMeasurement!.Tags["version"].Should().Be("v2");
        upgrades.LastMeasurement!.Tags["version"].Should().Be("v2");

        await File.WriteAllTextAsync(Path.Combine(_temp.Root, "data", "upgrade-info.json"), JsonSerializer.Serialize(new { name = "v3", height = 2 }));
        await time.AdvanceUntilAsync(() => rollbacks.GetMeasurementSnapshot().Count == 1, "v3 rolled back");
        rollbacks.LastMeasurement!.Tags["version"].Should().Be("v3");
        upgrades.GetMeasurementSnapshot().Should().HaveCount(2);

        await stop.CancelAsync();
        await run;
    }
}
