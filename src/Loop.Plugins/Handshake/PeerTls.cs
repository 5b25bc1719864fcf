using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Loop.Plugins;

/// <summary>
/// One side's AutoMTLS identity: its own certificate (with key) and the exact certificate it accepts from the other
/// side. go-plugin uses the same pair for the main connection and for every brokered one, in either role.
/// </summary>
/// <param name="Own">This side's certificate.</param>
/// <param name="Peer">The other side's certificate (DER), pinned.</param>
internal sealed record PeerTls(X509Certificate2 Own, byte[] Peer)
{
    /// <summary>As the TLS server: present our certificate, require the peer's.</summary>
    public HttpsConnectionAdapterOptions Server() => new()
    {
        ServerCertificate = Own,
        ClientCertificateMode = ClientCertificateMode.RequireCertificate,
        ClientCertificateValidation = (certificate, _, _) => AutoMtls.IsPinned(certificate, Peer),
        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
    };

    /// <summary>As the TLS server of a connection authenticated before HTTP/2 (the plugin SDK's servers): the same policy, over ALPN h2.</summary>
    public SslServerAuthenticationOptions ServerAuthentication() => new()
    {
        ServerCertificate = Own,
        ClientCertificateRequired = true,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => AutoMtls.IsPinned(certificate, Peer),
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ApplicationProtocols = [SslApplicationProtocol.Http2],
    };

    /// <summary>As the TLS client: trust exactly the peer's certificate, present ours.</summary>
    public SslClientAuthenticationOptions Client() => new()
    {
        TargetHost = "localhost",
        ClientCertificates = [Own],
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => AutoMtls.IsPinned(certificate, Peer),
    };
}
