namespace Loop.Events;

/// <summary>A lease on a pending row: the row and when the lease ends (UTC), as the store recorded it.</summary>
/// <param name="Id">The row.</param>
/// <param name="Until">When the lease ends.</param>
public readonly record struct DurableLease(long Id, DateTimeOffset Until);
