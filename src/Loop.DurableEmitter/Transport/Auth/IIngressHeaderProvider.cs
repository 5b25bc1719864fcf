namespace Loop.DurableEmitter;

/// <summary>Supplies the headers (metadata) sent with every ingress call. Implementations must never log them.</summary>
public interface IIngressHeaderProvider
{
    /// <summary>Returns the headers for the next call.</summary>
    ValueTask<IReadOnlyList<KeyValuePair<string, string>>> GetHeadersAsync(CancellationToken cancellationToken);
}
