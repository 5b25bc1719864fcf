namespace Loop.Plugins.Sdk;

/// <summary>Where a plugin listens for its host.</summary>
public enum PluginNetwork
{
    /// <summary>A Unix domain socket in <c>PLUGIN_UNIX_SOCKET_DIR</c> (else <c>TMPDIR</c>).</summary>
    Unix,

    /// <summary>127.0.0.1 on the first free port in <c>PLUGIN_MIN_PORT</c>..<c>PLUGIN_MAX_PORT</c> (default 10000..25000).</summary>
    Tcp,
}
