using System.Globalization;

namespace Loop.Plugins;

/// <summary>
/// The line a plugin prints first on stdout: <c>core|app|network|address|protocol|cert</c>, for example
/// <c>1|1|unix|/tmp/plugin123|grpc|</c>. The certificate is unpadded standard base64 DER, or empty.
/// </summary>
/// <param name="AppProtocolVersion">The negotiated app protocol version.</param>
/// <param name="Network"><c>unix</c> or <c>tcp</c>.</param>
/// <param name="Address">The socket path or <c>127.0.0.1:port</c>.</param>
/// <param name="Protocol"><c>grpc</c> (or <c>netrpc</c>, which Loop does not speak).</param>
/// <param name="ServerCertificate">The plugin's AutoMTLS certificate (DER), or null.</param>
public sealed record HandshakeLine(int AppProtocolVersion, string Network, string Address, string Protocol, byte[]? ServerCertificate)
{
    /// <summary>Formats the line (without a newline); the certificate field is always present, as Go plugins print it.</summary>
    public override string ToString() =>
        string.Join('|',
            HandshakeConfig.CoreProtocolVersion.ToString(CultureInfo.InvariantCulture),
            AppProtocolVersion.ToString(CultureInfo.InvariantCulture),
            Network,
            Address,
            Protocol,
            ServerCertificate is null ? string.Empty : Convert.ToBase64String(ServerCertificate).TrimEnd('='));

    /// <summary>Parses a plugin's first stdout line.</summary>
    /// <exception cref="PluginHandshakeException">Not a go-plugin handshake line, or not one Loop can use.</exception>
    public static HandshakeLine Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var parts = line.Trim().Split('|');
        if (parts.Length < 4)
        {
            throw new PluginHandshakeException($"Unrecognized remote plugin message: {Printable(line)}");
        }

        if (parts[0] != "1")
        {
            throw new PluginHandshakeException($"Incompatible core API version with plugin. Plugin version: {Printable(parts[0])}, Core version: 1");
        }

        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var app))
        {
            throw new PluginHandshakeException($"Error parsing protocol version: {Printable(parts[1])}");
        }

        if (parts[2] is not ("unix" or "tcp"))
        {
            throw new PluginHandshakeException($"unknown address type: {Printable(parts[2])}");
        }

        var protocol = parts.Length > 4 ? parts[4] : "netrpc";
        if (protocol != "grpc")
        {
            throw new PluginHandshakeException($"the plugin speaks {Printable(protocol)}; Loop supports grpc only");
        }

        byte[]? cert = null;
        if (parts.Length > 5 && parts[5].Length > 50)
        {
            var text = parts[5];
            if (text.Contains('=', StringComparison.Ordinal))
            {
                throw new PluginHandshakeException("error parsing server certificate: illegal base64 data (padding)");
            }

            try
            {
                cert = Convert.FromBase64String(text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '='));
            }
            catch (FormatException ex)
            {
                throw new PluginHandshakeException($"error parsing server certificate: {ex.Message}");
            }
        }

        return new HandshakeLine(app, parts[2], RequireLocal(parts[2], parts[3]), protocol, cert);
    }

    /// <summary>
    /// The address a plugin names is where the host connects, so it must be on this machine: a socket path, or a TCP
    /// loopback address (127.0.0.0/8 or ::1) with a port. A plugin that names anything else is refused before the host
    /// dials it.
    /// </summary>
    private static string RequireLocal(string network, string address)
    {
        if (network == "unix")
        {
            return address.Length > 0 && !address.Any(char.IsControl)
                ? address
                : throw new PluginHandshakeException($"the plugin's socket path \"{Printable(address)}\" is empty or not printable");
        }

        if (!System.Net.IPEndPoint.TryParse(address, out var endpoint) || endpoint.Port == 0 || !address.Contains(':', StringComparison.Ordinal))
        {
            throw new PluginHandshakeException($"the plugin's address \"{Printable(address)}\" is not an IP address and port");
        }

        return System.Net.IPAddress.IsLoopback(endpoint.Address)
            ? address
            : throw new PluginHandshakeException($"the plugin's address \"{Printable(address)}\" is not a loopback address (127.0.0.0/8 or ::1); refusing to connect");
    }

    private static string Printable(string text) => new(text.Select(c => char.IsControl(c) ? '?' : c).Take(200).ToArray());
}

/// <summary>The plugin's handshake failed: wrong line, incompatible version, start timeout, early exit.</summary>
public sealed class PluginHandshakeException(string message, Exception? innerException = null) : Exception(message, innerException);
