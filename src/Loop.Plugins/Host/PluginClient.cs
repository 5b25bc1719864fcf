using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Loop.Plugins.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Plugins;

/// <summary>
/// The host's end of one plugin process over the go-plugin protocol: it launches the process with the handshake
/// variables, reads the handshake line, connects gRPC to the plugin's socket, forwards the plugin's stderr (hclog) to the
/// logger, and stops it gracefully. Works with .NET plugins built on Loop.Plugins.Sdk's <c>LoopPluginServer</c> and Go plugins.
/// </summary>
public sealed partial class PluginClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly PluginClientOptions _options;
    private readonly AsyncDuplexStreamingCall<ConnInfo, ConnInfo> _broker;
    private readonly CancellationTokenSource _stdioStop = new();
    private readonly Task _brokerReader;
    private readonly Task _stdio;
    private int _killed;
    private int? _exitCode;

    private readonly GrpcChannel _channel;

    private PluginClient(string name, Process process, Task exited, HandshakeLine handshake, GrpcChannel channel, TimeSpan callTimeoutFloor, PeerTls? tls, PluginClientOptions options, ILogger logger)
    {
        Name = name;
        Broker = new PluginBroker(tls);
        _process = process;
        Handshake = handshake;
        _channel = channel;
        Channel = new FlooredChannel(channel, new DeadlineFloorInterceptor(callTimeoutFloor, TimeProvider.System));
        CallTimeoutFloor = callTimeoutFloor;
        _options = options;
        _logger = logger;
        ProcessId = process.Id;

        // The exit code is read as the exit is seen, so it is still known after the process object is disposed.
        Exited = exited.ContinueWith(
            _ =>
            {
                try
                {
                    _exitCode = process.ExitCode;
                }
                catch (InvalidOperationException)
                {
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        // Go plugins block their broker sends until the host opens this stream.
        _broker = new GRPCBroker.GRPCBrokerClient(channel).StartStream(cancellationToken: _stdioStop.Token);
        Broker.Attach(info => _broker.RequestStream.WriteAsync(info));
        _brokerReader = ReadBrokerAsync();

        // Plugins that forward their console (go-plugin ≥ 1.1, Loop's SDK) block when nobody drains it.
        _stdio = DrainStdioAsync(_stdioStop.Token);
    }

    /// <summary>The plugin's name: the registered name under supervision, else its executable's base name.</summary>
    public string Name { get; }

    /// <summary>The call timeout floor <paramref name="options"/> give, or the environment's, or the default.</summary>
    /// <exception cref="LoopEnvironmentException">The variable is set and not a positive duration.</exception>
    internal static TimeSpan CallTimeoutFloorOf(PluginClientOptions options) =>
        options.CallTimeoutFloor is { } set ? new RpcTimeoutFloor(set).Floor : RpcTimeoutFloor.FromEnvironment().Floor;

    /// <summary>The handshake the plugin printed.</summary>
    public HandshakeLine Handshake { get; }

    /// <summary>The connection broker: serve sub-services to the plugin, or dial the ones it serves.</summary>
    public PluginBroker Broker { get; }

    /// <summary>The gRPC channel to the plugin's services.</summary>
    /// <remarks>
    /// Every call made on it has a deadline at least <see cref="CallTimeoutFloor"/> away (see
    /// <see cref="PluginClientOptions.CallTimeoutFloor"/>).
    /// </remarks>
    public ChannelBase Channel { get; }

    /// <summary>The shortest deadline of a call on <see cref="Channel"/>.</summary>
    public TimeSpan CallTimeoutFloor { get; }

    /// <summary>The plugin's process id (kept after the process is gone).</summary>
    public int ProcessId { get; }

    /// <summary>Completes when the plugin process exits (not waiting for output a child of it may hold open).</summary>
    public Task Exited { get; }

    /// <summary>The plugin's exit code once it has exited (128 + the signal when a signal ended it), else null.</summary>
    public int? ExitCode => _exitCode;

    /// <summary>Launches a plugin and completes its handshake.</summary>
    /// <param name="start">The process start (from <see cref="LoopCommands.RegisterLoop"/>); handshake variables are added.</param>
    /// <param name="handshake">The cookie and the versions the host speaks.</param>
    /// <param name="options">Timeouts and the port range.</param>
    /// <param name="logger">Receives the plugin's stderr, by level.</param>
    /// <param name="name">The plugin's name in every log line about it (the registered name); the executable's base name when null.</param>
    /// <param name="cancellationToken">Cancels the start (the process is killed).</param>
    /// <exception cref="PluginHandshakeException">Exited early, timed out, bad line, incompatible version.</exception>
    /// <exception cref="LoopEnvironmentException"><c>CL_MIN_OCR2_MAX_DURATION_QUERY</c> is set and not a positive duration (nothing started).</exception>
    public static async Task<PluginClient> StartAsync(
        ProcessStartInfo start, HandshakeConfig handshake, PluginClientOptions? options = null, ILogger? logger = null, string? name = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(handshake);
        options ??= new PluginClientOptions();
        logger ??= NullLogger.Instance;
        var callTimeoutFloor = CallTimeoutFloorOf(options);
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment[handshake.MagicCookieKey] = handshake.MagicCookieValue;
        start.Environment["PLUGIN_MIN_PORT"] = options.MinPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["PLUGIN_MAX_PORT"] = options.MaxPort.ToString(CultureInfo.InvariantCulture);
        start.Environment[HandshakeConfig.ProtocolVersionsVariable] = string.Join(',', handshake.ProtocolVersions);
        start.Environment[PluginLogLevel.Variable] = PluginLogLevel.For(logger);
        var clientCertificate = options.AutoMtls ? AutoMtls.CreateCertificate() : null;
        if (clientCertificate is not null)
        {
            start.Environment[AutoMtls.ClientCertVariable] = AutoMtls.ToPem(clientCertificate);
        }

        name ??= Path.GetFileName(start.FileName);
        var process = new Process { StartInfo = start };
        var stderr = new HclogReader();
        var tail = new StderrTail();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                var entry = stderr.Read(line);
                tail.Add(entry.Message);
                LogPluginLine(logger, entry, name);
            }
        };
        var exited = Loop.Processes.ProcessExit.StartWatched(process);
        process.BeginErrorReadLine();

        try
        {
            var line = await ReadHandshakeAsync(process, exited, name, options.StartTimeout, cancellationToken).ConfigureAwait(false);
            if (!handshake.ProtocolVersions.Contains(line.AppProtocolVersion))
            {
                throw new PluginHandshakeException(
                    $"Incompatible API version with plugin. Plugin version: {line.AppProtocolVersion}, Client versions: [{string.Join(' ', handshake.ProtocolVersions)}]");
            }

            if (clientCertificate is not null && line.ServerCertificate is null)
            {
                throw new PluginHandshakeException("AutoMTLS was requested but the plugin returned no certificate");
            }

            if (clientCertificate is null && line.ServerCertificate is not null)
            {
                throw new PluginHandshakeException("the plugin returned a TLS certificate but AutoMTLS is off for it");
            }

            // After the handshake, anything the plugin prints on stdout is only logged.
            _ = DrainStdoutAsync(process, name, logger);
            var tls = clientCertificate is null ? null : new PeerTls(clientCertificate, line.ServerCertificate!);
            var channel = PluginChannels.Create(line.Network, line.Address, tls);
            PluginsLog.Started(logger, name, process.Id, line.Address, line.AppProtocolVersion);
            return new PluginClient(name, process, exited, line, channel, callTimeoutFloor, tls, options, logger);
        }
        catch (Exception ex)
        {
            // Whatever failed once the process was started, the process must not outlive the failed start.
            KillProcess(process);
            if (ex is OperationCanceledException)
            {
                throw;
            }

            // What the plugin said last is usually why it failed: it goes with the failure, not only to Debug. A plugin
            // that exited may still have lines in the pipe: read them, briefly.
            if (exited.IsCompleted)
            {
                await Task.WhenAny(process.WaitForExitAsync(CancellationToken.None), Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false);
            }

            var reason = ex is PluginHandshakeException ? ex.Message : $"plugin {name} could not be connected: {ex.Message}";
            throw new PluginHandshakeException(tail.Describe() is { } said ? $"{reason}; its last stderr lines: {said}" : reason, ex);
        }
    }

    /// <summary>Checks the plugin's <c>grpc.health.v1</c> status of service <c>plugin</c>.</summary>
    public async Task<bool> PingAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (Exited.IsCompleted)
        {
            return false;
        }

        try
        {
            var reply = await new Health.HealthClient(_channel)
                .CheckAsync(new HealthCheckRequest { Service = "plugin" }, deadline: Deadline(timeout), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>Stops the plugin: Shutdown over gRPC (errors ignored), then SIGKILL if it has not exited within the timeout.</summary>
    public async Task KillAsync()
    {
        if (Interlocked.Exchange(ref _killed, 1) == 1)
        {
            await Exited.ConfigureAwait(false);
            return;
        }

        try
        {
            await _broker.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
        {
        }

        _broker.Dispose();
        try
        {
            await new GRPCController.GRPCControllerClient(_channel)
                .ShutdownAsync(new Protocol.Empty(), deadline: Deadline(_options.GracefulKillTimeout))
                .ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // A Go plugin exits before replying.
        }

        try
        {
            await Exited.WaitAsync(_options.GracefulKillTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            PluginsLog.Killed(_logger, Name, _process.Id);
            KillProcess(_process);
            await Exited.ConfigureAwait(false);
        }

        await _stdioStop.CancelAsync().ConfigureAwait(false);
        await _stdio.ConfigureAwait(false);
        await _brokerReader.ConfigureAwait(false);
        await Broker.DisposeAsync().ConfigureAwait(false);
        _stdioStop.Dispose();
        _channel.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process.Dispose();
    }

    // gRPC deadlines are wall-clock instants: they bound real network calls, not test time.
    private static DateTime Deadline(TimeSpan timeout) => TimeProvider.System.GetUtcNow().UtcDateTime + timeout;

    private static async Task<HandshakeLine> ReadHandshakeAsync(Process process, Task exited, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var read = process.StandardOutput.ReadLineAsync(cancellationToken).AsTask();
        var first = await Task.WhenAny(read, exited, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first == read && await read.ConfigureAwait(false) is { } line)
        {
            return HandshakeLine.Parse(line);
        }

        if (first == exited || first == read)
        {
            // stdout can close a moment before the process is reaped: wait briefly so the exit code is known.
            try
            {
                await exited.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new PluginHandshakeException($"plugin {name} closed its stdout before the handshake");
            }

            throw new PluginHandshakeException($"plugin {name} exited before we could connect (exit code {process.ExitCode})");
        }

        throw new PluginHandshakeException($"timeout while waiting for plugin {name} to start ({timeout})");
    }

    private async Task ReadBrokerAsync()
    {
        try
        {
            while (await _broker.ResponseStream.MoveNext(_stdioStop.Token).ConfigureAwait(false))
            {
                Broker.OnReceived(_broker.ResponseStream.Current);
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The plugin went away or is being stopped.
        }
    }

    private async Task DrainStdioAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var call = new GRPCStdio.GRPCStdioClient(_channel).StreamStdio(new Google.Protobuf.WellKnownTypes.Empty(), cancellationToken: cancellationToken);
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                var data = call.ResponseStream.Current;
                foreach (var line in data.Data.ToStringUtf8().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    PluginsLog.Stdio(_logger, Name, data.Channel == StdioData.Types.Channel.Stderr ? "stderr" : "stdout", line.TrimEnd('\r'));
                }
            }
        }
        catch (RpcException)
        {
            // Unimplemented (go-plugin 1.0.x), or the plugin went away.
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task DrainStdoutAsync(Process process, string name, ILogger logger)
    {
        try
        {
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                PluginsLog.Plugin(logger, LogLevel.Debug, name, line);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private static void KillProcess(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    /// <summary>A stderr line of the plugin, with its hclog keys as structured state.</summary>
    private static void LogPluginLine(ILogger logger, HclogEntry entry, string name)
    {
        if (logger.IsEnabled(entry.Level))
        {
            logger.Log(entry.Level, new EventId(410, "PluginLog"), new PluginLogState(name, entry.Message, entry.Fields), null, static (state, _) => state.ToString());
        }
    }
}
