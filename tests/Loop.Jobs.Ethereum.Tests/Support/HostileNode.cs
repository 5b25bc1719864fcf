using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Loop.Testing;

namespace Loop.Jobs.Ethereum.Tests;

/// <summary>A node that misbehaves on a loopback port: one that completes the WebSocket handshake and then never answers, or one that answers with garbage.</summary>
public sealed class HostileNode : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<TcpClient> _clients = [];
    private readonly Task _accepting;
    private readonly byte[]? _reply;

    private HostileNode(byte[]? reply)
    {
        _reply = reply;
        Port = FreePort.Next();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public Uri Url => new($"ws://127.0.0.1:{Port}");

    /// <summary>Connections accepted so far.</summary>
    public int Connections { get; private set; }

    /// <summary>Accepts the WebSocket and is silent from then on.</summary>
    public static HostileNode Silent() => new(null);

    /// <summary>Accepts the WebSocket and answers every message with <paramref name="reply"/>.</summary>
    public static HostileNode Answering(string reply) => new(Encoding.UTF8.GetBytes(reply));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        lock (_clients)
        {
            _clients.ForEach(c => c.Dispose());
        }

        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            lock (_clients)
            {
                _clients.Add(client);
                Connections++;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, _stopping.Token);
                if (read == 0)
                {
                    return;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            var key = request.ToString().Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
            var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), _stopping.Token);
            while (await stream.ReadAsync(buffer, _stopping.Token) > 0)
            {
                if (_reply is not null)
                {
                    // One unmasked text frame (a server's frames are not masked).
                    var frame = new List<byte> { 0x81 };
                    frame.AddRange(_reply.Length < 126 ? [(byte)_reply.Length] : [126, (byte)(_reply.Length >> 8), (byte)_reply.Length]);
                    frame.AddRange(_reply);
                    await stream.WriteAsync(frame.ToArray(), _stopping.Token);
                }
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
    }
}
