namespace Loop.Plugins;

/// <summary>Options of <c>AddLoopPlugins</c>.</summary>
public sealed class LoopPluginsOptions
{
    /// <summary>
    /// The lowest Prometheus port handed to a plugin. Default <see cref="PluginPorts.PrometheusFirst"/> (25001, just
    /// above the TCP plugins' gRPC range).
    /// </summary>
    public int FirstPort { get; set; } = PluginPorts.PrometheusFirst;

    /// <summary>The highest Prometheus port handed to a plugin. Default <see cref="PluginPorts.PrometheusLast"/> (30000).</summary>
    public int LastPort { get; set; } = PluginPorts.PrometheusLast;

    /// <summary>The tracing settings every plugin gets.</summary>
    public LoopTracingConfig Tracing { get; set; } = LoopTracingConfig.Disabled;

    /// <summary>Returns an error naming the first bad setting, or null.</summary>
    public string? Validate() =>
        FirstPort is < 1024 or > 65_535 ? $"LoopPluginsOptions.FirstPort must be 1024 to 65535 (was {FirstPort})."
        : LastPort < FirstPort || LastPort > 65_535 ? $"LoopPluginsOptions.LastPort must be FirstPort ({FirstPort}) to 65535 (was {LastPort})."
        : Tracing.SamplingRatio is < 0 or > 1 ? $"LoopPluginsOptions.Tracing.SamplingRatio must be 0 to 1 (was {Tracing.SamplingRatio})."
        : null;
}
