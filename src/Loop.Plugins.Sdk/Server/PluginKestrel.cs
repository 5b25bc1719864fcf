using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Loop.Plugins.Sdk;

/// <summary>The plugin's Kestrel endpoints: gRPC (HTTP/2, AutoMTLS when asked) on its listener, <c>/metrics</c> on loopback.</summary>
internal static class PluginKestrel
{
    public static void Listen(KestrelServerOptions kestrel, PluginListener listener, PeerTls? tls, int? metricsPort)
    {
        void Grpc(ListenOptions l)
        {
            l.Protocols = HttpProtocols.Http2;
            if (tls is not null)
            {
                // Only the host's own certificate, as sent to us in PLUGIN_CLIENT_CERT, may connect. Kestrel sees the
                // decrypted stream as plain HTTP/2, while the caller's :scheme is https.
                kestrel.AllowAlternateSchemes = true;
                PluginTlsConnections.Use(l, tls);
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
