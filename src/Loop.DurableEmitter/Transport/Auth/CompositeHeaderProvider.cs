namespace Loop.DurableEmitter;

/// <summary>The headers of several providers, in order.</summary>
public sealed class CompositeHeaderProvider : IIngressHeaderProvider
{
    private readonly IIngressHeaderProvider[] _providers;

    /// <summary>Creates the provider.</summary>
    public CompositeHeaderProvider(params IIngressHeaderProvider[] providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        _providers = providers;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<KeyValuePair<string, string>>> GetHeadersAsync(CancellationToken cancellationToken)
    {
        var all = new List<KeyValuePair<string, string>>();
        foreach (var provider in _providers)
        {
            all.AddRange(await provider.GetHeadersAsync(cancellationToken).ConfigureAwait(false));
        }

        return all;
    }
}
