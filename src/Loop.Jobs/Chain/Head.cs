namespace Loop.Jobs;

/// <summary>A chain head: its block number and hash.</summary>
/// <param name="Number">The block number (height).</param>
/// <param name="Hash">The block hash.</param>
public sealed record Head(long Number, string Hash);
