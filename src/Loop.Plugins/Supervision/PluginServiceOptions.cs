namespace Loop.Plugins;

/// <summary>How a <see cref="PluginService"/> keeps its plugin alive.</summary>
public sealed class PluginServiceOptions
{
    /// <summary>How often the plugin's health is checked after the first check (done at once). Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The deadline of one health check. Default 1 s.</summary>
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The first wait after a failed launch, and before the second of two relaunches in a row of a plugin that did not
    /// stay up for <see cref="MaxRelaunchBackoff"/>; it doubles up to <see cref="MaxRelaunchBackoff"/>. Default 100 ms.
    /// </summary>
    public TimeSpan RelaunchBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between failed launches. Default 5 s.</summary>
    public TimeSpan MaxRelaunchBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The default of <see cref="UnhealthyThreshold"/>.</summary>
    public const int DefaultUnhealthyThreshold = 3;

    /// <summary>
    /// How many health checks in a row a running plugin must fail before it is relaunched. One slow answer on a loaded
    /// machine is not a dead plugin, and relaunching it adds the load that fails the next check. A plugin that exited
    /// is relaunched at once. Default <see cref="DefaultUnhealthyThreshold"/>.
    /// </summary>
    public int UnhealthyThreshold { get; set; } = DefaultUnhealthyThreshold;

    /// <summary>Launch and kill settings.</summary>
    public PluginClientOptions Client { get; set; } = new();
}
