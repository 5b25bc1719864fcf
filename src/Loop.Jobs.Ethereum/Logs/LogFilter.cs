namespace Loop.Jobs.Ethereum;

/// <summary>Which logs a subscription wants, as <c>eth_subscribe</c>'s and <c>eth_getLogs</c>'s filter has it.</summary>
/// <param name="Address">The emitting contract (0x-prefixed hex), or null for any.</param>
/// <param name="Topics">Per position, the topic the log must have there, or null for any; shorter than the log's topics is fine.</param>
public sealed record LogFilter(string? Address, IReadOnlyList<string?> Topics)
{
    /// <summary>Whether <paramref name="log"/> matches (the node filters too; a source checks again what it is sent).</summary>
    public bool Matches(ChainLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (Address is not null && !string.Equals(Address, log.Address, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        for (var i = 0; i < Topics.Count; i++)
        {
            if (Topics[i] is { } topic && (i >= log.Topics.Count || !string.Equals(topic, log.Topics[i], StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }

        return true;
    }
}
