namespace Loop.Plugins;

/// <summary>Options of the Prometheus endpoints (<c>MapLoopPluginEndpoints</c>).</summary>
public sealed class PluginEndpointOptions
{
    /// <summary>The variable naming the host name put in discovery targets.</summary>
    public const string DiscoveryHostNameVariable = "CL_PROMETHEUS_DISCOVERY_HOSTNAME";

    /// <summary>The host name in discovery targets. Default: <c>CL_PROMETHEUS_DISCOVERY_HOSTNAME</c>, else the machine name, else localhost.</summary>
    public string? DiscoveryHostName { get; set; }

    /// <summary>The port in discovery targets. Default: the port the discovery request arrived on.</summary>
    public int? DiscoveryPort { get; set; }

    /// <summary>How long the proxy waits for a plugin's /metrics. Default 1 s (well under a scrape interval).</summary>
    public TimeSpan ProxyTimeout { get; set; } = TimeSpan.FromSeconds(1);

    internal string ResolveHostName() =>
        DiscoveryHostName is { Length: > 0 } configured ? configured
        : Environment.GetEnvironmentVariable(DiscoveryHostNameVariable) is { Length: > 0 } fromEnv ? fromEnv
        : Environment.MachineName is { Length: > 0 } machine ? machine
        : "localhost";
}
