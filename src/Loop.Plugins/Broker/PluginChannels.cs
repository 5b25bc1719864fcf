using Grpc.Net.Client;

namespace Loop.Plugins;

/// <summary>gRPC channels to a plugin endpoint (<c>unix</c> socket path or <c>tcp</c> address), plain or AutoMTLS.</summary>
internal static class PluginChannels
{
    public static GrpcChannel Create(string network, string address, PeerTls? tls = null)
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        var scheme = "http";
        if (tls is not null)
        {
            scheme = "https";
            handler.SslOptions = tls.Client();
        }

        if (network == "unix")
        {
            handler.ConnectCallback = (_, token) => Loop.Networking.UnixSockets.ConnectAsync(address, token);
        }

        var target = network == "unix" ? $"{scheme}://localhost" : $"{scheme}://{address}";
        return GrpcChannel.ForAddress(target, new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = int.MaxValue, MaxSendMessageSize = int.MaxValue });
    }

    /// <summary>A fresh socket path as go-plugin makes them: <c>&lt;dir&gt;/plugin&lt;digits&gt;</c>.</summary>
    public static string NewSocketPath(string? directory = null) =>
        Path.Combine(directory ?? Path.GetTempPath(), "plugin" + Random.Shared.NextInt64(1_000_000_000, 9_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture));
}
