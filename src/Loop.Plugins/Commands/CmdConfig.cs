namespace Loop.Plugins;

/// <summary>How to launch one LOOP plugin.</summary>
/// <param name="Id">The plugin's id in the registry (usually its logger name).</param>
/// <param name="Cmd">The executable (no arguments).</param>
/// <param name="Env">Extra <c>KEY=VALUE</c> variables, before the registry's and the handshake's.</param>
public sealed record CmdConfig(string Id, string Cmd, IReadOnlyList<KeyValuePair<string, string>>? Env = null)
{
    /// <summary>Start from the host's environment instead of an empty one. Off: a plugin sees only what it is given.</summary>
    public bool InheritHostEnvironment { get; init; }
}
