using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Google.Protobuf;

namespace Loop.DurableEmitter;

/// <summary>
/// Typed bodies for <see cref="IDurableEventEmitter"/>: each serializes the value and labels the event with its
/// content type (and a protobuf message with its type URL), unless the attributes already name them.
/// </summary>
/// <remarks>
/// The JSON methods are named <c>EmitJsonAsync</c> rather than a generic <c>EmitAsync&lt;T&gt;</c>, which C# would
/// prefer over the <see cref="IMessage"/> overload for every protobuf message and so serialize messages as JSON.
/// </remarks>
public static class TypedEmitExtensions
{
    /// <summary>The type URL prefix of protobuf messages (as <c>google.protobuf.Any</c> writes it).</summary>
    public const string TypeUrlPrefix = "type.googleapis.com/";

    /// <summary>
    /// Emits <paramref name="value"/> as JSON with System.Text.Json's source-generated <paramref name="typeInfo"/>
    /// (trim- and AOT-safe); <c>datacontenttype</c> <c>application/json</c>.
    /// </summary>
    public static ValueTask<EmitReceipt> EmitJsonAsync<T>(
        this IDurableEventEmitter emitter, T value, JsonTypeInfo<T> typeInfo, EventAttributes attributes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(emitter);
        ArgumentNullException.ThrowIfNull(typeInfo);
        ArgumentNullException.ThrowIfNull(attributes);
        return emitter.EmitAsync(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), WithContentType(attributes, ContentTypes.Json), cancellationToken);
    }

    /// <summary>
    /// Emits <paramref name="value"/> as JSON with reflection-based System.Text.Json and its web defaults (camelCase);
    /// <c>datacontenttype</c> <c>application/json</c>. Prefer the <see cref="JsonTypeInfo{T}"/> overload in trimmed or
    /// Native AOT applications.
    /// </summary>
    [RequiresUnreferencedCode("Reflection-based JSON serialization; use the JsonTypeInfo<T> overload when trimming.")]
    [RequiresDynamicCode("Reflection-based JSON serialization; use the JsonTypeInfo<T> overload under Native AOT.")]
    public static ValueTask<EmitReceipt> EmitJsonAsync<T>(
        this IDurableEventEmitter emitter, T value, EventAttributes attributes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(emitter);
        ArgumentNullException.ThrowIfNull(attributes);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, JsonSerializerOptions.Web);
        return emitter.EmitAsync(bytes, WithContentType(attributes, ContentTypes.Json), cancellationToken);
    }

    /// <summary>
    /// Emits a protobuf <paramref name="message"/>: <c>datacontenttype</c> <c>application/protobuf</c>, and the
    /// message's type URL (<c>type.googleapis.com/&lt;full name&gt;</c>) as <c>dataschema</c> and as the payload's type.
    /// </summary>
    public static ValueTask<EmitReceipt> EmitAsync(
        this IDurableEventEmitter emitter, IMessage message, EventAttributes attributes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(emitter);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(attributes);
        var labelled = attributes with
        {
            DataContentType = attributes.DataContentType ?? ContentTypes.Protobuf,
            DataSchema = attributes.DataSchema ?? TypeUrlPrefix + message.Descriptor.FullName,
        };
        return emitter.EmitAsync(message.ToByteArray(), labelled, cancellationToken);
    }

    private static EventAttributes WithContentType(EventAttributes attributes, string contentType) =>
        attributes.DataContentType is null ? attributes with { DataContentType = contentType } : attributes;
}
