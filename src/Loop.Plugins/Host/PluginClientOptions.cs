namespace Loop.Plugins;

/// <summary>How <see cref="PluginClient"/> launches and stops a plugin.</summary>
public sealed class PluginClientOptions
{
    /// <summary>How long to wait for the handshake line. Default 1 min, as go-plugin.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a plugin has to exit after Shutdown before it is killed. Default 2 s, as go-plugin.</summary>
    public TimeSpan GracefulKillTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Secure the connection with go-plugin's AutoMTLS: a fresh certificate for each side, each pinning the other's
    /// exact certificate. Off by default (as in go-plugin); the plugin's socket is private to the host's user anyway.
    /// </summary>
    public bool AutoMtls { get; set; }

    /// <summary>
    /// The shortest deadline a call on <see cref="PluginClient.Channel"/> gets: a sooner deadline is raised to now + this
    /// (calls without a deadline are left alone). Null (the default) reads <c>CL_MIN_OCR2_MAX_DURATION_QUERY</c> (a Go
    /// duration), and without it <see cref="RpcTimeoutFloor.DefaultFloor"/> (100 ms), as Chainlink's LOOP hosts do.
    /// </summary>
    public TimeSpan? CallTimeoutFloor { get; set; }

    /// <summary>
    /// The lowest TCP port a plugin may serve gRPC on (where it uses TCP; <c>PLUGIN_MIN_PORT</c>). Default
    /// <see cref="PluginPorts.GrpcFirst"/> (10000, as go-plugin).
    /// </summary>
    public int MinPort { get; set; } = PluginPorts.GrpcFirst;

    /// <summary>
    /// The highest TCP port a plugin may serve gRPC on (<c>PLUGIN_MAX_PORT</c>). Default <see cref="PluginPorts.GrpcLast"/>
    /// (25000, as go-plugin). Keep the range clear of the Prometheus ports of <c>AddLoopPlugins</c>.
    /// </summary>
    public int MaxPort { get; set; } = PluginPorts.GrpcLast;
}
