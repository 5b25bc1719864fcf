namespace Loop.Jobs.Ethereum;

/// <summary>An Ethereum log (an event a contract emitted), as a log source reports it.</summary>
/// <param name="Address">The emitting contract, 0x-prefixed lower-case hex.</param>
/// <param name="Topics">The indexed topics, each 0x-prefixed 32-byte hex; the first is usually the event signature's hash.</param>
/// <param name="Data">The unindexed data, 0x-prefixed hex.</param>
/// <param name="BlockNumber">The block that holds it.</param>
/// <param name="BlockHash">That block's hash: with <paramref name="LogIndex"/>, what identifies the log.</param>
/// <param name="TransactionHash">The transaction that emitted it.</param>
/// <param name="LogIndex">Its position in the block.</param>
/// <param name="Removed">True when its block was replaced by a reorganisation: the log is no longer on the chain.</param>
public sealed record ChainLog(string Address, IReadOnlyList<string> Topics, string Data, long BlockNumber, string BlockHash, string? TransactionHash, long LogIndex, bool Removed)
{
    /// <summary>What identifies the log on the chain: its block hash and index (<c>0xabc…:3</c>).</summary>
    public string Id => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{BlockHash}:{LogIndex}");

    /// <summary>The block hash in a log's <see cref="Id"/> (a run's fire key), or null when <paramref name="id"/> is not one.</summary>
    internal static string? BlockHashOf(string id)
    {
        var separator = id.LastIndexOf(':');
        return separator > 0 ? id[..separator] : null;
    }
}
