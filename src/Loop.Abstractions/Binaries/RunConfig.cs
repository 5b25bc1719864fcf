namespace Loop.Visor;

/// <summary>What one version folder runs (its <c>run-config.toml</c>).</summary>
/// <param name="Name">The version's name (a release tag, or <c>genesis</c>).</param>
/// <param name="Processes">The processes to run together.</param>
/// <param name="UpgradeRpc">Where the node answers upgrade-status calls; none when null.</param>
public sealed record RunConfig(string Name, IReadOnlyList<ProcessSpec> Processes, UpgradeRpcEndpoint? UpgradeRpc = null);

/// <summary>One process of a <see cref="RunConfig"/>.</summary>
/// <param name="Name">The process's name in logs (for example <c>vega</c> or <c>data_node</c>).</param>
/// <param name="Path">The executable: absolute, or relative to the version folder.</param>
/// <param name="Args">The arguments.</param>
/// <param name="Environment">Extra environment variables.</param>
public sealed record ProcessSpec(
    string Name, string Path, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string>? Environment = null);

/// <summary>The node's upgrade-status JSON-RPC endpoint.</summary>
/// <param name="SocketPath">A Unix socket path, or null for HTTP.</param>
/// <param name="HttpPath">The HTTP path of the RPC handler (for example <c>/rpc</c>).</param>
public sealed record UpgradeRpcEndpoint(string? SocketPath, string HttpPath);

/// <summary>How a tied run ended.</summary>
/// <param name="ProcessName">The process that exited first.</param>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Stopped">True when the run ended because it was stopped, not because a process exited on its own.</param>
public sealed record BinariesExit(string ProcessName, int ExitCode, bool Stopped);
