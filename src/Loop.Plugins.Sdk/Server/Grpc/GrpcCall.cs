using System.Globalization;
using System.IO.Pipelines;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Loop.Plugins.Sdk.Grpc;

/// <summary>
/// One incoming call on Kestrel's features: its metadata, deadline and cancellation, and its response (headers sent once,
/// before the first message; writes one at a time; status and trailers at the end).
/// </summary>
internal sealed class GrpcCall : ServerCallContext, IDisposable
{
    private static readonly AuthContext NoAuth = new(null, []);

    private readonly IFeatureCollection _features;
    private readonly IHttpResponseFeature _response;
    private readonly IHttpResponseBodyFeature _body;
    private readonly CancellationTokenSource? _deadlineTimer;
    private readonly CancellationTokenSource _cancellation;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly Metadata _trailers = [];
    private bool _started;

    public GrpcCall(IFeatureCollection features, string method, TimeProvider timeProvider)
    {
        _features = features;
        MethodPath = method;
        var request = features.GetRequiredFeature<IHttpRequestFeature>();
        _response = features.GetRequiredFeature<IHttpResponseFeature>();
        _body = features.GetRequiredFeature<IHttpResponseBodyFeature>();
        Body = features.GetRequiredFeature<IRequestBodyPipeFeature>().Reader;
        Headers = ToMetadata(request.Headers);
        RequestHost = request.Headers.Host.ToString();
        var aborted = features.Get<IHttpRequestLifetimeFeature>()?.RequestAborted ?? CancellationToken.None;
        if (GrpcTimeout.Parse(request.Headers["grpc-timeout"]) is { } timeout)
        {
            DeadlineUtc = timeProvider.GetUtcNow().UtcDateTime + timeout;
            _deadlineTimer = new CancellationTokenSource(timeout, timeProvider);
            _cancellation = CancellationTokenSource.CreateLinkedTokenSource(aborted, _deadlineTimer.Token);
        }
        else
        {
            DeadlineUtc = DateTime.MaxValue;
            _cancellation = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        }

        var connection = features.Get<IHttpConnectionFeature>();
        RemotePeer = connection?.RemoteIpAddress is { } ip
            ? string.Create(CultureInfo.InvariantCulture, $"{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6:[" + ip + "]" : "ipv4:" + ip)}:{connection.RemotePort}")
            : "unix:";
    }

    /// <summary>The request stream.</summary>
    public PipeReader Body { get; }

    /// <summary>The call's path, <c>/package.Service/Method</c>.</summary>
    public string MethodPath { get; }

    /// <summary>Whether the deadline the caller set has passed.</summary>
    public bool DeadlineExceeded => _deadlineTimer?.IsCancellationRequested == true;

    /// <summary>Whether the caller went away (reset the stream or closed the connection).</summary>
    public bool Aborted => _cancellation.IsCancellationRequested && !DeadlineExceeded;

    private Metadata Headers { get; }

    private string RequestHost { get; }

    private string RemotePeer { get; }

    private DateTime DeadlineUtc { get; }

    protected override string MethodCore => MethodPath;

    protected override string HostCore => RequestHost;

    protected override string PeerCore => RemotePeer;

    protected override DateTime DeadlineCore => DeadlineUtc;

    protected override Metadata RequestHeadersCore => Headers;

    protected override CancellationToken CancellationTokenCore => _cancellation.Token;

    protected override Metadata ResponseTrailersCore => _trailers;

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => NoAuth;

    /// <summary>Runs <paramref name="callback"/> once the response is complete (sent), as go-plugin's controller needs for Shutdown.</summary>
    public void OnCompleted(Func<Task> callback) => _response.OnCompleted(static state => ((Func<Task>)state)(), callback);

    /// <summary>Writes one response message (headers first when none were sent); one write at a time.</summary>
    public async Task WriteAsync<T>(Marshaller<T> marshaller, T message, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StartAsync(cancellationToken).ConfigureAwait(false);
            await GrpcFrames.WriteAsync(_body.Writer, marshaller, message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Ends the response with <paramref name="status"/> and the trailers.</summary>
    public async Task FinishAsync(Status status)
    {
        await _writes.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_started)
            {
                SetResponseHeaders();
            }

            var trailers = _features.Get<IHttpResponseTrailersFeature>()?.Trailers;
            if (trailers is not null)
            {
                Append(trailers, _trailers);

                trailers["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
                if (!string.IsNullOrEmpty(status.Detail))
                {
                    trailers["grpc-message"] = PercentEncode(status.Detail);
                }
            }

            await _body.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    public void Dispose()
    {
        _cancellation.Dispose();
        _deadlineTimer?.Dispose();
        _writes.Dispose();
    }

    protected override async Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        await _writes.WaitAsync(CancellationToken).ConfigureAwait(false);
        try
        {
            if (_started)
            {
                throw new InvalidOperationException("Response headers can only be sent once per call.");
            }

            Append(_response.Headers, responseHeaders);

            await StartAsync(CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("Context propagation is not supported by the plugin server.");

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            SetResponseHeaders();
            await _body.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void SetResponseHeaders()
    {
        _started = true;
        _response.StatusCode = 200;
        _response.Headers.ContentType = "application/grpc";
    }

    /// <summary>Metadata as HTTP/2 headers or trailers: binary entries (<c>-bin</c>) base64-encoded.</summary>
    private static void Append(IHeaderDictionary headers, Metadata metadata)
    {
        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
    }

    private static Metadata ToMetadata(IDictionary<string, StringValues> headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers)
        {
            if (key.StartsWith(':') || IsTransportHeader(key))
            {
                continue;
            }

            foreach (var value in values)
            {
                if (value is null)
                {
                    continue;
                }

                if (key.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase))
                {
                    try
                    {
                        metadata.Add(key, Convert.FromBase64String(PadBase64(value)));
                    }
                    catch (FormatException)
                    {
                        // A binary header that is not base64 is dropped, not a failed call.
                    }
                }
                else
                {
                    metadata.Add(key, value);
                }
            }
        }

        return metadata;
    }

    private static bool IsTransportHeader(string key) =>
        key.Equals("content-type", StringComparison.OrdinalIgnoreCase)
        || key.Equals("te", StringComparison.OrdinalIgnoreCase)
        || key.Equals("host", StringComparison.OrdinalIgnoreCase)
        || key.Equals("grpc-timeout", StringComparison.OrdinalIgnoreCase)
        || key.Equals("grpc-encoding", StringComparison.OrdinalIgnoreCase)
        || key.Equals("grpc-accept-encoding", StringComparison.OrdinalIgnoreCase);

    // gRPC peers may send binary metadata without base64 padding.
    private static string PadBase64(string value) => (value.Length % 4) switch
    {
        2 => value + "==",
        3 => value + "=",
        _ => value,
    };

    /// <summary>grpc-message is percent-encoded: everything outside printable ASCII, and '%' itself, as UTF-8 bytes.</summary>
    internal static string PercentEncode(string detail)
    {
        var plain = true;
        foreach (var c in detail)
        {
            if (c is < ' ' or > '~' or '%')
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return detail;
        }

        var builder = new System.Text.StringBuilder(detail.Length + 16);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(detail))
        {
            if (b is < (byte)' ' or > (byte)'~' or (byte)'%')
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append((char)b);
            }
        }

        return builder.ToString();
    }
}
