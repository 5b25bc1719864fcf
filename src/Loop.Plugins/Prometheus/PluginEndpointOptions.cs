using Loop.Options;
using Microsoft.Extensions.Options;

namespace Loop.Plugins;

/// <summary>Options of the Prometheus endpoints (<c>MapLoopPluginEndpoints</c>).</summary>
public sealed class PluginEndpointOptions
{
    /// <summary>The variable naming the host name put in discovery targets.</summary>
    public const string DiscoveryHostNameVariable = "CL_PROMETHEUS_DISCOVERY_HOSTNAME";

    /// <summary>The host name in discovery targets. Default: <c>CL_PROMETHEUS_DISCOVERY_HOSTNAME</c>, else the machine name, else localhost.</summary>
    public string? DiscoveryHostName { get; set; }

    /// <summary>The port in discovery targets.</summary>
    /// <value>1 to 65535, or null (the default) for the port the discovery request arrived on.</value>
    [Between(1, 65_535)]
    public int? DiscoveryPort { get; set; }

    /// <summary>The default of <see cref="ProxyTimeout"/>: 1 s, well under a scrape interval.</summary>
    public static readonly TimeSpan DefaultProxyTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long the proxy waits for a plugin's /metrics.</summary>
    /// <value>Positive. Default <see cref="DefaultProxyTimeout"/> (1 s).</value>
    [Positive]
    public TimeSpan ProxyTimeout { get; set; } = DefaultProxyTimeout;

    internal string ResolveHostName() =>
        DiscoveryHostName is { Length: > 0 } configured ? configured
        : Environment.GetEnvironmentVariable(DiscoveryHostNameVariable) is { Length: > 0 } fromEnv ? fromEnv
        : Environment.MachineName is { Length: > 0 } machine ? machine
        : "localhost";
}

/// <summary>The generated DataAnnotations validator of <see cref="PluginEndpointOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class PluginEndpointOptionsValidator : IValidateOptions<PluginEndpointOptions>;
