namespace Loop.Plugins;

/// <summary>How a <see cref="PluginService"/> keeps its plugin alive.</summary>
public sealed class PluginServiceOptions
{
    /// <summary>How often the plugin's health is checked after the first check (done at once). Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The deadline of one health check. Default 1 s.</summary>
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first wait after a failed launch; it doubles up to <see cref="MaxRelaunchBackoff"/>. Default 100 ms.</summary>
    public TimeSpan RelaunchBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between failed launches. Default 5 s.</summary>
    public TimeSpan MaxRelaunchBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Launch and kill settings.</summary>
    public PluginClientOptions Client { get; set; } = new();
}
