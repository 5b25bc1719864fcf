using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins.Sdk;

/// <summary>
/// Ends a .NET plugin when its host is gone: a host that was SIGKILLed cannot shut its plugins down, and a plugin left
/// running holds its port, its socket and whatever it was doing. The parent pid is read at start and looked at once a
/// second; when the plugin has been re-parented (to init or a subreaper), the host is gone and the plugin stops.
/// </summary>
internal sealed partial class HostWatch : IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    private HostWatch(int host, TimeSpan interval, IHostApplicationLifetime lifetime, ILogger logger) =>
        _ = WatchAsync(host, interval, lifetime, logger, _stop.Token);

    /// <summary>The host's pid, read first thing at start (the host may be killed while the plugin starts); 0 on Windows.</summary>
    public static int Host() => OperatingSystem.IsWindows() ? 0 : GetParentPid();

    /// <summary>
    /// Starts watching <paramref name="host"/> (from <see cref="Host"/>); null when there is nothing to watch (no parent
    /// but init, Windows, or turned off). A host already gone stops the plugin at the first look.
    /// </summary>
    public static HostWatch? Start(int host, TimeSpan interval, IHostApplicationLifetime lifetime, ILogger logger) =>
        host <= 1 || interval <= TimeSpan.Zero ? null : new HostWatch(host, interval, lifetime, logger);

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private static async Task WatchAsync(int host, TimeSpan interval, IHostApplicationLifetime lifetime, ILogger logger, CancellationToken cancellationToken)
    {
        // Real time: this bounds how long an orphaned plugin lives, it is not a delay anything waits on.
        using var timer = new PeriodicTimer(interval, TimeProvider.System);
        try
        {
            do
            {
                if (GetParentPid() != host)
                {
                    PluginSdkLog.HostGone(logger, host);
                    lifetime.StopApplication();
                    return;
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentPid();
}
