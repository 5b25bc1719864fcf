namespace Loop.Plugins;

/// <summary>
/// The default port ranges of a plugin host, defined once so they cannot drift into each other. A plugin that serves
/// over TCP picks its gRPC port in [<see cref="GrpcFirst"/>, <see cref="GrpcLast"/>] (go-plugin's own
/// <c>PLUGIN_MIN_PORT</c>/<c>PLUGIN_MAX_PORT</c> defaults, so Go plugins behave as under a Go host); the host hands
/// each registered plugin its Prometheus port from [<see cref="PrometheusFirst"/>, <see cref="PrometheusLast"/>], just
/// above. Both stay below Linux's ephemeral range (32768–60999), where outgoing connections take their ports.
/// </summary>
public static class PluginPorts
{
    /// <summary>The lowest port a TCP plugin may serve gRPC on: 10000, as go-plugin.</summary>
    public const int GrpcFirst = 10_000;

    /// <summary>The highest port a TCP plugin may serve gRPC on: 25000, as go-plugin.</summary>
    public const int GrpcLast = 25_000;

    /// <summary>The lowest Prometheus port handed to a plugin: 25001, the first above the gRPC range.</summary>
    public const int PrometheusFirst = GrpcLast + 1;

    /// <summary>The highest Prometheus port handed to a plugin: 30000 (five thousand plugins).</summary>
    public const int PrometheusLast = 30_000;

    /// <summary>Whether [<paramref name="first"/>, <paramref name="last"/>] and [<paramref name="otherFirst"/>, <paramref name="otherLast"/>] share a port.</summary>
    public static bool Overlap(int first, int last, int otherFirst, int otherLast) => first <= otherLast && otherFirst <= last;
}
