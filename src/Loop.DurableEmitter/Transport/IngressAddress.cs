namespace Loop.DurableEmitter;

/// <summary>A parsed ingress endpoint: the URI gRPC calls and, for Unix sockets, the socket path.</summary>
internal sealed record IngressAddress(Uri Uri, string? UnixSocketPath)
{
    /// <summary>Parses an endpoint; returns an error message, or null with <paramref name="address"/> set.</summary>
    public static string? TryParse(string endpoint, bool useTls, out IngressAddress? address)
    {
        address = null;
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = endpoint["unix:".Length..];
            if (path.Length == 0 || !Path.IsPathRooted(path))
            {
                return "a unix: endpoint needs an absolute socket path";
            }

            address = new IngressAddress(new Uri("http://localhost"), path);
            return null;
        }

        var text = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : (useTls ? "https://" : "http://") + endpoint;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.IsDefaultPort && !endpoint.Contains("://", StringComparison.Ordinal))
        {
            return "expected host:port, http(s)://host:port or unix:/path";
        }

        address = new IngressAddress(uri, null);
        return null;
    }
}
