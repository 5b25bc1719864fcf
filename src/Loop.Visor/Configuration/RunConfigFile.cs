using Loop.Visor.Configuration;

namespace Loop.Visor;

/// <summary>
/// Reads a version folder's <c>run-config.toml</c>: <c>name</c>, then one table per process (Vega's <c>vega</c> and
/// <c>data_node</c> shape) with <c>[X.binary]</c> <c>path</c> (relative to the version folder, or absolute), <c>args</c>
/// and optional <c>env</c>, and optionally <c>[X.rpc]</c> <c>socketPath</c> / <c>httpPath</c> for upgrade status.
/// </summary>
public static class RunConfigFile
{
    /// <summary>The file name in a version folder.</summary>
    public const string FileName = "run-config.toml";

    /// <summary>Loads <c>run-config.toml</c> from <paramref name="versionFolder"/>, resolving binary paths against it.</summary>
    /// <exception cref="VisorConfigException">The file is missing or invalid; the message names file, line and key.</exception>
    public static RunConfig Load(string versionFolder)
    {
        var path = Path.Combine(versionFolder, FileName);
        var doc = TomlDocument.Load(path);
        var name = doc.String("name") ?? throw doc.Bad("name", 0, "is required");
        var processes = new List<ProcessSpec>();
        UpgradeRpcEndpoint? rpc = null;
        foreach (var process in doc.ProcessTables())
        {
            var binaryPath = doc.String($"{process}.binary.path")
                ?? throw doc.Bad($"{process}.binary.path", doc.FirstLineUnder(process), "is required");
            var resolved = Path.IsPathRooted(binaryPath) ? binaryPath : Path.GetFullPath(Path.Combine(versionFolder, binaryPath));
            processes.Add(new ProcessSpec(
                process,
                resolved,
                doc.StringArray($"{process}.binary.args") ?? [],
                doc.StringTable($"{process}.binary.env")));
            var socket = doc.String($"{process}.rpc.socketPath");
            var http = doc.String($"{process}.rpc.httpPath");
            if ((socket is not null || http is not null) && rpc is null)
            {
                rpc = new UpgradeRpcEndpoint(socket is { Length: > 0 } ? socket : null, http is { Length: > 0 } ? http : "/rpc");
                if (rpc.SocketPath is null && !VisorConfigFile.IsHttpUrl(rpc.HttpPath))
                {
                    // Without a socket the path must say where to connect: "/rpc" alone would be read as file:///rpc.
                    throw doc.Bad(
                        $"{process}.rpc.httpPath",
                        doc.LineOf(process, "rpc", http is null ? "socketPath" : "httpPath"),
                        $"\"{rpc.HttpPath}\" is not an http:// or https:// URL with a host; without socketPath the upgrade-status endpoint needs one (http://127.0.0.1:3003/rpc)");
                }
            }
        }

        if (processes.Count == 0)
        {
            throw doc.Bad("vega.binary.path", 0, "no process is configured (expected a [vega.binary] table)");
        }

        doc.EnsureAllRead();
        return new RunConfig(name, processes, rpc);
    }

    /// <summary>Writes a run config with the given processes (used by init, add-upgrade and auto install).</summary>
    public static void Write(string versionFolder, RunConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Directory.CreateDirectory(versionFolder);
        using var writer = new StreamWriter(Path.Combine(versionFolder, FileName));
        writer.Write($"name = {VisorConfigFile.Quote(config.Name)}\n");
        foreach (var process in config.Processes)
        {
            writer.Write($"\n[{process.Name}.binary]\npath = {VisorConfigFile.Quote(process.Path)}\n");
            writer.Write($"args = [{string.Join(", ", process.Args.Select(VisorConfigFile.Quote))}]\n");
            if (process.Environment is { Count: > 0 } env)
            {
                writer.Write($"env = {{ {string.Join(", ", env.Select(e => $"{VisorConfigFile.Quote(e.Key)} = {VisorConfigFile.Quote(e.Value)}"))} }}\n");
            }

            if (config.UpgradeRpc is { } rpc && process == config.Processes[0])
            {
                writer.Write($"\n[{process.Name}.rpc]\nsocketPath = {VisorConfigFile.Quote(rpc.SocketPath ?? string.Empty)}\nhttpPath = {VisorConfigFile.Quote(rpc.HttpPath)}\n");
            }
        }
    }
}
