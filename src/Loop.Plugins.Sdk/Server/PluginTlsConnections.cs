using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Loop.Plugins.Sdk;

/// <summary>
/// AutoMTLS for either plugin server: each connection is authenticated with <see cref="SslStream"/> (our certificate,
/// the host's pinned, HTTP/2 by ALPN) before Kestrel reads HTTP/2 from it. Kestrel's own <c>UseHttps</c> needs services
/// only the ASP.NET Core host registers, so Kestrel alone could not use it.
/// </summary>
internal static class PluginTlsConnections
{
    /// <summary>How long a connection may take to finish its TLS handshake.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    public static void Use(ListenOptions listen, PeerTls tls) => listen.Use(next => context => AcceptAsync(context, next, tls));

    private static async Task AcceptAsync(ConnectionContext context, ConnectionDelegate next, PeerTls tls)
    {
        var transport = context.Transport;
        var ssl = new SslStream(new DuplexPipeStream(transport), leaveInnerStreamOpen: true);
        try
        {
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed);
            handshake.CancelAfter(HandshakeTimeout);
            await ssl.AuthenticateAsServerAsync(tls.ServerAuthentication(), handshake.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            // Not the host (its certificate is pinned), or it went away mid-handshake: the connection just closes.
            await ssl.DisposeAsync().ConfigureAwait(false);
            return;
        }

        var reader = PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true));
        var writer = PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true));
        context.Transport = new Pipes(reader, writer);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
            context.Transport = transport;
            await ssl.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Pipes(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>The connection's pipes as the stream <see cref="SslStream"/> reads and writes.</summary>
    private sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
    {
        private readonly Stream _input = pipe.Input.AsStream(leaveOpen: true);
        private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
