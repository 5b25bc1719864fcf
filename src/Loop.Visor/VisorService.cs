using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Visor;

/// <summary>
/// The supervisor: runs the version <c>current</c> points to, restarts it by the restart policy, and switches it to a
/// new version when an upgrade source reports one (stop, validate, switch the link atomically, start the new version,
/// roll back if it dies within the window).
/// </summary>
public sealed partial class VisorService : IDisposable
{
    /// <summary>The environment variable carrying the upgrade height to the processes started after an upgrade.</summary>
    public const string UpgradeHeightVariable = "LOOP_UPGRADE_HEIGHT";

    /// <summary>The placeholder in run-config args replaced by the upgrade height.</summary>
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
    private readonly HashSet<(string Tag, long Height)> _refused = [];
    private readonly HttpClient _downloads = new() { Timeout = TimeSpan.FromMinutes(2) };

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
        _extraSources = upgradeSources?.ToList() ?? [];
        _metrics = new VisorMetrics(meterFactory);
    }

    /// <summary>The meter name of Visor's instruments.</summary>
    public static string MeterName => VisorMetrics.MeterName;

    /// <summary>The config in force (after hot reloads).</summary>
    public VisorConfig Config => _config.Current;

    /// <summary>The runner of the current set (its process ids, for tests and status).</summary>
    public BinariesRunner Runner => _runner;

    /// <summary>Raised when a set of processes started: the version's name.</summary>
    public event Action<string>? VersionStarted;

    /// <summary>Runs until cancelled (exit code 0) or until it cannot go on (see <see cref="VisorExitCodes"/>).</summary>
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
            LogFatal(_logger, ex.Message);
            return VisorExitCodes.ConfigError;
        }
        catch (VisorHomeException ex)
        {
            LogFatal(_logger, ex.Message);
            return VisorExitCodes.ConfigError;
        }
        catch (VisorBinaryException ex)
        {
            LogFatal(_logger, ex.Message);
            return VisorExitCodes.BinaryError;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _metrics.Dispose();
        _downloads.Dispose();
    }

    private async Task<int> RunCoreAsync(CancellationToken cancellationToken)
    {
        _home.EnsureCurrent();
        UpgradeRequest? justUpgraded = null;
        var everStarted = false;
        while (true)
        {
            var folder = _home.CurrentFolder();
            var runConfig = WithUpgradeHeight(RunConfigFile.Load(folder), justUpgraded);
            var startedAt = _timeProvider.GetTimestamp();
            using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var run = justUpgraded is null ? _runner.RunAsync(runConfig, running.Token) : StartUpgradedAsync(runConfig, running.Token);
            _metrics.Running(runConfig.Name, runConfig.Processes.Count);
            VersionStarted?.Invoke(runConfig.Name);
            LogRunning(_logger, runConfig.Name, folder);

            var isRestart = everStarted;
            everStarted = true;
            var (watch, target, request, exitCode) = await WaitForExitOrUpgradeAsync(run, runConfig, isRestart, running.Token).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                await run.ConfigureAwait(false);
                await SwallowAsync(watch).ConfigureAwait(false);
                _metrics.Running(runConfig.Name, 0);
                return VisorExitCodes.Stopped;
            }

            if (exitCode is { } code)
            {
                await running.CancelAsync().ConfigureAwait(false);
                await run.ConfigureAwait(false);
                return code;
            }

            if (target is not null)
            {
                await StopForUpgradeAsync(run, running).ConfigureAwait(false);
                if (!await RunPreUpgradeHookAsync(request!, cancellationToken).ConfigureAwait(false))
                {
                    // The old version starts again; the refused upgrade is not retried.
                    justUpgraded = null;
                    continue;
                }

                _home.SwitchCurrent(target);
                _policy.Reset();
                _metrics.Upgraded(request!.Tag);
                LogUpgraded(_logger, runConfig.Name, request.Tag, request.Height, request.Source);
                justUpgraded = request;
                continue;
            }

            // A process of the set exited on its own.
            await running.CancelAsync().ConfigureAwait(false);
            await SwallowAsync(watch).ConfigureAwait(false);
            var exit = await run.ConfigureAwait(false);
            var ranFor = _timeProvider.GetElapsedTime(startedAt);
            _metrics.Running(runConfig.Name, 0);
            if (justUpgraded is { } upgrade && ranFor < TimeSpan.FromSeconds(Config.UpgradeRollbackWindowSeconds) && _home.PreviousFolder() is { } previous)
            {
                LogRollingBack(_logger, upgrade.Tag, exit.ProcessName, exit.ExitCode, ranFor, previous);
                _refused.Add((upgrade.Tag, upgrade.Height));
                _home.SwitchCurrent(previous);
                _metrics.RolledBack(upgrade.Tag);
                justUpgraded = null;
                continue;
            }

            justUpgraded = null;
            var delay = _policy.OnCrash(Config, ranFor);
            if (delay is null)
            {
                LogMaxRestarts(_logger, Config.MaxNumberOfRestarts, exit.ProcessName, exit.ExitCode);
                return VisorExitCodes.MaxRestartsReached;
            }

            LogRestarting(_logger, exit.ProcessName, exit.ExitCode, delay.Value, _policy.Restarts, Config.MaxNumberOfRestarts);
            _metrics.Restarted();
            await Task.Delay(delay.Value, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until the set exits or an acceptable upgrade is due. A refused upgrade (bad tag, missing folder) is logged
    /// and watching goes on while the set keeps running.
    /// </summary>
    private async Task<(Task Watch, string? Target, UpgradeRequest? Request, int? ExitCode)> WaitForExitOrUpgradeAsync(
        Task<BinariesExit> run, RunConfig runConfig, bool isRestart, CancellationToken cancellationToken)
    {
        while (true)
        {
            var watch = WatchForUpgradeAsync(runConfig, isRestart, cancellationToken);
            var first = await Task.WhenAny(run, watch).ConfigureAwait(false);
            if (first == run || cancellationToken.IsCancellationRequested)
            {
                return (watch, null, null, null);
            }

            var outcome = await watch.ConfigureAwait(false);
            if (outcome.ExitCode is { } code)
            {
                return (watch, null, null, code);
            }

            if (await PrepareUpgradeAsync(outcome.Upgrade!, cancellationToken).ConfigureAwait(false) is { } target)
            {
                return (watch, target, outcome.Upgrade, null);
            }
        }
    }

    private async Task<WatchOutcome> WatchForUpgradeAsync(RunConfig runConfig, bool isRestart, CancellationToken cancellationToken)
    {
        var sources = new List<IUpgradeSource>(_extraSources) { new UpgradeInfoFileSource(Path.Combine(_home.Root, Config.UpgradeInfoPath)) };
        using var rpc = runConfig.UpgradeRpc is { } endpoint && _options.UseUpgradeRpc ? new JsonRpcUpgradeSource(endpoint, _options.RpcTimeout) : null;
        if (rpc is not null)
        {
            sources.Add(rpc);
        }

        var failures = 0;
        using var timer = new PeriodicTimer(_options.PollInterval, _timeProvider);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            ReloadConfig();
            foreach (var source in sources)
            {
                UpgradeRequest? request;
                try
                {
                    request = await source.PollAsync(runConfig, cancellationToken).ConfigureAwait(false);
                    if (source == rpc)
                    {
                        failures = 0;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    if (source != rpc)
                    {
                        LogSourceFailed(_logger, source.Name, ex.Message);
                        continue;
                    }

                    var limit = isRestart ? Config.MaxNumberOfRestartConnectionRetries : Config.MaxNumberOfFirstConnectionRetries;
                    if (++failures > limit)
                    {
                        LogStatusUnreachable(_logger, failures - 1, ex.Message);
                        return new WatchOutcome(null, VisorExitCodes.UpgradeStatusUnreachable);
                    }

                    continue;
                }

                if (request is not null && !_refused.Contains((request.Tag, request.Height)))
                {
                    return new WatchOutcome(request, null);
                }
            }
        }

        return new WatchOutcome(null, VisorExitCodes.Stopped);
    }

    /// <summary>
    /// Validates the tag, finds (or installs) the version folder and checks its run config, binaries and, when
    /// configured, the binary's version, all before anything is stopped. Null refuses the upgrade.
    /// </summary>
    private async Task<string?> PrepareUpgradeAsync(UpgradeRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var folder = _home.VersionFolder(request.Tag, Config);
            if (!File.Exists(Path.Combine(folder, RunConfigFile.FileName)))
            {
                if (!Config.AutoInstall.Enabled)
                {
                    throw new InstallException($"version {request.Tag} has no {RunConfigFile.FileName} in {folder} (add it with add-upgrade, or enable autoInstall)");
                }

                LogInstalling(_logger, request.Tag);
                await new ReleaseInstaller(_downloads).InstallAsync(_home, Config, request.Tag, cancellationToken).ConfigureAwait(false);
            }

            var runConfig = RunConfigFile.Load(folder);
            foreach (var process in runConfig.Processes)
            {
                BinariesRunner.Check(process);
            }

            if (Config.CheckBinaryVersion)
            {
                await CheckVersionAsync(runConfig.Processes[0], request.Tag, cancellationToken).ConfigureAwait(false);
            }

            return folder;
        }
        catch (Exception ex) when (ex is InvalidReleaseTagException or InstallException or VisorConfigException or VisorBinaryException or HttpRequestException or IOException or TimeoutException)
        {
            LogUpgradeRefused(_logger, ex.Message, request.Source);
            _refused.Add((request.Tag, request.Height));
            return null;
        }
    }

    private static async Task CheckVersionAsync(ProcessSpec binary, string tag, CancellationToken cancellationToken)
    {
        var (code, output) = await Running.ProgramCall.RunAsync(binary.Path, ["version", "--output", "json"], TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        string? version = null;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(output);
            version = json.RootElement.TryGetProperty("version", out var v) ? v.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }

        if (code != 0 || version != tag)
        {
            throw new InstallException($"{binary.Path} version --output json reported \"{version}\" (exit {code}), not {tag}");
        }
    }

    /// <summary>Runs the pre-upgrade hook with tag and height; false cancels the switch.</summary>
    private async Task<bool> RunPreUpgradeHookAsync(UpgradeRequest request, CancellationToken cancellationToken)
    {
        if (Config.PreUpgradeHook.Length == 0)
        {
            return true;
        }

        try
        {
            var (code, _) = await Running.ProgramCall.RunAsync(
                Config.PreUpgradeHook, [request.Tag, request.Height.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
            if (code == 0)
            {
                return true;
            }

            LogUpgradeRefused(_logger, $"the pre-upgrade hook {Config.PreUpgradeHook} exited {code}", request.Source);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException)
        {
            LogUpgradeRefused(_logger, $"the pre-upgrade hook {Config.PreUpgradeHook} failed: {ex.Message}", request.Source);
        }

        _refused.Add((request.Tag, request.Height));
        return false;
    }

    private async Task StopForUpgradeAsync(Task<BinariesExit> run, CancellationTokenSource running)
    {
        try
        {
            await running.CancelAsync().ConfigureAwait(false);
            await run.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogStopFailed(_logger, ex.Message);
            _runner.Kill();
        }
    }

    private void ReloadConfig()
    {
        try
        {
            if (_config.Reload() is { } next)
            {
                ApplyRunnerSettings(next);
                LogConfigReloaded(_logger, _config.Path);
            }
        }
        catch (VisorConfigException ex)
        {
            LogConfigRejected(_logger, ex.Message);
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
            LogFatal(_logger, ex.Message);
            return new BinariesExit(runConfig.Processes[0].Name, -1, Stopped: false);
        }
    }

    private static RunConfig WithUpgradeHeight(RunConfig config, UpgradeRequest? upgrade)
    {
        if (upgrade is null)
        {
            return config;
        }

        var height = upgrade.Height.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return config with
        {
            Processes = config.Processes.Select(p => p with
            {
                Args = p.Args.Select(a => a.Replace(UpgradeHeightPlaceholder, height, StringComparison.Ordinal)).ToArray(),
                Environment = new Dictionary<string, string>(p.Environment ?? new Dictionary<string, string>()) { [UpgradeHeightVariable] = height },
            }).ToArray(),
        };
    }

    private static async Task SwallowAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record WatchOutcome(UpgradeRequest? Upgrade, int? ExitCode);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "running version {Version} from {Folder}")]
    private static partial void LogRunning(ILogger logger, string version, string folder);

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "upgraded {From} -> {To} at height {Height} (reported by {Source})")]
    private static partial void LogUpgraded(ILogger logger, string from, string to, long height, string source);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "version {Tag} died at start ({Process} exited {Code} after {RanFor}); rolling back to {Previous}")]
    private static partial void LogRollingBack(ILogger logger, string tag, string process, int code, TimeSpan ranFor, string previous);

    [LoggerMessage(EventId = 304, Level = LogLevel.Error, Message = "maximum number of restarts ({Max}) reached: {Process} exited {Code}; giving up")]
    private static partial void LogMaxRestarts(ILogger logger, int max, string process, int code);

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "{Process} exited {Code}; restarting in {Delay} (restart {Count} of {Max})")]
    private static partial void LogRestarting(ILogger logger, string process, int code, TimeSpan delay, int count, int max);

    [LoggerMessage(EventId = 306, Level = LogLevel.Error, Message = "upgrade refused: {Reason} (reported by {Source}); the running version stays")]
    private static partial void LogUpgradeRefused(ILogger logger, string reason, string source);

    [LoggerMessage(EventId = 307, Level = LogLevel.Error, Message = "failed to get upgrade status for the maximum number of retries ({Retries}): {Reason}")]
    private static partial void LogStatusUnreachable(ILogger logger, int retries, string reason);

    [LoggerMessage(EventId = 308, Level = LogLevel.Warning, Message = "upgrade source {Source} failed: {Reason}")]
    private static partial void LogSourceFailed(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 309, Level = LogLevel.Information, Message = "reloaded {Path}")]
    private static partial void LogConfigReloaded(ILogger logger, string path);

    [LoggerMessage(EventId = 310, Level = LogLevel.Error, Message = "config edit rejected, previous values stay: {Reason}")]
    private static partial void LogConfigRejected(ILogger logger, string reason);

    [LoggerMessage(EventId = 311, Level = LogLevel.Error, Message = "stopping for the upgrade failed ({Reason}); killing the set")]
    private static partial void LogStopFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 313, Level = LogLevel.Information, Message = "version {Tag} is not installed: installing it from its release")]
    private static partial void LogInstalling(ILogger logger, string tag);

    [LoggerMessage(EventId = 312, Level = LogLevel.Critical, Message = "{Reason}")]
    private static partial void LogFatal(ILogger logger, string reason);
}

/// <summary>Options of <see cref="VisorService"/> that are not in config.toml.</summary>
public sealed class VisorServiceOptions
{
    /// <summary>How often upgrade sources are polled (and config.toml checked for edits). Default 2 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The deadline of one upgrade-status call. Default 5 s.</summary>
    public TimeSpan RpcTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Poll the run config's upgrade-status RPC endpoint when it has one. Default true.</summary>
    public bool UseUpgradeRpc { get; set; } = true;
}
