using Loop.Jobs.Ethereum.Rpc;

namespace Loop.Jobs.Ethereum;

/// <summary>
/// The logs a watch reported in the last <c>depth</c> blocks below the head, by block, so that a log reported twice
/// (by the backfill and the subscription) is reported once, and a log whose block a reorganisation replaced (its hash on
/// the chain changed, or the chain no longer reaches it) is reported removed, whether or not the node says so.
/// </summary>
internal sealed class RecentLogs(int depth)
{
    private readonly SortedDictionary<long, (string Hash, List<ChainLog> Logs)> _blocks = [];

    /// <summary>Keeps the logs not seen before and returns them.</summary>
    public List<ChainLog> AddNew(IEnumerable<ChainLog> logs)
    {
        var added = new List<ChainLog>();
        foreach (var log in logs)
        {
            if (_blocks.TryGetValue(log.BlockNumber, out var block) && block.Hash == log.BlockHash)
            {
                if (block.Logs.Exists(l => l.LogIndex == log.LogIndex))
                {
                    continue;
                }

                block.Logs.Add(log);
            }
            else
            {
                // A log of another block at the same height: the older block was replaced, and its logs are reported
                // removed by the next check; this one starts the height's list.
                _blocks[log.BlockNumber] = (log.BlockHash, [log]);
            }

            added.Add(log);
        }

        return added;
    }

    /// <summary>Forgets a log the node reported removed; returns it, flagged, when it was known.</summary>
    public List<ChainLog> Remove(ChainLog log)
    {
        if (_blocks.TryGetValue(log.BlockNumber, out var block) && block.Hash == log.BlockHash && block.Logs.RemoveAll(l => l.LogIndex == log.LogIndex) > 0)
        {
            if (block.Logs.Count == 0)
            {
                _blocks.Remove(log.BlockNumber);
            }

            return [log with { Removed = true }];
        }

        return [];
    }

    /// <summary>Compares each kept block with the chain's block at its height; returns the logs of replaced blocks, flagged removed.</summary>
    public async Task<List<ChainLog>> CheckAsync(EthereumRpc rpc, long head, CancellationToken cancellationToken)
    {
        var removed = new List<ChainLog>();
        foreach (var number in _blocks.Keys.ToList())
        {
            var block = _blocks[number];
            if (number < head - depth)
            {
                _blocks.Remove(number);
                continue;
            }

            var onChain = number > head ? null : await rpc.GetHeadAsync(number, cancellationToken).ConfigureAwait(false);
            if (onChain is null || !string.Equals(onChain.Hash, block.Hash, StringComparison.OrdinalIgnoreCase))
            {
                _blocks.Remove(number);
                removed.AddRange(block.Logs.Select(l => l with { Removed = true }));
            }
        }

        return removed;
    }
}
