using System.Net;
using System.Net.Sockets;

namespace Loop.Plugins;

/// <summary>
/// Hands out Prometheus ports for plugins, by default from <see cref="PluginPorts.PrometheusFirst"/> to
/// <see cref="PluginPorts.PrometheusLast"/> (clear of the TCP plugins' gRPC ports and of the ephemeral range),
/// consecutively, each checked bindable on 127.0.0.1 when taken (a busy one is skipped). A returned port is
/// quarantined for <see cref="Quarantine"/> so a plugin still shutting down cannot collide with its successor.
/// </summary>
internal sealed class PortPool
{
    private readonly Lock _gate = new();
    private readonly Queue<(int Port, long ReturnedAt)> _returned = new();
    private readonly HashSet<int> _inUse = [];
    private readonly TimeProvider _timeProvider;
    private int _next;

    /// <summary>Creates a pool over [<paramref name="firstPort"/>, <paramref name="lastPort"/>].</summary>
    public PortPool(int firstPort = PluginPorts.PrometheusFirst, int lastPort = PluginPorts.PrometheusLast, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstPort, 1024);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lastPort, 65_535);
        ArgumentOutOfRangeException.ThrowIfLessThan(lastPort, firstPort);
        FirstPort = firstPort;
        LastPort = lastPort;
        _next = firstPort;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The lowest port handed out.</summary>
    public int FirstPort { get; }

    /// <summary>The highest port handed out.</summary>
    public int LastPort { get; }

    /// <summary>How long a returned port rests before it is handed out again. Default 5 s.</summary>
    public TimeSpan Quarantine { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Takes a free port.</summary>
    /// <exception cref="InvalidOperationException">No port in the range is free.</exception>
    public int Take()
    {
        lock (_gate)
        {
            // Fresh ports first, in order; then returned ports whose quarantine is over.
            for (var tried = 0; tried <= LastPort - FirstPort; tried++)
            {
                var port = _next;
                _next = _next == LastPort ? FirstPort : _next + 1;
                if (!_inUse.Contains(port) && !_returned.Any(r => r.Port == port) && IsFree(port))
                {
                    _inUse.Add(port);
                    return port;
                }
            }

            var count = _returned.Count;
            for (var i = 0; i < count; i++)
            {
                var (port, at) = _returned.Dequeue();
                if (_timeProvider.GetElapsedTime(at) >= Quarantine && IsFree(port))
                {
                    _inUse.Add(port);
                    return port;
                }

                _returned.Enqueue((port, at));
            }

            throw new InvalidOperationException($"failed to get free port: none free in {FirstPort}-{LastPort}");
        }
    }

    /// <summary>Gives a port back; it rests for <see cref="Quarantine"/> first.</summary>
    public void Return(int port)
    {
        lock (_gate)
        {
            if (_inUse.Remove(port))
            {
                _returned.Enqueue((port, _timeProvider.GetTimestamp()));
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
