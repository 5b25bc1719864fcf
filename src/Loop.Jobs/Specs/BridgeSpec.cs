namespace Loop.Jobs;

/// <summary>
/// An external adapter reached over HTTP: a task whose type is <see cref="Name"/> POSTs <c>{"id", "data", "responseURL"}</c>
/// to <see cref="Url"/>; the adapter answers with data, an error, or <c>{"pending": true}</c> and resumes the run later
/// through the resume endpoint, presenting <see cref="IncomingToken"/>.
/// </summary>
public sealed record BridgeSpec
{
    /// <summary>The longest bridge name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The shortest incoming token accepted (characters).</summary>
    public const int MinTokenLength = 16;

    /// <summary>The bridge's name, used as a task type: lower-case letters, digits, <c>_</c> and <c>-</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The adapter's absolute http(s) URL.</summary>
    public required Uri Url { get; init; }

    /// <summary>The token the adapter presents (<c>Authorization: Bearer</c>) to resume a run; at least <see cref="MinTokenLength"/> characters. Stored as a hash; never logged.</summary>
    public required string IncomingToken { get; init; }

    /// <summary>The token sent to the adapter (<c>Authorization: Bearer</c>), if any. Never logged.</summary>
    public string? OutgoingToken { get; init; }

    /// <summary>Confirmations a task of this bridge waits for before it runs.</summary>
    public int Confirmations { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"bridge {Name} ({Url})";
}
