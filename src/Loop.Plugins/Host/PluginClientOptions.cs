using Loop.Options;

namespace Loop.Plugins;

/// <summary>How <see cref="PluginClient"/> launches and stops a plugin.</summary>
public sealed class PluginClientOptions
{
    /// <summary>The default of <see cref="StartTimeout"/>: 1 min, as go-plugin.</summary>
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The default of <see cref="GracefulKillTimeout"/>: 2 s, as go-plugin.</summary>
    public static readonly TimeSpan DefaultGracefulKillTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long to wait for the handshake line.</summary>
    /// <value>Positive. Default <see cref="DefaultStartTimeout"/> (1 min, as go-plugin).</value>
    [Positive]
    public TimeSpan StartTimeout { get; set; } = DefaultStartTimeout;

    /// <summary>How long a plugin has to exit after Shutdown before it is killed.</summary>
    /// <value>Zero or more (zero kills at once). Default <see cref="DefaultGracefulKillTimeout"/> (2 s, as go-plugin).</value>
    [NotNegative]
    public TimeSpan GracefulKillTimeout { get; set; } = DefaultGracefulKillTimeout;

    /// <summary>
    /// Secure the connection with go-plugin's AutoMTLS: a fresh certificate for each side, each pinning the other's
    /// exact certificate. Off by default (as in go-plugin); the plugin's socket is private to the host's user anyway.
    /// </summary>
    public bool AutoMtls { get; set; }

    /// <summary>
    /// The shortest deadline a call on <see cref="PluginClient.Channel"/> gets: a sooner deadline is raised to now + this
    /// (calls without a deadline are left alone).
    /// </summary>
    /// <value>
    /// Positive, or null (the default) to read <c>CL_MIN_OCR2_MAX_DURATION_QUERY</c> (a Go duration), and without it
    /// <see cref="RpcTimeoutFloor.DefaultFloor"/> (100 ms), as Chainlink's LOOP hosts do.
    /// </value>
    [Positive]
    public TimeSpan? CallTimeoutFloor { get; set; }

    /// <summary>The lowest TCP port a plugin may serve gRPC on (where it uses TCP; <c>PLUGIN_MIN_PORT</c>).</summary>
    /// <value>1024 to 65535, at most <see cref="MaxPort"/>. Default <see cref="PluginPorts.GrpcFirst"/> (10000, as go-plugin).</value>
    [Between(1024, 65_535)]
    public int MinPort { get; set; } = PluginPorts.GrpcFirst;

    /// <summary>
    /// The highest TCP port a plugin may serve gRPC on (<c>PLUGIN_MAX_PORT</c>). Keep the range clear of the Prometheus
    /// ports of <c>AddLoopPlugins</c>.
    /// </summary>
    /// <value>1024 to 65535. Default <see cref="PluginPorts.GrpcLast"/> (25000, as go-plugin).</value>
    [Between(1024, 65_535)]
    public int MaxPort { get; set; } = PluginPorts.GrpcLast;

    /// <summary>The rules across properties.</summary>
    internal static IEnumerable<(string Member, string Error)> Rules(PluginClientOptions options)
    {
        if (options.MinPort > options.MaxPort)
        {
            yield return (nameof(MaxPort), $"must not be below MinPort ({options.MinPort}) (was {options.MaxPort})");
        }
    }
}
