using System.Diagnostics.Metrics;
using Loop.Visor.Running;
using Loop.Visor.Upgrades;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Visor;

/// <summary>
/// The supervisor: runs the version <c>current</c> points to, restarts it by the restart policy, and switches it to a
/// new version when an upgrade source reports one (stop, validate, switch the link atomically, start the new version,
/// roll back if it dies within the window). Whatever ends <see cref="RunAsync"/> stops the processes first.
/// </summary>
public sealed partial class VisorService : IDisposable
{
    /// <summary>The environment variable carrying the upgrade height to the processes of an upgraded version.</summary>
    public const string UpgradeHeightVariable = "LOOP_UPGRADE_HEIGHT";

    /// <summary>
    /// The placeholder in run-config args replaced by the upgrade height. A version with no known height gets the
    /// argument holding it dropped (with the flag before it when the placeholder is that flag's whole value).
    /// </summary>
    public const string UpgradeHeightPlaceholder = "{upgradeHeight}";

    private readonly VisorHome _home;
    private readonly VisorConfigSource _config;
    private readonly BinariesRunnerOptions _runnerOptions;
    private readonly BinariesRunner _runner;
    private readonly IReadOnlyList<IUpgradeSource> _extraSources;
    private readonly VisorServiceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly VisorMetrics _metrics;
    private readonly RestartPolicy _policy = new();
    private readonly HttpClient _downloads;
    private readonly VisorStateRecorder _state;
    private readonly UpgradeDecisions _upgrades;
    private Task<BinariesExit>? _run;
    private CancellationTokenSource? _runStop;
    private string _runningVersion = string.Empty;

    /// <summary>Creates the supervisor for the home folder at <paramref name="home"/>.</summary>
    /// <exception cref="VisorConfigException">config.toml is invalid.</exception>
    public VisorService(
        VisorHome home,
        VisorServiceOptions? options = null,
        IEnumerable<IUpgradeSource>? upgradeSources = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(home);
        _home = home;
        _options = options ?? new VisorServiceOptions();
        _timeProvider = timeProvider ?? TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<VisorService>();
        _config = new VisorConfigSource(home.ConfigPath);
        _runnerOptions = new BinariesRunnerOptions();
        ApplyRunnerSettings(_config.Current);
        _runner = new BinariesRunner(_runnerOptions, loggerFactory.CreateLogger<BinariesRunner>(), _timeProvider);
        _runner.SetStarted += RecordRunning;
        _extraSources = upgradeSources?.ToList() ?? [];
        _metrics = new VisorMetrics(meterFactory);
        _downloads = new HttpClient { Timeout = _options.DownloadTimeout };
        _state = new VisorStateRecorder(home, _logger);
        _upgrades = new UpgradeDecisions(home, new UpgradePreparer(home, _downloads, _logger), _state, _metrics, _timeProvider, _logger);
    }

    /// <summary>The meter name of Visor's instruments.</summary>
    public static string MeterName => VisorMetrics.MeterName;

    /// <summary>The config in force (after hot reloads).</summary>
    public VisorConfig Config => _config.Current;

    /// <summary>The runner of the current set (its process ids, for tests).</summary>
    internal BinariesRunner Runner => _runner;

    /// <summary>Raised when a set of processes started: the version's name (for tests).</summary>
    internal event Action<string>? VersionStarted;

    /// <summary>
    /// Runs until cancelled (exit code 0) or until it cannot go on (see <see cref="VisorExitCodes"/>). However it ends,
    /// the running processes are stopped first (stop delay, SIGTERM to each process group, SIGKILL after the timeout).
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await RunCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return VisorExitCodes.Stopped;
        }
        catch (VisorConfigException ex)
        {
            VisorLog.Fatal(_logger, ex.Message);
            return VisorExitCodes.ConfigError;
        }
        catch (VisorHomeException ex)
        {
            VisorLog.Fatal(_logger, ex.Message);
            return VisorExitCodes.ConfigError;
        }
        catch (VisorBinaryException ex)
        {
            VisorLog.Fatal(_logger, ex.Message);
            return VisorExitCodes.BinaryError;
        }
        catch (Exception ex)
        {
            // The message names the error; the stack trace is for developers, at Debug, not on an operator's console.
            VisorLog.Unexpected(_logger, ex.GetType().Name, ex.Message);
            VisorLog.UnexpectedDetail(_logger, ex);
            return VisorExitCodes.InternalError;
        }
        finally
        {
            await StopRunAsync().ConfigureAwait(false);
            await _runner.StopAsync(CancellationToken.None).ConfigureAwait(false);
            if (_runningVersion.Length > 0)
            {
                _metrics.Running(_runningVersion, 0);
            }

            _state.Update(s => s.Running?.VisorPid == Environment.ProcessId ? s with { Running = null } : s);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runStop?.Dispose();
        _metrics.Dispose();
        _downloads.Dispose();
    }

    private async Task<int> RunCoreAsync(CancellationToken cancellationToken)
    {
        _home.EnsureCurrent(_options.RelinkGenesis);
        PreparedUpgrade? justUpgraded = null;
        var afterCrash = false;
        while (true)
        {
            var folder = _home.CurrentFolder();
            var runConfig = RunConfigFile.Load(folder);
            var height = justUpgraded is not null ? justUpgraded.Height : VisorStateFile.Load(_home).UpgradeHeights.GetValueOrDefault(runConfig.Name);
            runConfig = UpgradeHeightArgs.Apply(runConfig, height > 0 ? height : null, out var dropped);
            if (dropped.Count > 0)
            {
                VisorLog.HeightDropped(_logger, runConfig.Name, string.Join(' ', dropped));
            }

            var startedAt = _timeProvider.GetTimestamp();
            _runStop?.Dispose();
            _runStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _runningVersion = runConfig.Name;
            var run = _run = justUpgraded is null ? _runner.RunAsync(runConfig, _runStop.Token) : StartUpgradedAsync(runConfig, _runStop.Token);
            _metrics.Running(runConfig.Name, runConfig.Processes.Count);
            VersionStarted?.Invoke(runConfig.Name);
            VisorLog.Running(_logger, runConfig.Name, folder);

            // A crash restart gets the restart limit; a first start, an upgrade and a rollback get the first-start
            // limit (a new version may take long to open its status endpoint), as Vega resets its counters.
            var retryLimit = afterCrash ? Config.MaxNumberOfRestartConnectionRetries : Config.MaxNumberOfFirstConnectionRetries;
            using var watcher = new UpgradeWatcher(
                runConfig, Path.Combine(_home.Root, Config.UpgradeInfoPath), _extraSources, _options, retryLimit, _timeProvider, _logger);
            var (upgrade, exitCode) = await WaitForExitOrUpgradeAsync(run, runConfig, watcher, _runStop.Token).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                return VisorExitCodes.Stopped;
            }

            if (exitCode is { } code)
            {
                return code;
            }

            if (upgrade is not null)
            {
                await StopRunAsync().ConfigureAwait(false);
                justUpgraded = await SwitchAsync(upgrade, runConfig.Name, cancellationToken).ConfigureAwait(false) ? upgrade : null;
                afterCrash = false;
                continue;
            }

            // A process of the set exited on its own, and the rest were stopped with it.
            var exit = await run.ConfigureAwait(false);
            _run = null;
            var ranFor = _timeProvider.GetElapsedTime(startedAt);
            _metrics.Running(runConfig.Name, 0);

            // cosmovisor's flow: a node that halts for an upgrade writes upgrade-info.json and exits. Look before
            // counting the exit as a crash.
            if (await watcher.PollOnceAsync(countFailures: false, cancellationToken).ConfigureAwait(false) is { Upgrade: { } halted }
                && await _upgrades.AcceptAsync(halted, runConfig, Config, cancellationToken).ConfigureAwait(false) is { } prepared)
            {
                VisorLog.HaltedForUpgrade(_logger, exit.ProcessName, exit.ExitCode, halted.Tag, halted.Height);
                justUpgraded = await SwitchAsync(prepared, runConfig.Name, cancellationToken).ConfigureAwait(false) ? prepared : null;
                afterCrash = false;
                continue;
            }

            if (justUpgraded is { } upgraded && ranFor < TimeSpan.FromSeconds(Config.UpgradeRollbackWindowSeconds) && _home.PreviousFolder() is { } previous)
            {
                _upgrades.RollBack(upgraded, runConfig.Name, previous, $"{exit.ProcessName} exited {exit.ExitCode} after {ranFor.TotalSeconds:0.###} s", Config);
                justUpgraded = null;
                afterCrash = false;
                continue;
            }

            justUpgraded = null;
            var delay = _policy.OnCrash(Config, ranFor);
            if (delay is null)
            {
                VisorLog.MaxRestarts(_logger, Config.MaxNumberOfRestarts, exit.ProcessName, exit.ExitCode);
                return VisorExitCodes.MaxRestartsReached;
            }

            VisorLog.Restarting(_logger, exit.ProcessName, exit.ExitCode, delay.Value, _policy.Restarts, Config.MaxNumberOfRestarts);
            _metrics.Restarted();
            afterCrash = true;
            await Task.Delay(delay.Value, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until the set exits, the status limit is reached, or an upgrade is ready to switch to. A refused or
    /// ignored upgrade is logged and watching goes on (from the next poll) while the set keeps running.
    /// </summary>
    private async Task<(PreparedUpgrade? Upgrade, int? ExitCode)> WaitForExitOrUpgradeAsync(
        Task<BinariesExit> run, RunConfig runConfig, UpgradeWatcher watcher, CancellationToken cancellationToken)
    {
        var pollNow = true;
        while (true)
        {
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = watcher.WatchAsync(_options.PollInterval, pollNow, ReloadConfig, watching.Token);
            pollNow = false;
            if (await Task.WhenAny(run, watch).ConfigureAwait(false) == run || cancellationToken.IsCancellationRequested)
            {
                await watching.CancelAsync().ConfigureAwait(false);
                await SwallowCancellationAsync(watch).ConfigureAwait(false);
                return (null, null);
            }

            var outcome = await watch.ConfigureAwait(false);
            if (outcome.ExitCode is { } code)
            {
                return (null, code);
            }

            if (await _upgrades.AcceptAsync(outcome.Upgrade!, runConfig, Config, cancellationToken).ConfigureAwait(false) is { } prepared)
            {
                return (prepared, null);
            }
        }
    }

    /// <summary>Stops the running set through the runner's stop path and waits for it; a stop that fails kills the set.</summary>
    private async Task StopRunAsync()
    {
        if (_run is not { } run)
        {
            return;
        }

        if (run.IsCompleted)
        {
            // Ended on its own (or failed to start, which the caller has seen): nothing left to stop.
            _run = null;
            return;
        }

        try
        {
            if (_runStop is { } stop)
            {
                await stop.CancelAsync().ConfigureAwait(false);
            }

            await run.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            VisorLog.StopFailed(_logger, ex.Message);
            _runner.Kill();
        }
        catch (OperationCanceledException)
        {
        }

        _run = null;
    }

    /// <summary>The pre-upgrade hook and the switch of <c>current</c>; a new version starts with a fresh restart budget.</summary>
    private async Task<bool> SwitchAsync(PreparedUpgrade upgrade, string from, CancellationToken cancellationToken)
    {
        if (!await _upgrades.SwitchAsync(upgrade, from, Config, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        _policy.Reset();
        return true;
    }

    private void RecordRunning(IReadOnlyList<RunningProcess> processes) =>
        _state.Update(s => s with
        {
            Running = new RunningRecord(Environment.ProcessId, _runningVersion, [.. processes.Select(p => new ProcessRecord(p.Name, p.Pid, p.StartedAt))]),
        });

    private void ReloadConfig()
    {
        try
        {
            if (_config.Reload() is { } next)
            {
                ApplyRunnerSettings(next);
                VisorLog.ConfigReloaded(_logger, _config.Path);
            }
        }
        catch (VisorConfigException ex)
        {
            VisorLog.ConfigRejected(_logger, ex.Message);
        }
    }

    private void ApplyRunnerSettings(VisorConfig config)
    {
        _runnerOptions.StopDelay = TimeSpan.FromSeconds(config.StopDelaySeconds);
        _runnerOptions.StopTimeout = TimeSpan.FromSeconds(config.StopSignalTimeoutSeconds);
    }

    /// <summary>A new version that cannot even start counts as dying at once, so it is rolled back.</summary>
    private async Task<BinariesExit> StartUpgradedAsync(RunConfig runConfig, CancellationToken cancellationToken)
    {
        try
        {
            return await _runner.RunAsync(runConfig, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is VisorBinaryException or System.ComponentModel.Win32Exception)
        {
            VisorLog.Fatal(_logger, ex.Message);
            return new BinariesExit(runConfig.Processes[0].Name, -1, Stopped: false);
        }
    }

    private static async Task SwallowCancellationAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
