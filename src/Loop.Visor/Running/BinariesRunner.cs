using System.Diagnostics;
using Loop.Visor.Running;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Visor;

/// <summary>
/// Runs the processes of a <see cref="RunConfig"/> as a tied set: each one's stdout and stderr go to the logger line
/// by line under its name; when any exits, with an error or not, the others are stopped and the run ends.
/// </summary>
/// <remarks>
/// Each process runs in a process group of its own (started through <c>setsid</c>), and stopping or killing signals the
/// whole group: a node started by a wrapper script that does not <c>exec</c> is stopped together with everything it
/// started. Waits for a stopped process end when it and its group are gone, not when its output pipes close (a
/// grandchild may hold them open forever).
/// </remarks>
public sealed partial class BinariesRunner : IBinariesRunner
{
    /// <summary>How often a group is looked at while members other than its leader are still stopping.</summary>
    private static readonly TimeSpan GroupPollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How long to wait for a SIGKILLed process to be reaped before giving up on it (it is in the kernel's hands).</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    private readonly BinariesRunnerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _gate = new();
    private List<Child> _running = [];

    /// <summary>Creates a runner.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is out of range (every one named).</exception>
    public BinariesRunner(BinariesRunnerOptions? options = null, ILogger<BinariesRunner>? logger = null, TimeProvider? timeProvider = null)
    {
        _options = Loop.Options.OptionsCheck.Require(options ?? new BinariesRunnerOptions(), string.Empty, new BinariesRunnerOptionsValidator());
        _logger = logger ?? NullLogger<BinariesRunner>.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The process ids of the running set (empty when nothing runs).</summary>
    public IReadOnlyList<int> ProcessIds => RunningProcesses.Select(p => p.Pid).ToArray();

    /// <summary>The running processes of the set: name, pid and start time.</summary>
    internal IReadOnlyList<RunningProcess> RunningProcesses
    {
        get
        {
            lock (_gate)
            {
                return _running.Where(r => !r.Exited.IsCompleted).Select(r => new RunningProcess(r.Spec.Name, r.Pid, r.StartedAt)).ToArray();
            }
        }
    }

    /// <summary>Raised after every process of a run has started (for the state file).</summary>
    internal event Action<IReadOnlyList<RunningProcess>>? SetStarted;

    /// <inheritdoc />
    /// <exception cref="VisorBinaryException">A binary is missing or not executable; nothing was started.</exception>
    public async Task<BinariesExit> RunAsync(RunConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var spec in config.Processes)
        {
            Check(spec);
        }

        var running = new List<Child>();
        try
        {
            foreach (var spec in config.Processes)
            {
                running.Add(await TextFileBusy.RetryAsync(() => Start(spec)).ConfigureAwait(false));
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

        SetStarted?.Invoke(RunningProcesses);
        var exits = running.Select(r => r.Exited).ToArray();
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        var first = await Task.WhenAny([.. exits, cancelled]).ConfigureAwait(false);
        if (first == cancelled)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            return new BinariesExit(running[0].Spec.Name, ExitCode(running[0].Process), Stopped: true);
        }

        var exited = running[Array.IndexOf(exits, first)];
        var code = ExitCode(exited.Process);
        VisorLog.Exited(_logger, exited.Spec.Name, exited.Pid, code);

        // Tied: the rest go down with it (and whatever the exited one left in its group), and the set is restarted or
        // switched together.
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        return new BinariesExit(exited.Spec.Name, code, Stopped: false);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        List<Child> running;
        lock (_gate)
        {
            running = _running;
        }

        if (AllGone(running))
        {
            return;
        }

        if (_options.StopDelay > TimeSpan.Zero)
        {
            await Task.Delay(_options.StopDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
        }

        foreach (var child in running)
        {
            if (!child.Exited.IsCompleted)
            {
                VisorLog.Stopping(_logger, child.Spec.Name, child.Pid);
            }

            if (child.OwnGroup)
            {
                Posix.SignalGroup(child.Pid, Posix.SigTerm);
            }
            else if (!child.Exited.IsCompleted)
            {
                Posix.Terminate(child.Pid);
            }
        }

        if (await WaitGoneAsync(running, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        foreach (var child in running.Where(r => !r.Exited.IsCompleted || (r.OwnGroup && Posix.GroupHasLiveMembers(r.Pid))))
        {
            VisorLog.Killing(_logger, child.Spec.Name, child.Pid, _options.StopTimeout);
        }

        KillAll(running);
        var leaders = Task.WhenAll(running.Select(r => r.Exited));
        if (await Task.WhenAny(leaders, Task.Delay(KillWait, _timeProvider, CancellationToken.None)).ConfigureAwait(false) != leaders)
        {
            VisorLog.NotReaped(_logger, KillWait);
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

    /// <summary>
    /// Waits until every process has exited and its group is empty, up to the stop timeout (or cancellation). The
    /// leaders are Visor's children and signal their exit; the rest of a group is not, so it is looked at in short steps.
    /// </summary>
    private async Task<bool> WaitGoneAsync(List<Child> running, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = Task.Delay(_options.StopTimeout, _timeProvider, timeout.Token);
        try
        {
            var leaders = Task.WhenAll(running.Select(r => r.Exited));
            await Task.WhenAny(leaders, deadline).ConfigureAwait(false);
            while (!AllGone(running))
            {
                if (deadline.IsCompleted)
                {
                    return false;
                }

                await Task.WhenAny(deadline, Task.Delay(GroupPollInterval, CancellationToken.None)).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            await timeout.CancelAsync().ConfigureAwait(false);
        }
    }

    private static bool AllGone(List<Child> running) =>
        running.All(r => r.Exited.IsCompleted && !(r.OwnGroup && Posix.GroupHasLiveMembers(r.Pid)));

    private Child Start(ProcessSpec spec)
    {
        var setsid = ProcessGroups.Setsid;
        var start = new ProcessStartInfo(setsid ?? spec.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(spec.Path)!,
        };
        if (setsid is not null)
        {
            // setsid(1) makes the child a session and group leader and then execs the binary: same pid, own group.
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(spec.Path);
        }
        else
        {
            VisorLog.NoProcessGroups(_logger, spec.Name);
        }

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

        var process = new Process { StartInfo = start };
        var name = spec.Name;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                VisorLog.Stdout(_logger, name, line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                VisorLog.Stderr(_logger, name, line);
            }
        };
        var exited = Loop.Processes.ProcessExit.StartWatched(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        VisorLog.Started(_logger, name, process.Id, spec.Path);
        return new Child(spec, process, process.Id, setsid is not null, exited, _timeProvider.GetUtcNow());
    }

    private static void KillAll(List<Child> running)
    {
        foreach (var child in running)
        {
            if (child.OwnGroup)
            {
                Posix.SignalGroup(child.Pid, Posix.SigKill);
            }

            try
            {
                child.Process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already exited.
            }
        }
    }

    private static int ExitCode(Process process)
    {
        try
        {
            return process.HasExited ? process.ExitCode : -1;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    /// <summary>A started process: the pid is kept because <see cref="Process.Id"/> throws once it is disposed or reaped.</summary>
    private sealed record Child(ProcessSpec Spec, Process Process, int Pid, bool OwnGroup, Task Exited, DateTimeOffset StartedAt);

}

/// <summary>A process of the running set, for status.</summary>
internal sealed record RunningProcess(string Name, int Pid, DateTimeOffset StartedAt);
