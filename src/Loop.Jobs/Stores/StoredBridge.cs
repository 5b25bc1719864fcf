namespace Loop.Jobs;

/// <summary>A bridge as stored: the incoming token only as its SHA-256 hash.</summary>
/// <param name="Name">The bridge's name.</param>
/// <param name="Url">The adapter's URL.</param>
/// <param name="IncomingTokenHash">SHA-256 of the incoming token.</param>
/// <param name="OutgoingToken">The token sent to the adapter, if any.</param>
/// <param name="Confirmations">Confirmations a task of this bridge waits for.</param>
public sealed record StoredBridge(string Name, Uri Url, byte[] IncomingTokenHash, string? OutgoingToken, int Confirmations)
{
    /// <inheritdoc />
    public override string ToString() => $"bridge {Name} ({Url})";
}
