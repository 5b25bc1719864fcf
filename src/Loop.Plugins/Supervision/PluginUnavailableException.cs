namespace Loop.Plugins;

/// <summary>The plugin is not (yet, or no longer) running and healthy.</summary>
public sealed class PluginUnavailableException(string plugin, string? reason = null)
    : Exception(reason is null ? $"plugin {plugin} unavailable" : $"plugin {plugin} unavailable: {reason}")
{
    /// <summary>The plugin's name.</summary>
    public string Plugin { get; } = plugin;
}
