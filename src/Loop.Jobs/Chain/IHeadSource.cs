namespace Loop.Jobs;

/// <summary>Where a <see cref="HeadTracker"/> learns heads: a chain node's subscription or a poll of it.</summary>
public interface IHeadSource
{
    /// <summary>What the source connects to, for logs and health (no credentials).</summary>
    string Description { get; }

    /// <summary>
    /// Connects and yields the chain's current head, then each head the source sees, in the order it sees them (a head
    /// no later than the one before is yielded too: the chain reorganised). Ends, or throws, when the connection is
    /// lost; the tracker calls it again to reconnect.
    /// </summary>
    IAsyncEnumerable<Head> WatchHeadsAsync(CancellationToken cancellationToken);
}
