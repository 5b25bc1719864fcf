namespace Loop.DurableEmitter;

/// <summary>The <c>datacontenttype</c> values the emitter sets by the kind of body.</summary>
public static class ContentTypes
{
    /// <summary>Raw bytes whose format the caller did not name.</summary>
    public const string OctetStream = "application/octet-stream";

    /// <summary>A body serialized by <c>EmitJsonAsync</c>.</summary>
    public const string Json = "application/json";

    /// <summary>A protobuf message.</summary>
    public const string Protobuf = "application/protobuf";
}
