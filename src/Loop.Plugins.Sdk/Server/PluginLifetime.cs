using Microsoft.Extensions.Hosting;

namespace Loop.Plugins.Sdk;

/// <summary>
/// The lifetime of a plugin served without the ASP.NET Core host: the same three events, so the protocol services and
/// the plugin's own services that take <see cref="IHostApplicationLifetime"/> work on either server.
/// </summary>
internal sealed class PluginLifetime : IHostApplicationLifetime, IDisposable
{
    private readonly CancellationTokenSource _started = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _stopped = new();

    public CancellationToken ApplicationStarted => _started.Token;

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => _stopped.Token;

    public void StopApplication() => Notify(_stopping);

    public void NotifyStarted() => Notify(_started);

    public void NotifyStopped() => Notify(_stopped);

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
        _stopped.Dispose();
    }

    private static void Notify(CancellationTokenSource source)
    {
        // Callbacks run on the caller (a signal handler, the controller's reply completion); a second call is a no-op.
        lock (source)
        {
            if (!source.IsCancellationRequested)
            {
                source.Cancel();
            }
        }
    }
}
