using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace Loop.Plugins.Sdk;

/// <summary>
/// Makes a .NET program a go-plugin compatible LOOP plugin: checks the magic cookie (printing go-plugin's message and
/// exiting 1 on a mismatch), negotiates the app protocol version, serves gRPC on a Unix socket (health, broker,
/// controller, stdio and the plugin's own services; loopback TCP on Windows or when asked), prints the handshake line
/// first and alone on stdout once it listens, secures the socket with go-plugin's AutoMTLS when the host asks (<c>PLUGIN_CLIENT_CERT</c>), serves <c>/metrics</c> on <c>CL_PROMETHEUS_PORT</c> on 127.0.0.1, and logs hclog JSON to stderr.
/// </summary>
public static class LoopPluginServer
{
    /// <summary>Runs the plugin until the host shuts it down (or <paramref name="cancellationToken"/>); returns the exit code.</summary>
    public static async Task<int> RunAsync(LoopPluginServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var hostPid = HostWatch.Host();
        var env = options.Environment ?? LoopEnvironment.ProcessVariables();
        var stdout = options.Stdout ?? Console.Out;
        var stderr = options.Stderr ?? Console.Error;
        var handshake = options.Handshake;

        if (!env.TryGetValue(handshake.MagicCookieKey, out var cookie) || cookie != handshake.MagicCookieValue)
        {
            await stderr.WriteLineAsync(HandshakeConfig.NotAPluginMessage).ConfigureAwait(false);
            return 1;
        }

        var version = Negotiate(handshake.ProtocolVersions, env.GetValueOrDefault(HandshakeConfig.ProtocolVersionsVariable));
        var loopEnv = env.ContainsKey(LoopEnvironment.PrometheusPort) ? LoopEnvironment.Parse(env) : null;
        int? metricsPort = loopEnv?.PrometheusPort;

        // AutoMTLS when the host sent its certificate: ours goes back in the handshake, and only the host's is accepted.
        PeerTls? tls = null;
        if (env.GetValueOrDefault(AutoMtls.ClientCertVariable) is { Length: > 0 } hostPem)
        {
            using var host = X509Certificate2.CreateFromPem(hostPem);
            tls = new PeerTls(AutoMtls.CreateCertificate(), host.RawData);
        }

        // Bound before the server is built, so that (where the server can adopt the socket) the handshake line goes out
        // now: the host connects and waits in the backlog while the server starts.
        using var listener = PluginListener.Open(options.Network, env, metricsPort);
        var stdio = new StdioForwarder();
        void Handshake()
        {
            stdout.WriteLine(new HandshakeLine(version, listener.Network, listener.Address, "grpc", tls?.Own.RawData).ToString());
            stdout.Flush();
            if (options.Stdout is null)
            {
                // From here on the console belongs to the host's GRPCStdio stream (the handshake line was the last raw write).
                Console.SetOut(stdio.Writer(Protocol.StdioData.Types.Channel.Stdout));
            }
        }

        if (PluginListener.CanHandOver)
        {
            Handshake();
        }

        await using var broker = new PluginBroker(tls);
        var setup = new PluginServerSetup(options, env, stderr, listener, stdio, broker, metricsPort, loopEnv, hostPid, tls);
        if (BareKestrelHost.CanServe(options))
        {
            return await BareKestrelHost.RunAsync(setup, cancellationToken).ConfigureAwait(false);
        }

        // Each server in its own class: this method's state machine then names none of their types, so a JIT or
        // ReadyToRun start loads neither server's assemblies before the handshake line, and the ASP.NET Core host's not at
        // all when it is not used.
        return await AspNetCoreHost.RunAsync(setup, PluginListener.CanHandOver ? null : Handshake, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The highest version both sides speak; with none in common the plugin's lowest, which the host then rejects.</summary>
    public static int Negotiate(IReadOnlyList<int> plugin, string? hostVersions)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        if (plugin.Count == 0)
        {
            throw new ArgumentException("a plugin speaks at least one protocol version", nameof(plugin));
        }

        // Plain loops: LINQ over int is generic code over a value type that a framework-dependent ReadyToRun start
        // JIT-compiles (7.8 ms of it); a host lists a handful of versions. A version that does not parse matches none.
        var offered = (hostVersions ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var host = new int[offered.Length];
        for (var i = 0; i < offered.Length; i++)
        {
            host[i] = int.TryParse(offered[i], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        }

        int? common = null;
        var lowest = int.MaxValue;
        for (var i = 0; i < plugin.Count; i++)
        {
            var version = plugin[i];
            lowest = Math.Min(lowest, version);
            if (version > (common ?? int.MinValue) && Offers(host, version))
            {
                common = version;
            }
        }

        return common ?? lowest;

        // Not Array.IndexOf: its vectorised generic path is code a ReadyToRun start may JIT-compile.
        static bool Offers(int[] host, int version)
        {
            foreach (var offered in host)
            {
                if (offered == version)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
