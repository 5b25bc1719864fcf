using System.Net;
using System.Net.Sockets;

namespace Loop.Testing;

/// <summary>
/// A loopback port in front of a real server that a test opens late, closes and opens again: while closed, connections
/// are refused (a database or ingress that is down); while open, bytes are copied both ways; while stalled
/// (<see cref="Stall"/>), connections are accepted and never answered (a server that hangs).
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _accepting;
    private Task? _acceptLoop;

    public TcpForwarder(IPEndPoint target, int? port = null)
    {
        _target = target;
        Port = port ?? FreePort.Next();
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Whether the port hangs: new connections are accepted and never answered.</summary>
    public bool Stalled { get; private set; }

    /// <summary>Drops every connection and hangs every new one until <see cref="Resume"/>.</summary>
    public void Stall()
    {
        Stalled = true;
        DropConnections();
    }

    /// <summary>Forwards new connections again (and drops the hanging ones).</summary>
    public void Resume()
    {
        Stalled = false;
        DropConnections();
    }

    /// <summary>Starts accepting and forwarding.</summary>
    public void Open()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _accepting = new CancellationTokenSource();
        var token = _accepting.Token;
        var listener = _listener;
        _acceptLoop = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(token);
                }
                catch (Exception) when (token.IsCancellationRequested)
                {
                    return;
                }

                _ = ForwardAsync(client, token);
            }
        });
    }

    /// <summary>Stops accepting and drops every forwarded connection.</summary>
    public async Task CloseAsync()
    {
        if (_listener is null)
        {
            return;
        }

        await _accepting!.CancelAsync();
        _listener.Stop();
        _listener = null;
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }

        DropConnections();
        _accepting.Dispose();
    }

    private void DropConnections()
    {
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }

            _connections.Clear();
        }
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    private async Task ForwardAsync(TcpClient client, CancellationToken token)
    {
        var upstream = new TcpClient();
        lock (_connections)
        {
            _connections.Add(client);
            _connections.Add(upstream);
        }

        try
        {
            if (Stalled)
            {
                // Accepted, read, never answered.
                await client.GetStream().CopyToAsync(Stream.Null, token);
                return;
            }

            await upstream.ConnectAsync(_target, token);
            var a = client.GetStream();
            var b = upstream.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, token), b.CopyToAsync(a, token));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A dropped connection is what a test closing the port asks for.
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
        }
    }
}
