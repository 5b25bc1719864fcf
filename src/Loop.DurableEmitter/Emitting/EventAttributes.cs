namespace Loop.DurableEmitter;

/// <summary>
/// The CloudEvent attributes of one emitted event. <see cref="Source"/> and <see cref="Type"/> are required: leaving one
/// out does not compile, and an empty one is an <see cref="InvalidEventException"/>.
/// </summary>
public sealed record EventAttributes
{
    /// <summary>The CloudEvent <c>source</c>: who emitted the event.</summary>
    public required string Source { get; init; }

    /// <summary>The CloudEvent <c>type</c>: what happened.</summary>
    public required string Type { get; init; }

    /// <summary>The <c>subject</c> attribute, when set.</summary>
    public string? Subject { get; init; }

    /// <summary>The <c>dataschema</c> attribute, also used as the type URL of the protobuf payload.</summary>
    public string? DataSchema { get; init; }

    /// <summary>
    /// The <c>datacontenttype</c> attribute. When null it follows the body: <c>application/octet-stream</c> for raw
    /// bytes, <c>application/json</c> from <c>EmitJsonAsync</c>, <c>application/protobuf</c> for a protobuf message.
    /// </summary>
    public string? DataContentType { get; init; }

    /// <summary>The <c>time</c> attribute: when the occurrence happened.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>
    /// The <c>idempotencykey</c> attribute. When null or empty the emitter derives one from source, type and body, so
    /// a retried emit of the same event carries the same key.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Extra string extension attributes. Names must be CloudEvents attribute names (lowercase a-z, 0-9).</summary>
    public IReadOnlyDictionary<string, string>? Extensions { get; init; }
}
