using System.Diagnostics;
using Loop.Services;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Plugins;

/// <summary>
/// Supervises one plugin: launches it, checks its health at once and then every <c>KeepAliveInterval</c>, and
/// relaunches it (a fresh process, with backoff between failed launches) when it exited or stopped answering. It is not
/// ready until a launch succeeded; callers wait with <see cref="WaitAsync"/>. Stopping kills the plugin gracefully.
/// </summary>
public sealed partial class PluginService : LoopService
{
    private readonly Func<ProcessStartInfo> _command;
    private readonly HandshakeConfig _handshake;
    private readonly PluginServiceOptions _options;
    private readonly ILogger _logger;
    private readonly ILogger _pluginLogger;
    private readonly TimeProvider _timeProvider;
    private readonly SleeperTask _keepAlive;
    private readonly PluginMetrics _metrics;
    private readonly ILoopRegistry? _registry;
    private readonly Lock _gate = new();
    private TaskCompletionSource<PluginClient> _ready = NewReady();
    private PluginClient? _client;
    private string? _lastError;
    private long _launches;
    private long _launchedAt;
    private int _failedChecks;
    private int _quickRelaunches;

    /// <summary>Creates the service; nothing starts until <see cref="LoopService.StartAsync"/>.</summary>
    /// <param name="name">The plugin's name.</param>
    /// <param name="command">Builds a fresh process start per launch (see <see cref="LoopCommands.RegisterLoop"/>).</param>
    /// <param name="handshake">The handshake the plugin expects.</param>
    /// <param name="options">Keep-alive and launch settings.</param>
    /// <param name="logger">The logger (also receives the plugin's stderr).</param>
    /// <param name="timeProvider">The clock for the keep-alive and the backoff.</param>
    /// <param name="meterFactory">Creates the <c>Loop.Plugins</c> meter; a private meter when null.</param>
    /// <param name="loggerFactory">
    /// Creates the logger of the plugin's own lines (its stderr, its console), under the category
    /// <c>Loop.Plugins.Plugin.&lt;name&gt;</c> so that each plugin's level can be set alone; without it they go to
    /// <paramref name="logger"/>.
    /// </param>
    /// <param name="registry">
    /// The registry the plugin is registered in under <paramref name="name"/>; when the service stops (for good: a
    /// service starts once) the plugin is unregistered there, so it leaves <c>/discovery</c> and its Prometheus port is
    /// returned. Null when the caller manages the registration.
    /// </param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is out of range (every one named, with the plugin).</exception>
    public PluginService(
        string name,
        Func<ProcessStartInfo> command,
        HandshakeConfig handshake,
        PluginServiceOptions? options = null,
        ILogger<PluginService>? logger = null,
        TimeProvider? timeProvider = null,
        System.Diagnostics.Metrics.IMeterFactory? meterFactory = null,
        ILoggerFactory? loggerFactory = null,
        ILoopRegistry? registry = null)
        : base(name)
    {
        _metrics = new PluginMetrics(name, meterFactory);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(handshake);
        _command = command;
        _handshake = handshake;
        _options = Loop.Options.OptionsCheck.Require(options ?? new PluginServiceOptions(), name, new PluginServiceOptionsValidator(), PluginServiceOptions.Rules);
        _logger = logger ?? NullLogger<PluginService>.Instance;
        _pluginLogger = loggerFactory?.CreateLogger(PluginCategoryPrefix + name) ?? _logger;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _registry = registry;

        // A bad CL_MIN_OCR2_MAX_DURATION_QUERY is an error here, where the host is configured, not a failed launch later.
        _ = PluginClient.CallTimeoutFloorOf(_options.Client);
        _keepAlive = new SleeperTask($"{name}.keep-alive", KeepAliveAsync, _options.KeepAliveInterval, _timeProvider, _logger);
    }

    /// <summary>The log category of a plugin's own lines is this prefix and the plugin's name.</summary>
    public const string PluginCategoryPrefix = "Loop.Plugins.Plugin.";

    /// <summary>The meter name of the supervision instruments.</summary>
    public static string MeterName => PluginMetrics.MeterName;

    /// <summary>How many times the plugin was launched successfully.</summary>
    internal long Launches => Interlocked.Read(ref _launches);

    /// <summary>The running plugin, or null while it is unavailable.</summary>
    public PluginClient? Client
    {
        get
        {
            lock (_gate)
            {
                return _client;
            }
        }
    }

    /// <summary>Waits until the plugin is running and healthy, and returns its client.</summary>
    /// <exception cref="PluginUnavailableException">The service stopped.</exception>
    public async Task<PluginClient> WaitAsync(CancellationToken cancellationToken = default)
    {
        Task<PluginClient> ready;
        lock (_gate)
        {
            ready = _ready.Task;
        }

        return await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Unavailable from the moment the process exits, not from the next keep-alive tick; the exception says why.</remarks>
    public override Exception? CheckReady()
    {
        if (base.CheckReady() is { } notRunning)
        {
            return notRunning;
        }

        var client = Client;
        return client switch
        {
            null => new PluginUnavailableException(Name, _lastError ?? "not launched yet"),
            { Exited.IsCompleted: true } => new PluginUnavailableException(Name, Exit(client)),
            _ => null,
        };
    }

    private static string Exit(PluginClient client) => $"exited with code {client.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}";

    /// <inheritdoc />
    protected override Task OnStartAsync(CancellationToken cancellationToken)
    {
        _keepAlive.Start();
        _keepAlive.WakeUp(); // check (and launch) at once
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _keepAlive.StopAsync().ConfigureAwait(false);
        PluginClient? client;
        lock (_gate)
        {
            client = _client;
            _client = null;
            if (!_ready.TrySetException(new PluginUnavailableException(Name, "the service stopped")))
            {
                _ready = NewReady();
                _ready.SetException(new PluginUnavailableException(Name, "the service stopped"));
            }
        }

        if (client is not null)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }

        _metrics.Down();
        _metrics.Dispose();
        if (_registry?.Unregister(Name) == true)
        {
            PluginsLog.Unregistered(_logger, Name);
        }
    }

    private async ValueTask KeepAliveAsync(CancellationToken cancellationToken)
    {
        var current = Client;
        if (current is not null && !current.Exited.IsCompleted)
        {
            var passed = await current.PingAsync(_options.HealthTimeout, cancellationToken).ConfigureAwait(false);
            _metrics.HealthChecked(passed);
            if (passed)
            {
                if (_failedChecks > 0)
                {
                    PluginsLog.Healthy(_logger, Name, _failedChecks);
                    _failedChecks = 0;
                }

                return;
            }

            if (current.Exited.IsCompleted)
            {
                // It exited during the check: that is the reason, below.
            }
            else if (++_failedChecks < _options.UnhealthyThreshold)
            {
                PluginsLog.CheckFailed(_logger, Name, _failedChecks, _options.UnhealthyThreshold, _options.HealthTimeout);
                return;
            }
        }

        if (current is not null)
        {
            _lastError = current.Exited.IsCompleted ? Exit(current) : $"failed {_failedChecks} health checks in a row";
            _failedChecks = 0;
            PluginsLog.Relaunching(_logger, Name, _lastError);
            _metrics.Relaunching();
            lock (_gate)
            {
                _client = null;
                if (_ready.Task.IsCompleted)
                {
                    _ready = NewReady();
                }
            }

            await current.DisposeAsync().ConfigureAwait(false);

            // The first relaunch is at once. A plugin that did not stay up since is not relaunched back to back: the waits
            // double while it keeps failing.
            if (_timeProvider.GetElapsedTime(_launchedAt) < _options.MaxRelaunchBackoff)
            {
                var quick = _quickRelaunches++;
                if (quick > 0)
                {
                    await Task.Delay(Backoff(quick - 1), _timeProvider, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                _quickRelaunches = 0;
            }
        }

        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // A completed handshake is a launch; health is the keep-alive's job from the next tick on.
                var client = await PluginClient.StartAsync(_command(), _handshake, _options.Client, _pluginLogger, Name, cancellationToken).ConfigureAwait(false);

                Interlocked.Increment(ref _launches);
                _launchedAt = _timeProvider.GetTimestamp();
                _metrics.Launched();

                // An exit is acted on at once (relaunch, readiness), not at the next keep-alive tick.
                _ = client.Exited.ContinueWith(_ => _keepAlive.WakeUp(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                lock (_gate)
                {
                    _client = client;
                    _lastError = null;
                    _ready.TrySetResult(client);
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Any failure of a launch is a failed launch: logged, counted and backed off, never a fresh process
                // on every keep-alive tick.
                _lastError = ex.Message;
                _metrics.LaunchFailed();
                var backoff = Backoff(failures++);
                PluginsLog.LaunchFailed(_logger, Name, ex.Message, backoff);
                await Task.Delay(backoff, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The wait before try <paramref name="attempt"/> + 1 of a row: RelaunchBackoff, doubling, capped at MaxRelaunchBackoff.</summary>
    private TimeSpan Backoff(int attempt) => DoublingDelay.After(attempt, _options.RelaunchBackoff, _options.MaxRelaunchBackoff);

    private static TaskCompletionSource<PluginClient> NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
