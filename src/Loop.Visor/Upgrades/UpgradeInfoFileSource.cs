using System.Text.Json;

namespace Loop.Visor;

/// <summary>
/// The cosmovisor-style <c>upgrade-info.json</c> (<c>{"name": "v2", "height": 123, "info": "…"}</c>) that a node
/// writes when it halts for an upgrade. A file naming the running version, or an unreadable file, is no upgrade.
/// </summary>
public sealed class UpgradeInfoFileSource(string path) : IUpgradeSource
{
    /// <inheritdoc />
    public string Name => "upgrade-info.json";

    /// <summary>The file's path.</summary>
    public string Path { get; } = path;

    /// <inheritdoc />
    public async ValueTask<UpgradeRequest?> PollAsync(RunConfig runConfig, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runConfig);
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            await using var stream = File.OpenRead(Path);
            using var json = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            var root = json.RootElement;
            var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            var height = root.TryGetProperty("height", out var h) && h.ValueKind == JsonValueKind.Number ? h.GetInt64() : 0;
            return string.IsNullOrEmpty(name) || name == runConfig.Name ? null : new UpgradeRequest(name, height, Name);
        }
        catch (JsonException)
        {
            // Being written, or empty: look again at the next poll.
            return null;
        }
    }
}
