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

    /// <summary>How long an upgrade that failed for a passing reason (the release server was down) waits before it is tried again.</summary>
    internal static readonly TimeSpan TransientRetryDelay = TimeSpan.FromMinutes(1);

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
    private readonly Dictionary<(string Tag, long Height), long> _retryAt = [];
    private readonly HashSet<(string Tag, long Height)> _ignored = [];
    private readonly HttpClient _downloads;
    private readonly UpgradePreparer _preparer;
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
        _preparer = new UpgradePreparer(home, _downloads, _logger);
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

            UpdateState(s => s.Running?.VisorPid == Environment.ProcessId ? s with { Running = null } : s);
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
                && await AcceptAsync(halted, runConfig, cancellationToken).ConfigureAwait(false) is { } prepared)
            {
                VisorLog.HaltedForUpgrade(_logger, exit.ProcessName, exit.ExitCode, halted.Tag, halted.Height);
                justUpgraded = await SwitchAsync(prepared, runConfig.Name, cancellationToken).ConfigureAwait(false) ? prepared : null;
                afterCrash = false;
                continue;
            }

            if (justUpgraded is { } upgraded && ranFor < TimeSpan.FromSeconds(Config.UpgradeRollbackWindowSeconds) && _home.PreviousFolder() is { } previous)
            {
                RollBack(upgraded, runConfig.Name, previous, $"{exit.ProcessName} exited {exit.ExitCode} after {ranFor.TotalSeconds:0.###} s");
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

            if (await AcceptAsync(outcome.Upgrade!, runConfig, cancellationToken).ConfigureAwait(false) is { } prepared)
            {
                return (prepared, null);
            }
        }
    }

    /// <summary>
    /// Decides on a reported upgrade: the running version is ignored (once logged), a version refused before is not
    /// tried again until an operator clears it, and any other is prepared (null when that fails; the refusal is logged
    /// and recorded).
    /// </summary>
    private async Task<PreparedUpgrade?> AcceptAsync(UpgradeRequest request, RunConfig running, CancellationToken cancellationToken)
    {
        var key = (request.Tag, request.Height);
        if (string.Equals(request.Tag, running.Name, StringComparison.Ordinal))
        {
            if (_ignored.Add(key))
            {
                VisorLog.SameVersion(_logger, request.Tag, request.Height, request.Source);
            }

            return null;
        }

        if (_retryAt.TryGetValue(key, out var retryAt) && _timeProvider.GetTimestamp() < retryAt)
        {
            return null;
        }

        if (VisorStateFile.Load(_home).RefusalOf(request.Tag) is { } earlier)
        {
            if (_ignored.Add(key))
            {
                VisorLog.RefusedBefore(_logger, request.Tag, earlier.At, earlier.Reason, _home.Root);
            }

            return null;
        }

        try
        {
            var (folder, height) = await _preparer.PrepareAsync(request, Config, cancellationToken).ConfigureAwait(false);
            return new PreparedUpgrade(request, folder, height);
        }
        catch (UpgradeRefusal refusal)
        {
            Refuse(request, refusal.Message, refusal.Transient);
            return null;
        }
    }

    /// <summary>After the old version stopped: the pre-upgrade hook, then the switch of <c>current</c>. False keeps the old version.</summary>
    private async Task<bool> SwitchAsync(PreparedUpgrade upgrade, string from, CancellationToken cancellationToken)
    {
        try
        {
            await _preparer.RunPreUpgradeHookAsync(upgrade.Request, upgrade.Height, Config, cancellationToken).ConfigureAwait(false);
        }
        catch (UpgradeRefusal refusal)
        {
            Refuse(upgrade.Request, refusal.Message, refusal.Transient);
            return false;
        }

        _home.SwitchCurrent(upgrade.Folder, Config);
        _policy.Reset();
        var to = RunConfigFile.Load(upgrade.Folder).Name;
        var request = upgrade.Request;
        UpdateState(s => s with
        {
            CurrentVersion = to,
            UpgradeHeights = upgrade.Height > 0 ? new Dictionary<string, long>(s.UpgradeHeights, StringComparer.Ordinal) { [to] = upgrade.Height } : s.UpgradeHeights,
            LastUpgrade = new UpgradeRecord(from, to, upgrade.Height, _timeProvider.GetUtcNow(), request.Source),
        });
        _metrics.Upgraded(request.Tag);
        VisorLog.Upgraded(_logger, from, request.Tag, upgrade.Height, request.Source);
        return true;
    }

    private void RollBack(PreparedUpgrade upgrade, string failed, string previous, string what)
    {
        var reason = $"version {failed} died at start: {what}";
        VisorLog.RollingBack(_logger, failed, what, previous);
        _home.SwitchCurrent(previous, Config);
        _home.ForgetPrevious();
        var restored = RunConfigFile.Load(previous).Name;
        var now = _timeProvider.GetUtcNow();
        UpdateState(s => s with
        {
            CurrentVersion = restored,
            LastRollback = new RollbackRecord(failed, restored, now, reason),
            Refused = [.. s.Refused.Where(r => r.Tag != upgrade.Request.Tag), new RefusalRecord(upgrade.Request.Tag, upgrade.Height, now, reason + "; rolled back")],
        });
        _metrics.RolledBack(upgrade.Request.Tag);
    }

    /// <summary>Logs a refusal; a lasting one is recorded in the home so that no later Visor tries that version again.</summary>
    private void Refuse(UpgradeRequest request, string reason, bool transient)
    {
        if (transient)
        {
            VisorLog.UpgradeRetried(_logger, reason, request.Source, TransientRetryDelay);
            _retryAt[(request.Tag, request.Height)] = _timeProvider.GetTimestamp() + (long)(TransientRetryDelay.TotalSeconds * _timeProvider.TimestampFrequency);
            return;
        }

        VisorLog.UpgradeRefused(_logger, reason, request.Source, request.Tag);
        UpdateState(s => s with
        {
            Refused = [.. s.Refused.Where(r => r.Tag != request.Tag), new RefusalRecord(request.Tag, request.Height, _timeProvider.GetUtcNow(), reason)],
        });
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

    private void RecordRunning(IReadOnlyList<RunningProcess> processes) =>
        UpdateState(s => s with
        {
            Running = new RunningRecord(Environment.ProcessId, _runningVersion, [.. processes.Select(p => new ProcessRecord(p.Name, p.Pid, p.StartedAt))]),
        });

    /// <summary>The state is a record for operators: failing to write it is logged, and supervision goes on.</summary>
    private void UpdateState(Func<VisorState, VisorState> change)
    {
        try
        {
            VisorStateFile.Update(_home, change);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or VisorHomeException)
        {
            VisorLog.StateNotWritten(_logger, _home.StatePath, ex.Message);
        }
    }

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

    /// <summary>An upgrade ready to switch to: its folder and the height the version starts with.</summary>
    private sealed record PreparedUpgrade(UpgradeRequest Request, string Folder, long Height);
}
