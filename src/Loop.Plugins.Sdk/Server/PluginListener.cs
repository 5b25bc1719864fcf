using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Loop.Plugins.Sdk;

/// <summary>
/// The plugin's gRPC listening socket, bound before the server is built. Where the server can adopt a descriptor (not
/// Windows), the handshake line goes out at once and the host's first connection waits in the backlog while the server
/// starts, so the host's connect work and the plugin's start overlap.
/// </summary>
internal sealed partial class PluginListener : IDisposable
{
    private readonly Socket _socket;

    private PluginListener(Socket socket, string network, string address)
    {
        _socket = socket;
        Network = network;
        Address = address;
        EndPoint = socket.LocalEndPoint!;
    }

    /// <summary><c>unix</c> or <c>tcp</c>, as the handshake line names it.</summary>
    public string Network { get; }

    /// <summary>The socket path, or <c>127.0.0.1:port</c>.</summary>
    public string Address { get; }

    /// <summary>Where it listens.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>Whether <see cref="DuplicateHandle"/> works here (Kestrel adopts descriptors on Unix-like systems).</summary>
    public static bool CanHandOver => !OperatingSystem.IsWindows();

    /// <summary>
    /// Listens where go-plugin's server would, given the host's variables. A TCP search passes over
    /// <paramref name="reservedPort"/> (the plugin's Prometheus port: the host's pool handed it out but nothing listens on
    /// it until the metrics server starts; a host may configure its pool and the port range to overlap).
    /// </summary>
    public static PluginListener Open(PluginNetwork network, IReadOnlyDictionary<string, string> env, int? reservedPort) => network switch
    {
        PluginNetwork.Unix => Unix(
            env.GetValueOrDefault("PLUGIN_UNIX_SOCKET_DIR") is { Length: > 0 } d ? d
            : env.GetValueOrDefault("TMPDIR") is { Length: > 0 } t ? t
            : null),
        PluginNetwork.Tcp => Tcp(Port(env, "PLUGIN_MIN_PORT", PluginPorts.GrpcFirst), Port(env, "PLUGIN_MAX_PORT", PluginPorts.GrpcLast), reservedPort),
        _ => throw new ArgumentOutOfRangeException(nameof(network), network, "not a plugin network"),
    };

    /// <summary>A Unix socket at a fresh path in <paramref name="directory"/>.</summary>
    public static PluginListener Unix(string? directory)
    {
        var path = PluginChannels.NewSocketPath(directory);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(512);
            return new PluginListener(socket, "unix", path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The first free loopback TCP port in [<paramref name="minPort"/>, <paramref name="maxPort"/>], as go-plugin
    /// searches, other than <paramref name="reservedPort"/>.
    /// </summary>
    public static PluginListener Tcp(int minPort, int maxPort, int? reservedPort)
    {
        for (var port = minPort; port <= maxPort; port++)
        {
            if (port == reservedPort)
            {
                continue;
            }

            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                socket.Listen(512);
                return new PluginListener(socket, "tcp", "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture));
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
        }

        throw new InvalidOperationException($"no free loopback TCP port between PLUGIN_MIN_PORT {minPort} and PLUGIN_MAX_PORT {maxPort} for the plugin to listen on");
    }

    /// <summary>
    /// A second descriptor of the listening socket for the server to adopt and close on its own; this object keeps and
    /// closes its own, so neither closes a descriptor the other owns.
    /// </summary>
    public ulong DuplicateHandle()
    {
        var copy = Dup((int)_socket.SafeHandle.DangerousGetHandle());
        return copy >= 0
            ? (ulong)copy
            : throw new InvalidOperationException($"dup(2) of the plugin's listening socket failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Closes the socket and removes a Unix socket's file (for a server that binds the address itself, or at exit).</summary>
    public void Dispose()
    {
        _socket.Dispose();
        if (Network == "unix")
        {
            File.Delete(Address);
        }
    }

    // go-plugin's defaults when the host sets no range.
    private static int Port(IReadOnlyDictionary<string, string> env, string name, int fallback) =>
        env.GetValueOrDefault(name) is not { Length: > 0 } text ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65_535 ? port
        : throw new FormatException($"{name} must be a TCP port number, not '{text}'");

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int descriptor);
}
