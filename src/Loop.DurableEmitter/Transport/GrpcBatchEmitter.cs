using Google.Protobuf;
using Loop.DurableEmitter.Ingress;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using BatchRequest = Loop.DurableEmitter.Ingress.CloudEventBatch;

namespace Loop.DurableEmitter;

/// <summary>
/// Delivers events to a Chip Ingress compatible service with <c>PublishBatch</c>: batches split under the maximum
/// request size, per-event results, per-call deadlines, auth headers. <see cref="PublishAsync"/> is the unary
/// <c>Publish</c> the durable emitter uses as its single-event fallback.
/// </summary>
public sealed class GrpcBatchEmitter : BatchingEmitter, IEventPublisher
{
    // Room for the batch message's own framing around the events.
    private const int FramingAllowance = 10 * 1024;
    private readonly IngressConnection _connection;
    private readonly int _splitLimit;

    /// <summary>Creates the transport. Nothing connects until the first call.</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public GrpcBatchEmitter(
        GrpcIngressOptions options,
        IIngressHeaderProvider? headers = null,
        TimeProvider? timeProvider = null,
        ILogger<GrpcBatchEmitter>? logger = null)
        : base(options, timeProvider, logger ?? NullLogger<GrpcBatchEmitter>.Instance)
    {
        _connection = new IngressConnection(options, headers ?? HeadersFrom(options, TimeProvider), TimeProvider);
        _splitLimit = options.MaxRequestBytes - FramingAllowance;
    }

    /// <inheritdoc />
    public override TimeSpan SendTimeout => _connection.Options.PublishTimeout;

    /// <inheritdoc />
    protected override string Destination => $"the ingress {_connection.Options.Endpoint}";

    /// <summary>The rotating signed header provider configured from the options, if any (to set its signer later).</summary>
    public RotatingSignedHeaderProvider? RotatingAuth { get; private set; }

    /// <summary>Checks the ingress is reachable (<c>Ping</c>).</summary>
    public async Task<string> PingAsync(CancellationToken cancellationToken = default)
    {
        using var call = await _connection.BeginCallAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await _connection.Client.PingAsync(new EmptyRequest(), call.Options).ConfigureAwait(false);
            return response.Message;
        }
        catch (Exception ex) when (call.RanOut(ex))
        {
            throw call.DeadlineExceeded(ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask PublishAsync(Loop.Events.CloudEvents.CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        using var call = await _connection.BeginCallAsync(cancellationToken).ConfigureAwait(false);
        PublishResponse response;
        try
        {
            response = await _connection.Client.PublishAsync(cloudEvent, call.Options).ConfigureAwait(false);
        }
        catch (Exception ex) when (call.RanOut(ex))
        {
            throw call.DeadlineExceeded(ex);
        }

        if (response.Results.Count > 0 && response.Results[0].Error is { } error)
        {
            throw new IngressRejectedException(cloudEvent.Id, error.ErrorCode, error.Reason);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask<Exception?[]> SendBatchAsync(IReadOnlyList<QueuedEvent> batch, CancellationToken cancellationToken)
    {
        var outcomes = new Exception?[batch.Count];
        var start = 0;
        while (start < batch.Count)
        {
            // Greedy split by serialized size; an event that alone exceeds the limit fails by itself.
            var size = 0;
            var end = start;
            while (end < batch.Count)
            {
                var eventSize = CodedOutputStream.ComputeMessageSize(batch[end].Event);
                if (eventSize > _splitLimit)
                {
                    if (end == start)
                    {
                        outcomes[end] = new DurableEmitterException(
                            $"Event {batch[end].Event.Id}: serialized size {eventSize} B exceeds the ingress request limit of {_splitLimit} B.");
                        start = ++end;
                        continue;
                    }

                    break;
                }

                if (size + eventSize > _splitLimit)
                {
                    break;
                }

                size += eventSize;
                end++;
            }

            if (end > start)
            {
                // A later chunk starts after the earlier ones ended: its events may no longer have time to be sent.
                var due = new List<int>(end - start);
                for (var i = start; i < end; i++)
                {
                    if (LeaseEnds(batch[i]))
                    {
                        outcomes[i] = new DeliveryLeaseEndedException(batch[i].Event.Id);
                    }
                    else
                    {
                        due.Add(i);
                    }
                }

                if (due.Count > 0)
                {
                    await SendChunkAsync(batch, due, outcomes, cancellationToken).ConfigureAwait(false);
                }
            }

            start = end;
        }

        return outcomes;
    }

    /// <inheritdoc />
    protected override ValueTask DisposeCoreAsync()
    {
        _connection.Dispose();
        RotatingAuth?.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task SendChunkAsync(IReadOnlyList<QueuedEvent> batch, List<int> chunk, Exception?[] outcomes, CancellationToken cancellationToken)
    {
        var request = new BatchRequest();
        if (_connection.Options.TransactionEnabled)
        {
            request.Options = new PublishOptions { TransactionEnabled = true };
        }

        foreach (var i in chunk)
        {
            request.Events.Add(batch[i].Event);
        }

        PublishResponse response;
        try
        {
            using var call = await _connection.BeginCallAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                response = await _connection.Client.PublishBatchAsync(request, call.Options).ConfigureAwait(false);
            }
            catch (Exception ex) when (call.RanOut(ex))
            {
                throw call.DeadlineExceeded(ex);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            OnSendFailed(ex);
            foreach (var i in chunk)
            {
                outcomes[i] = ex;
            }

            return;
        }
        catch (Exception ex)
        {
            // The transport is being stopped: not an outage of the ingress.
            foreach (var i in chunk)
            {
                outcomes[i] = ex;
            }

            return;
        }

        OnSendSucceeded();

        // No results means every event was accepted; otherwise results match events by position.
        if (response.Results.Count == 0)
        {
            return;
        }

        for (var position = 0; position < chunk.Count; position++)
        {
            var i = chunk[position];
            if (position >= response.Results.Count)
            {
                outcomes[i] = new IngressRejectedException(
                    batch[i].Event.Id, PublishErrorCode.Unknown, $"RESULTS_MISMATCH: {response.Results.Count} results for {chunk.Count} events");
            }
            else if (response.Results[position].Error is { } error)
            {
                outcomes[i] = new IngressRejectedException(batch[i].Event.Id, error.ErrorCode, error.Reason);
            }
        }
    }

    private IIngressHeaderProvider? HeadersFrom(GrpcIngressOptions options, TimeProvider timeProvider)
    {
        var providers = new List<IIngressHeaderProvider>();
        if (options.Headers.Count > 0)
        {
            providers.Add(new StaticHeaderProvider(options.Headers));
        }

        if (options.BasicAuthUser is { } user)
        {
            providers.Add(StaticHeaderProvider.Basic(user, options.BasicAuthPassword!));
        }

        if (options.RotatingAuthPublicKeyHex is { } key)
        {
            RotatingAuth = new RotatingSignedHeaderProvider(key, options.RotatingAuthTtl, timeProvider: timeProvider);
            providers.Add(RotatingAuth);
        }

        return providers.Count switch
        {
            0 => null,
            1 => providers[0],
            _ => new CompositeHeaderProvider([.. providers]),
        };
    }
}
