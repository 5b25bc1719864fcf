using System.Net.Sockets;

namespace Loop.Networking;

/// <summary>Connects HTTP/2 clients (gRPC, JSON-RPC) to Unix domain sockets, for <c>SocketsHttpHandler.ConnectCallback</c>.</summary>
internal static class UnixSockets
{
    /// <summary>Opens a stream to the Unix domain socket at <paramref name="path"/>.</summary>
    public static async ValueTask<Stream> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
