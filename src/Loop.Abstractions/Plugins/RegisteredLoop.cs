namespace Loop.Plugins;

/// <summary>A plugin registered with an <see cref="ILoopRegistry"/>.</summary>
/// <param name="Name">The plugin's id, unique in its registry.</param>
/// <param name="EnvConfig">What the plugin's process is told through its environment.</param>
public sealed record RegisteredLoop(string Name, LoopEnvConfig EnvConfig);
