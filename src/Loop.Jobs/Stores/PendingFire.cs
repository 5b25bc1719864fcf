namespace Loop.Jobs;

/// <summary>
/// A fire whose run has not acted on its event yet: it waits for confirmations or for a connection.
/// </summary>
/// <param name="Key">The fire's key, as the initiator recorded it (a chain log's id: its block hash and log index).</param>
/// <param name="RunId">The run the fire started.</param>
/// <param name="CreationHeight">The block the event was in, for an event from a chain.</param>
public sealed record PendingFire(string Key, Guid RunId, long? CreationHeight);
