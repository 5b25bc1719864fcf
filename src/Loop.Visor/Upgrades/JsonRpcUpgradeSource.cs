using System.Text.Json;

namespace Loop.Visor;

/// <summary>
/// Vega's upgrade status: JSON-RPC <c>protocolupgrade.UpgradeStatus</c> over the node's Unix socket (or HTTP), answered
/// with <c>{ReadyToUpgrade, AcceptedReleaseInfo: {VegaReleaseTag, UpgradeBlockHeight}}</c>.
/// </summary>
public sealed class JsonRpcUpgradeSource : IUpgradeSource, IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _uri;
    private long _id;

    /// <summary>Creates the source for <paramref name="endpoint"/> with a per-call <paramref name="timeout"/>.</summary>
    public JsonRpcUpgradeSource(UpgradeRpcEndpoint endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var handler = new SocketsHttpHandler();
        if (endpoint.SocketPath is { } socketPath)
        {
            handler.ConnectCallback = (_, token) => Loop.Networking.UnixSockets.ConnectAsync(socketPath, token);
            _uri = new Uri("http://localhost" + (endpoint.HttpPath.StartsWith('/') ? endpoint.HttpPath : "/" + endpoint.HttpPath));
            Endpoint = $"unix:{socketPath} {_uri.AbsolutePath}";
        }
        else
        {
            _uri = Uri.TryCreate(endpoint.HttpPath, UriKind.Absolute, out var absolute)
                ? absolute
                : throw new ArgumentException($"Without a socket path the RPC httpPath must be an absolute URL (was \"{endpoint.HttpPath}\").", nameof(endpoint));
            Endpoint = _uri.ToString();
        }

        _http = new HttpClient(handler) { Timeout = timeout };
    }

    /// <inheritdoc />
    public string Name => "protocolupgrade.UpgradeStatus";

    /// <summary>Where the calls go, for logs: <c>unix:&lt;socket&gt; &lt;path&gt;</c> or the URL.</summary>
    public string Endpoint { get; }

    /// <inheritdoc />
    public async ValueTask<UpgradeRequest?> PollAsync(RunConfig runConfig, CancellationToken cancellationToken)
    {
        var body = string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"jsonrpc\":\"2.0\",\"method\":\"protocolupgrade.UpgradeStatus\",\"params\":[],\"id\":{Interlocked.Increment(ref _id)}}}");
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(_uri, content, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        var root = json.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            throw new HttpRequestException($"upgrade status RPC error: {error}");
        }

        // Vega answers with Go field names (PascalCase); accept any casing.
        if (Property(root, "result") is not { ValueKind: JsonValueKind.Object } result
            || Property(result, "ReadyToUpgrade") is not { ValueKind: JsonValueKind.True })
        {
            return null;
        }

        var info = Property(result, "AcceptedReleaseInfo");
        var tag = info is { } i && Property(i, "VegaReleaseTag") is { ValueKind: JsonValueKind.String } t ? t.GetString() : null;
        var height = info is { } j && Property(j, "UpgradeBlockHeight") is { ValueKind: JsonValueKind.Number } h ? h.GetInt64() : 0;
        return new UpgradeRequest(tag ?? string.Empty, height, Name);
    }

    private static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
