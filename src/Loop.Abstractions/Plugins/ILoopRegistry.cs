namespace Loop.Plugins;

/// <summary>
/// The host's registry of LOOP plugins: each registered plugin gets a unique Prometheus port and the tracing settings
/// it must use, handed to its process through environment variables. Safe for concurrent use.
/// </summary>
public interface ILoopRegistry
{
    /// <summary>Registers a plugin. Not idempotent: a second registration of the same id fails.</summary>
    /// <exception cref="PluginAlreadyRegisteredException">The id is already registered.</exception>
    RegisteredLoop Register(string id);

    /// <summary>Finds a registered plugin by id.</summary>
    bool TryGet(string id, out RegisteredLoop? registered);

    /// <summary>A snapshot of the registered plugins, sorted by name (ordinal).</summary>
    IReadOnlyList<RegisteredLoop> List();

    /// <summary>Removes a plugin and returns its port to the pool. Returns false for an unknown id.</summary>
    bool Unregister(string id);
}
