using System.Collections.Concurrent;
using Grpc.Net.Client;
using Loop.Plugins.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loop.Plugins;

/// <summary>
/// go-plugin's connection broker, on either side of the <c>plugin.GRPCBroker</c> stream: the side that serves a
/// sub-service opens its own socket and announces <c>ConnInfo{id, network, address}</c>; the other side waits for that
/// id (up to 5 s) and dials it. Ids are per side, from 1, and travel inside the application's own messages.
/// Under AutoMTLS, sub-connections use the main connection's certificates, as go-plugin's do.
/// </summary>
public sealed class PluginBroker : IAsyncDisposable
{
    private readonly PeerTls? _tls;
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<ConnInfo>> _announced = new();
    private readonly TaskCompletionSource<Func<ConnInfo, Task>> _sender = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ConcurrentBag<IAsyncDisposable> _served = [];
    private uint _nextId;

    /// <summary>A broker with plain sub-connections.</summary>
    public PluginBroker()
    {
    }

    /// <summary>A broker whose sub-connections use <paramref name="tls"/> (AutoMTLS) when given.</summary>
    internal PluginBroker(PeerTls? tls) => _tls = tls;

    /// <summary>A new id for a sub-service this side will serve.</summary>
    public uint NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Waits for the other side to announce <paramref name="id"/> and returns a channel to it.</summary>
    /// <exception cref="TimeoutException">Nothing was announced under the id within 5 s.</exception>
    public async Task<GrpcChannel> DialAsync(uint id, CancellationToken cancellationToken = default)
    {
        var info = await AnnouncementAsync(id, cancellationToken).ConfigureAwait(false);
        return PluginChannels.Create(info.Network, info.Address, _tls);
    }

    /// <summary>
    /// Serves gRPC services on a new socket under <paramref name="id"/> and announces it to the other side. The server
    /// runs until the broker is disposed (or the returned handle is).
    /// </summary>
    public async Task<IAsyncDisposable> AcceptAndServeAsync(
        uint id, Action<IEndpointRouteBuilder> mapServices, Action<IServiceCollection>? configureServices = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mapServices);
        var socket = PluginChannels.NewSocketPath();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (_tls is not null)
            {
                l.UseHttps(_tls.Server());
            }
        }));
        builder.Services.AddGrpc();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        mapServices(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var served = new ServedSocket(app, socket);
        _served.Add(served);
        await SendAsync(new ConnInfo { ServiceId = id, Network = "unix", Address = socket }, cancellationToken).ConfigureAwait(false);
        return served;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var served in _served)
        {
            await served.DisposeAsync().ConfigureAwait(false);
        }

        _sending.Dispose();
    }

    /// <summary>Waits (up to 5 s) for the other side to announce <paramref name="id"/>.</summary>
    internal async Task<ConnInfo> AnnouncementAsync(uint id, CancellationToken cancellationToken)
    {
        var announced = _announced.GetOrAdd(id, static _ => new TaskCompletionSource<ConnInfo>(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            return await announced.Task.WaitAsync(DialTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timeout waiting for connection info for broker id {id}");
        }
    }

    /// <summary>Connects the broker to its stream: how to send, once the stream is open.</summary>
    internal void Attach(Func<ConnInfo, Task> send) => _sender.TrySetResult(send);

    /// <summary>Records an announcement from the other side.</summary>
    internal void OnReceived(ConnInfo info) =>
        _announced.GetOrAdd(info.ServiceId, static _ => new TaskCompletionSource<ConnInfo>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(info);

    private async Task SendAsync(ConnInfo info, CancellationToken cancellationToken)
    {
        // As go-plugin: announcements wait until the other side has opened the stream.
        var send = await _sender.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await send(info).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    private sealed class ServedSocket(WebApplication app, string socket) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await app.StopAsync().ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
                File.Delete(socket);
            }
        }
    }
}
