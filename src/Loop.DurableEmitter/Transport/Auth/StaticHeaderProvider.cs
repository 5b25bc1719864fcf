using System.Text;

namespace Loop.DurableEmitter;

/// <summary>Fixed headers: API keys, or <c>authorization: Basic</c> from <see cref="Basic"/>.</summary>
public sealed class StaticHeaderProvider : IIngressHeaderProvider
{
    private readonly KeyValuePair<string, string>[] _headers;

    /// <summary>Creates the provider. Header names are lowercased, as gRPC metadata requires.</summary>
    public StaticHeaderProvider(IEnumerable<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers.Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), h.Value)).ToArray();
    }

    /// <summary>Basic authentication: <c>authorization: Basic base64(user:password)</c>.</summary>
    public static StaticHeaderProvider Basic(string user, string password)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        return new StaticHeaderProvider([KeyValuePair.Create("authorization", $"Basic {token}")]);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KeyValuePair<string, string>>> GetHeadersAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<KeyValuePair<string, string>>>(_headers);
}
