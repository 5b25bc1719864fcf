using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Loop.Plugins;

/// <summary>The plugin's Kestrel endpoints: gRPC (HTTP/2, AutoMTLS when asked) on its listener, <c>/metrics</c> on loopback.</summary>
internal static class PluginKestrel
{
    public static void Listen(KestrelServerOptions kestrel, PluginListener listener, X509Certificate2? serverCertificate, byte[]? hostCertificate, int? metricsPort)
    {
        void Grpc(ListenOptions l)
        {
            l.Protocols = HttpProtocols.Http2;
            if (serverCertificate is not null)
            {
                // Only the host's own certificate, as printed to us in PLUGIN_CLIENT_CERT, may connect.
                l.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = serverCertificate,
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = (certificate, _, _) => AutoMtls.IsPinned(certificate, hostCertificate!),
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                });
            }
        }

        if (PluginListener.CanHandOver)
        {
            kestrel.ListenHandle(listener.DuplicateHandle(), Grpc);
        }
        else
        {
            // Kestrel binds the address itself here, so the probe socket gives it up first.
            listener.Dispose();
            kestrel.Listen(listener.EndPoint, Grpc);
        }

        if (metricsPort is { } port)
        {
            kestrel.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1);
        }
    }
}
