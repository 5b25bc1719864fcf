namespace Loop.Plugins;

/// <summary>The settings a host hands a plugin process through environment variables (<c>CL_PROMETHEUS_PORT</c>, <c>CL_TRACING_*</c>).</summary>
public sealed record LoopEnvConfig
{
    /// <summary>The port of the plugin's Prometheus <c>/metrics</c> server, on loopback.</summary>
    public required int PrometheusPort { get; init; }

    /// <summary>The plugin's tracing settings.</summary>
    public LoopTracingConfig Tracing { get; init; } = LoopTracingConfig.Disabled;
}
