using System.Diagnostics;

namespace Loop.Plugins;

/// <summary>Registers plugins and builds their process starts, and reads which plugins are enabled.</summary>
public static class LoopCommands
{
    /// <summary>
    /// Registers <paramref name="config"/> once, then returns a factory that builds a fresh process start for each launch:
    /// the environment is exactly <see cref="CmdConfig.Env"/>, then the registry's variables, then
    /// <paramref name="handshake"/> (later duplicates win); the host's own environment is not inherited unless asked.
    /// </summary>
    /// <exception cref="PluginRegistrationException">The registration failed (for example, the id is taken).</exception>
    public static Func<ProcessStartInfo> RegisterLoop(ILoopRegistry registry, CmdConfig config, IEnumerable<KeyValuePair<string, string>>? handshake = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(config);
        RegisteredLoop loop;
        try
        {
            loop = registry.Register(config.Id);
        }
        catch (Exception ex) when (ex is PluginAlreadyRegisteredException or InvalidOperationException or ArgumentException)
        {
            throw new PluginRegistrationException(config.Id, ex);
        }

        var handshakeVars = handshake?.ToArray() ?? [];
        return () =>
        {
            var start = new ProcessStartInfo(config.Cmd) { UseShellExecute = false };
            if (!config.InheritHostEnvironment)
            {
                start.Environment.Clear();
            }

            foreach (var (key, value) in (config.Env ?? []).Concat(LoopEnvironment.ToVariables(loop.EnvConfig)).Concat(handshakeVars))
            {
                start.Environment[key] = value;
            }

            return start;
        };
    }

    /// <summary>
    /// The plugin of kind <paramref name="kind"/> if enabled: <c>CL_&lt;KIND&gt;_CMD</c> names its executable (unset: the
    /// in-process runtime, null here) and <c>CL_&lt;KIND&gt;_ENV</c> an optional <c>.env</c> file of extra variables.
    /// </summary>
    public static CmdConfig? FromEnvironment(string kind, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(environment);
        var upper = kind.ToUpperInvariant();
        if (!environment.TryGetValue($"CL_{upper}_CMD", out var cmd) || cmd.Length == 0)
        {
            return null;
        }

        var env = environment.TryGetValue($"CL_{upper}_ENV", out var envFile) && envFile.Length > 0 ? EnvFile.Read(envFile) : [];
        return new CmdConfig(kind.ToLowerInvariant(), cmd, env);
    }
}

/// <summary>A plugin could not be registered.</summary>
public sealed class PluginRegistrationException(string id, Exception innerException)
    : Exception($"failed to register {id} LOOP plugin: {innerException.Message}", innerException)
{
    /// <summary>The plugin id.</summary>
    public string Id { get; } = id;
}
