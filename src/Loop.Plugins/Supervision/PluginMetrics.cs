using System.Diagnostics.Metrics;

namespace Loop.Plugins;

/// <summary>Supervision instruments on meter <see cref="MeterName"/>, tagged with the plugin's name.</summary>
internal sealed class PluginMetrics : IDisposable
{
    public const string MeterName = "Loop.Plugins";

    private readonly Loop.Telemetry.PackageMeter _package;
    private readonly Meter _meter;
    private readonly Counter<long> _launches;
    private readonly Counter<long> _relaunches;
    private readonly Counter<long> _launchFailures;
    private readonly Counter<long> _healthChecks;
    private readonly KeyValuePair<string, object?> _passed = new("outcome", "passed");
    private readonly KeyValuePair<string, object?> _failed = new("outcome", "failed");
    private readonly KeyValuePair<string, object?> _plugin;
    private int _healthy;

    public PluginMetrics(string plugin, IMeterFactory? factory)
    {
        _package = new Loop.Telemetry.PackageMeter(MeterName, factory);
        _meter = _package.Meter;
        _plugin = new KeyValuePair<string, object?>("plugin", plugin);
        _launches = _meter.CreateCounter<long>("loop.plugin.launches", "{launch}", "Successful plugin launches.");
        _relaunches = _meter.CreateCounter<long>("loop.plugin.relaunches", "{relaunch}", "Relaunches of a plugin that exited or stopped answering.");
        _launchFailures = _meter.CreateCounter<long>("loop.plugin.launch_failures", "{failure}", "Launches that failed (handshake, timeout, exec).");
        _healthChecks = _meter.CreateCounter<long>("loop.plugin.health_checks", "{check}", "Health checks of a running plugin, by outcome (passed, failed).");
        _meter.CreateObservableGauge("loop.plugin.healthy", () => new Measurement<int>(Volatile.Read(ref _healthy), _plugin), "1", "1 while the plugin is launched and passed its last health check.");
    }

    public void Launched()
    {
        _launches.Add(1, _plugin);
        Volatile.Write(ref _healthy, 1);
    }

    public void Relaunching()
    {
        _relaunches.Add(1, _plugin);
        Volatile.Write(ref _healthy, 0);
    }

    public void HealthChecked(bool passed) => _healthChecks.Add(1, _plugin, passed ? _passed : _failed);

    public void LaunchFailed() => _launchFailures.Add(1, _plugin);

    public void Down() => Volatile.Write(ref _healthy, 0);

    public void Dispose() => _package.Dispose();
}
