using System.Net;
using System.Net.Sockets;

namespace Loop.Testing;

/// <summary>Finds free loopback TCP ports.</summary>
public static class FreePort
{
    /// <summary>A port free on 127.0.0.1 right now.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
