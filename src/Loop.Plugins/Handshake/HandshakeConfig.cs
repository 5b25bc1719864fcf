namespace Loop.Plugins;

/// <summary>
/// What host and plugin agree on before they talk (go-plugin's <c>HandshakeConfig</c>): a magic cookie, which only
/// keeps a plugin from being run by hand by mistake (it is not security), and the app protocol versions.
/// </summary>
/// <param name="MagicCookieKey">The cookie's environment variable name.</param>
/// <param name="MagicCookieValue">The cookie's value.</param>
/// <param name="ProtocolVersions">The app protocol versions this side speaks.</param>
public sealed record HandshakeConfig(string MagicCookieKey, string MagicCookieValue, IReadOnlyList<int> ProtocolVersions)
{
    /// <summary>go-plugin's core protocol version, always 1.</summary>
    public const int CoreProtocolVersion = 1;

    /// <summary>The variable carrying the host's versions.</summary>
    public const string ProtocolVersionsVariable = "PLUGIN_PROTOCOL_VERSIONS";

    /// <summary>The message a plugin prints when started without the cookie, as go-plugin prints it.</summary>
    public const string NotAPluginMessage =
        "This binary is a plugin. These are not meant to be executed directly.\n" +
        "Please execute the program that consumes these plugins, which will\n" +
        "load any plugins automatically";
}
