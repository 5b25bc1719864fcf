namespace Loop.Jobs.Ethereum;

/// <summary>Where log initiators learn of logs: a chain node's subscription, backfilled from a block.</summary>
public interface ILogSource
{
    /// <summary>What the source connects to, for logs and health (no credentials).</summary>
    string Description { get; }

    /// <summary>The chain's current block number.</summary>
    Task<long> GetBlockNumberAsync(CancellationToken cancellationToken);

    /// <summary>The hashes of the chain's blocks at <paramref name="numbers"/>; a block the chain does not reach yet is left out.</summary>
    Task<IReadOnlyDictionary<long, string>> GetBlockHashesAsync(IReadOnlyCollection<long> numbers, CancellationToken cancellationToken);

    /// <summary>
    /// Connects, reports every matching log from <paramref name="fromBlock"/> on (the backfill), then each new one as it
    /// comes, and logs whose blocks a reorganisation replaced, flagged removed. A log may be reported twice (across a
    /// reconnect); subscribers recognise it by <see cref="ChainLog.Id"/>. Ends, or throws, when the connection is lost.
    /// </summary>
    IAsyncEnumerable<LogBatch> WatchLogsAsync(LogFilter filter, long fromBlock, CancellationToken cancellationToken);
}
