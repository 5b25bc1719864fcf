using System.Diagnostics.Metrics;

namespace Loop.Plugins;

/// <summary>Supervision instruments on meter <see cref="MeterName"/>, tagged with the plugin's name.</summary>
internal sealed class PluginMetrics : IDisposable
{
    public const string MeterName = Loop.Telemetry.LoopMeters.Plugins;

    private readonly Loop.Telemetry.PackageMeter _package;
    private readonly Meter _meter;
    private static readonly KeyValuePair<string, object?> Succeeded = new("outcome", "succeeded");
    private static readonly KeyValuePair<string, object?> Passed = new("outcome", "passed");
    private static readonly KeyValuePair<string, object?> Failed = new("outcome", "failed");
    private readonly Counter<long> _launches;
    private readonly Counter<long> _relaunches;
    private readonly Counter<long> _healthChecks;
    private readonly KeyValuePair<string, object?> _plugin;
    private int _healthy;

    public PluginMetrics(string plugin, IMeterFactory? factory)
    {
        _package = new Loop.Telemetry.PackageMeter(MeterName, factory);
        _meter = _package.Meter;
        _plugin = new KeyValuePair<string, object?>("plugin", plugin);
        _launches = _meter.CreateCounter<long>("loop.plugins.launches", "{launch}", "Plugin launches, by outcome (succeeded; failed: handshake, timeout, exec).");
        _relaunches = _meter.CreateCounter<long>("loop.plugins.relaunches", "{relaunch}", "Relaunches of a plugin that exited or stopped answering.");
        _healthChecks = _meter.CreateCounter<long>("loop.plugins.health_checks", "{check}", "Health checks of a running plugin, by outcome (passed, failed).");
        _meter.CreateObservableGauge("loop.plugins.healthy", () => new Measurement<int>(Volatile.Read(ref _healthy), _plugin), "1", "1 while the plugin is launched and passed its last health check.");
    }

    public void Launched()
    {
        _launches.Add(1, _plugin, Succeeded);
        Volatile.Write(ref _healthy, 1);
    }

    public void Relaunching()
    {
        _relaunches.Add(1, _plugin);
        Volatile.Write(ref _healthy, 0);
    }

    public void HealthChecked(bool passed) => _healthChecks.Add(1, _plugin, passed ? Passed : Failed);

    public void LaunchFailed() => _launches.Add(1, _plugin, Failed);

    public void Down() => Volatile.Write(ref _healthy, 0);

    public void Dispose() => _package.Dispose();
}
