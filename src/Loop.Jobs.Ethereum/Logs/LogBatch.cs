namespace Loop.Jobs.Ethereum;

/// <summary>
/// Logs a source reports together (new ones, and ones removed by a reorganisation), and the block through which every
/// log of the filter has now been reported: the position a subscriber records to resume from.
/// </summary>
/// <param name="Logs">The logs, in chain order (removed ones flagged).</param>
/// <param name="ProcessedThrough">Every matching log up to this block has been reported.</param>
public sealed record LogBatch(IReadOnlyList<ChainLog> Logs, long ProcessedThrough);
