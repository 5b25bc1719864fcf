using System.Diagnostics;
using Loop.Visor.Running;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Visor;

/// <summary>
/// Runs the processes of a <see cref="RunConfig"/> as a tied set: each one's stdout and stderr go to the logger line
/// by line under its name; when any exits, with an error or not, the others are stopped and the run ends.
/// </summary>
public sealed partial class BinariesRunner : IBinariesRunner
{
    private readonly BinariesRunnerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _gate = new();
    private List<(ProcessSpec Spec, Process Process)> _running = [];

    /// <summary>Creates a runner.</summary>
    public BinariesRunner(BinariesRunnerOptions? options = null, ILogger<BinariesRunner>? logger = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new BinariesRunnerOptions();
        _logger = logger ?? NullLogger<BinariesRunner>.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The process ids of the running set (empty when nothing runs).</summary>
    public IReadOnlyList<int> ProcessIds
    {
        get
        {
            lock (_gate)
            {
                return _running.Where(r => !HasExited(r.Process)).Select(r => r.Process.Id).ToArray();
            }
        }
    }

    /// <summary>Raised after every process of a run has started.</summary>
    public event Action<RunConfig>? Started;

    /// <inheritdoc />
    /// <exception cref="VisorBinaryException">A binary is missing or not executable; nothing was started.</exception>
    public async Task<BinariesExit> RunAsync(RunConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var spec in config.Processes)
        {
            Check(spec);
        }

        var running = new List<(ProcessSpec Spec, Process Process)>();
        try
        {
            foreach (var spec in config.Processes)
            {
                running.Add((spec, await TextFileBusy.RetryAsync(() => Start(spec)).ConfigureAwait(false)));
            }
        }
        catch
        {
            KillAll(running);
            throw;
        }

        lock (_gate)
        {
            _running = running;
        }

        Started?.Invoke(config);
        var exits = running.Select(r => r.Process.WaitForExitAsync(CancellationToken.None)).ToArray();
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        var first = await Task.WhenAny([.. exits, cancelled]).ConfigureAwait(false);
        if (first == cancelled)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            return new BinariesExit(running[0].Spec.Name, ExitCode(running[0].Process), Stopped: true);
        }

        var (exitedSpec, exited) = running[Array.IndexOf(exits, first)];
        var code = ExitCode(exited);
        LogExited(_logger, exitedSpec.Name, exited.Id, code);

        // Tied: the rest go down with it, and the set is restarted or switched together.
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        return new BinariesExit(exitedSpec.Name, code, Stopped: false);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        List<(ProcessSpec Spec, Process Process)> running;
        lock (_gate)
        {
            running = _running;
        }

        if (running.All(r => HasExited(r.Process)))
        {
            return;
        }

        if (_options.StopDelay > TimeSpan.Zero)
        {
            await Task.Delay(_options.StopDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (spec, process) in running.Where(r => !HasExited(r.Process)))
        {
            LogStopping(_logger, spec.Name, process.Id);
            Posix.Terminate(process.Id);
        }

        var allExited = Task.WhenAll(running.Select(r => r.Process.WaitForExitAsync(CancellationToken.None)));
        try
        {
            await allExited.WaitAsync(_options.StopTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (var (spec, process) in running.Where(r => !HasExited(r.Process)))
            {
                LogKilling(_logger, spec.Name, process.Id, _options.StopTimeout);
            }

            KillAll(running);
            await allExited.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Kill()
    {
        lock (_gate)
        {
            KillAll(_running);
        }
    }

    /// <summary>Throws <see cref="VisorBinaryException"/> unless the binary exists, is a file and is executable.</summary>
    internal static void Check(ProcessSpec spec)
    {
        if (Directory.Exists(spec.Path))
        {
            throw new VisorBinaryException(spec.Name, spec.Path, "is a folder, not a binary");
        }

        if (!File.Exists(spec.Path))
        {
            throw new VisorBinaryException(spec.Name, spec.Path, "does not exist");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(spec.Path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            throw new VisorBinaryException(spec.Name, spec.Path, "is not executable (chmod +x)");
        }
    }

    private Process Start(ProcessSpec spec)
    {
        var start = new ProcessStartInfo(spec.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(spec.Path)!,
        };
        foreach (var arg in spec.Args)
        {
            start.ArgumentList.Add(arg);
        }

        if (!_options.InheritEnvironment)
        {
            start.Environment.Clear();
        }

        foreach (var (key, value) in spec.Environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var name = spec.Name;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                LogStdout(_logger, name, line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                LogStderr(_logger, name, line);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        LogStarted(_logger, name, process.Id, spec.Path);
        return process;
    }

    private static void KillAll(List<(ProcessSpec Spec, Process Process)> running)
    {
        foreach (var (_, process) in running)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }
        }
    }

    private static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static int ExitCode(Process process) => HasExited(process) ? process.ExitCode : -1;

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "[{Process}] started (pid {Pid}): {Path}")]
    private static partial void LogStarted(ILogger logger, string process, int pid, string path);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "[{Process}] {Line}")]
    private static partial void LogStdout(ILogger logger, string process, string line);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "[{Process}] {Line}")]
    private static partial void LogStderr(ILogger logger, string process, string line);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "[{Process}] exited (pid {Pid}) with code {Code}; stopping the rest of the set")]
    private static partial void LogExited(ILogger logger, string process, int pid, int code);

    [LoggerMessage(EventId = 205, Level = LogLevel.Information, Message = "[{Process}] stopping (pid {Pid}): SIGTERM")]
    private static partial void LogStopping(ILogger logger, string process, int pid);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "[{Process}] still running {Timeout} after SIGTERM (pid {Pid}): SIGKILL")]
    private static partial void LogKilling(ILogger logger, string process, int pid, TimeSpan timeout);
}
