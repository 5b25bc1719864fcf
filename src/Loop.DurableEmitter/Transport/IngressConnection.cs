using Grpc.Core;
using Grpc.Net.Client;
using Loop.DurableEmitter.Ingress;

namespace Loop.DurableEmitter;

/// <summary>One HTTP/2 channel to the ingress with its client and headers, shared by the batch and fallback paths.</summary>
internal sealed class IngressConnection : IDisposable
{
    private const int MaxReceiveBytes = 16 * 1024 * 1024;
    private readonly GrpcChannel _channel;
    private readonly IIngressHeaderProvider? _headers;
    private readonly TimeProvider _timeProvider;

    public IngressConnection(GrpcIngressOptions options, IIngressHeaderProvider? headers, TimeProvider timeProvider)
    {
        IngressAddress.TryParse(options.Endpoint!, options.UseTls, out var address);
        var handler = new SocketsHttpHandler
        {
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(1),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        if (address!.UnixSocketPath is not null)
        {
            var path = address.UnixSocketPath;
            handler.ConnectCallback = (_, token) => Loop.Networking.UnixSockets.ConnectAsync(path, token);
        }

        _channel = GrpcChannel.ForAddress(address.Uri, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxReceiveBytes,
            MaxSendMessageSize = options.MaxRequestBytes,
        });
        Client = new ChipIngress.ChipIngressClient(_channel);
        Options = options;
        _headers = headers;
        _timeProvider = timeProvider;
    }

    public ChipIngress.ChipIngressClient Client { get; }

    public GrpcIngressOptions Options { get; }

    /// <summary>Call options with the headers and a deadline of <see cref="GrpcIngressOptions.PublishTimeout"/> on the provider's clock.</summary>
    public async ValueTask<CallScope> BeginCallAsync(CancellationToken cancellationToken)
    {
        var scope = new CallScope(Options.PublishTimeout, _timeProvider, cancellationToken);
        try
        {
            Metadata? metadata = null;
            if (_headers is not null)
            {
                metadata = [];
                foreach (var (key, value) in await _headers.GetHeadersAsync(scope.Token).ConfigureAwait(false))
                {
                    metadata.Add(key, value);
                }
            }

            scope.Options = new CallOptions(headers: metadata, cancellationToken: scope.Token);
            return scope;
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>One call's options and the deadline behind its token.</summary>
internal sealed class CallScope : IDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _linked;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _caller;

    public CallScope(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        _timeout = timeout;
        _caller = cancellationToken;
        _deadline = new CancellationTokenSource(timeout, timeProvider);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadline.Token);
    }

    public CancellationToken Token => _linked.Token;

    /// <summary>
    /// Whether <paramref name="exception"/> is this call's deadline running out: the deadline is a token on the
    /// provider's clock (so tests can drive it), which gRPC reports as a cancellation, not as the caller's.
    /// </summary>
    public bool RanOut(Exception exception) =>
        _deadline.IsCancellationRequested && !_caller.IsCancellationRequested
        && exception is RpcException { StatusCode: StatusCode.Cancelled } or OperationCanceledException;

    /// <summary>What a call that ran out reports: DeadlineExceeded, with the deadline it had.</summary>
    public RpcException DeadlineExceeded(Exception exception) =>
        new(new Status(StatusCode.DeadlineExceeded, $"the ingress did not answer within the publish timeout ({_timeout})", exception));

    public CallOptions Options { get; set; }

    public void Dispose()
    {
        _linked.Dispose();
        _deadline.Dispose();
    }
}
