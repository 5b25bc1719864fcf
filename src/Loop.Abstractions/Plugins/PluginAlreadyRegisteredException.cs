namespace Loop.Plugins;

/// <summary>A plugin id was registered twice with one <see cref="ILoopRegistry"/>.</summary>
public sealed class PluginAlreadyRegisteredException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="pluginId"/>.</summary>
    public PluginAlreadyRegisteredException(string pluginId)
        : base($"plugin \"{pluginId}\" is already registered")
    {
        PluginId = pluginId;
    }

    /// <summary>The plugin id.</summary>
    public string PluginId { get; }
}
