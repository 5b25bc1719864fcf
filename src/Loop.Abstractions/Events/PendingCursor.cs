namespace Loop.Events;

/// <summary>
/// A position in the pending queue ordered by (<see cref="CreatedAt"/>, <see cref="Id"/>). Paging with a cursor lets the
/// retransmit loop walk past rows that keep failing, so they cannot starve the rows behind them.
/// </summary>
/// <param name="CreatedAt">The creation time of the last row seen.</param>
/// <param name="Id">The identifier of the last row seen.</param>
public readonly record struct PendingCursor(DateTimeOffset CreatedAt, long Id);
