using Grpc.Core;

namespace Loop.Plugins.Sdk.Grpc;

/// <summary>The request stream of a client- or bidirectional-streaming call.</summary>
internal sealed class GrpcRequestStream<T>(GrpcCall call, Marshaller<T> marshaller) : IAsyncStreamReader<T>
{
    public T Current { get; private set; } = default!;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.CancellationToken);
        var (read, message) = await GrpcFrames.ReadAsync(call.Body, marshaller, linked.Token).ConfigureAwait(false);
        if (read)
        {
            Current = message;
        }

        return read;
    }
}

/// <summary>The response stream of a server- or bidirectional-streaming call.</summary>
internal sealed class GrpcResponseStream<T>(GrpcCall call, Marshaller<T> marshaller) : IServerStreamWriter<T>
{
    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            return WriteLinkedAsync(message, cancellationToken);
        }

        return call.WriteAsync(marshaller, message, call.CancellationToken);
    }

    private async Task WriteLinkedAsync(T message, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.CancellationToken);
        await call.WriteAsync(marshaller, message, linked.Token).ConfigureAwait(false);
    }
}
