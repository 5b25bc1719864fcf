using System.Diagnostics.Metrics;

namespace Loop.Visor;

/// <summary>Visor's instruments on meter <see cref="MeterName"/>.</summary>
internal sealed class VisorMetrics : IDisposable
{
    public const string MeterName = Loop.Telemetry.LoopMeters.Visor;

    private readonly Loop.Telemetry.PackageMeter _package;
    private readonly Meter _meter;
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _upgrades;
    private readonly Counter<long> _rollbacks;
    private volatile string _version = string.Empty;
    private int _processesUp;

    public VisorMetrics(IMeterFactory? factory)
    {
        _package = new Loop.Telemetry.PackageMeter(MeterName, factory);
        _meter = _package.Meter;
        _restarts = _meter.CreateCounter<long>("loop.visor.restarts", "{restart}", "Crash restarts of the process set.");
        _upgrades = _meter.CreateCounter<long>("loop.visor.upgrades", "{upgrade}", "Version switches.");
        _rollbacks = _meter.CreateCounter<long>("loop.visor.rollbacks", "{rollback}", "Upgrades rolled back because the new version died at start.");
        _meter.CreateObservableGauge("loop.visor.processes", () => Volatile.Read(ref _processesUp), "{process}", "Processes of the set running now.");
        _meter.CreateObservableGauge(
            "loop.visor.version",
            () => _version.Length == 0 ? [] : new[] { new Measurement<int>(1, new KeyValuePair<string, object?>("version", _version)) },
            "1",
            "1, tagged with the running version's name.");
    }

    public void Restarted() => _restarts.Add(1);

    public void Upgraded(string tag) => _upgrades.Add(1, new KeyValuePair<string, object?>("version", tag));

    public void RolledBack(string tag) => _rollbacks.Add(1, new KeyValuePair<string, object?>("version", tag));

    public void Running(string version, int processes)
    {
        _version = version;
        Volatile.Write(ref _processesUp, processes);
    }

    public void Dispose() => _package.Dispose();
}
