namespace Loop.DurableEmitter;

/// <summary>Where and how the gRPC transport reaches the ingress service.</summary>
public sealed class GrpcIngressOptions : BatchingOptions
{
    /// <summary>
    /// The ingress address: <c>host:port</c> (scheme from <see cref="UseTls"/>), an <c>http://</c> or <c>https://</c>
    /// URI, or <c>unix:/path/to.sock</c>. Required.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary>Use TLS for a <c>host:port</c> endpoint. Off by default: the ingress is usually on loopback or a sidecar.</summary>
    public bool UseTls { get; set; }

    /// <summary>The deadline of each publish call. Default 5 s.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The largest request sent; batches are split under it. Default 10 MiB.</summary>
    public int MaxRequestBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Ask the ingress to accept a batch all or nothing. Off: each event succeeds or fails on its own.</summary>
    public bool TransactionEnabled { get; set; }

    /// <summary>Static headers sent on every call (API keys and the like). Never logged.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Basic authentication user; with <see cref="BasicAuthPassword"/> adds <c>authorization: Basic …</c>.</summary>
    public string? BasicAuthUser { get; set; }

    /// <summary>Basic authentication password. Never logged.</summary>
    public string? BasicAuthPassword { get; set; }

    /// <summary>The node's public key (hex) for rotating signed headers; off when null.</summary>
    public string? RotatingAuthPublicKeyHex { get; set; }

    /// <summary>How long a signed header is reused before it is signed again. At least 10 minutes. Default 1 h.</summary>
    public TimeSpan RotatingAuthTtl { get; set; } = TimeSpan.FromHours(1);

    /// <inheritdoc />
    public override string? Validate()
    {
        if (base.Validate() is { } error)
        {
            return error;
        }

        if (string.IsNullOrWhiteSpace(Endpoint))
        {
            return "GrpcIngressOptions.Endpoint is required (host:port, http(s)://host:port or unix:/path).";
        }

        if (IngressAddress.TryParse(Endpoint, UseTls, out _) is { } endpointError)
        {
            return $"GrpcIngressOptions.Endpoint \"{Endpoint}\" is invalid: {endpointError}";
        }

        if (PublishTimeout <= TimeSpan.Zero)
        {
            return $"GrpcIngressOptions.PublishTimeout must be positive (was {PublishTimeout}).";
        }

        if (MaxRequestBytes < 64 * 1024)
        {
            return $"GrpcIngressOptions.MaxRequestBytes must be at least 64 KiB (was {MaxRequestBytes}).";
        }

        if ((BasicAuthUser is null) != (BasicAuthPassword is null))
        {
            return "GrpcIngressOptions.BasicAuthUser and BasicAuthPassword must be set together.";
        }

        if (RotatingAuthPublicKeyHex is { } key)
        {
            if (key.Length == 0 || key.Length % 2 != 0 || !key.All(Uri.IsHexDigit))
            {
                return "GrpcIngressOptions.RotatingAuthPublicKeyHex must be an even-length hex string.";
            }

            if (RotatingAuthTtl < TimeSpan.FromMinutes(10))
            {
                return $"GrpcIngressOptions.RotatingAuthTtl must be at least 10 minutes (was {RotatingAuthTtl}).";
            }
        }

        return null;
    }
}
