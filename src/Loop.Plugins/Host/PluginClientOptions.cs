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

    /// <summary>The lowest TCP port a plugin may listen on (where it uses TCP). Default 10000.</summary>
    public int MinPort { get; set; } = 10_000;

    /// <summary>The highest TCP port a plugin may listen on. Default 25000.</summary>
    public int MaxPort { get; set; } = 25_000;
}
