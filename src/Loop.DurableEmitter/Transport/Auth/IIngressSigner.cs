namespace Loop.DurableEmitter;

/// <summary>Signs rotating auth payloads with the node's key (for example a CSA keystore).</summary>
public interface IIngressSigner
{
    /// <summary>Signs <paramref name="data"/> and returns the signature bytes.</summary>
    ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);
}
