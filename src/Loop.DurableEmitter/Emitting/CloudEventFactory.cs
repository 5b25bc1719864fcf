using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Loop.Events.CloudEvents;

namespace Loop.DurableEmitter;

/// <summary>Builds the CloudEvent the emitter persists: protobuf format, spec version 1.0.</summary>
internal sealed class CloudEventFactory(TimeProvider timeProvider)
{
    /// <summary>The value of the <c>emitter</c> extension on every event.</summary>
    public const string EmitterName = "DurableEmitter";

    /// <summary>Builds the event; <paramref name="idempotencyKey"/> is the key it carries (given or derived).</summary>
    public CloudEvent Create(ReadOnlyMemory<byte> body, EventAttributes attributes, out string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        if (string.IsNullOrWhiteSpace(attributes.Source))
        {
            throw new InvalidEventException("The event has no source: set EventAttributes.Source.", nameof(EventAttributes.Source));
        }

        if (string.IsNullOrWhiteSpace(attributes.Type))
        {
            throw new InvalidEventException("The event has no type: set EventAttributes.Type.", nameof(EventAttributes.Type));
        }

        idempotencyKey = string.IsNullOrEmpty(attributes.IdempotencyKey)
            ? IdempotencyKey.Compute(attributes.Source, attributes.Type, body.Span)
            : attributes.IdempotencyKey;

        var cloudEvent = new CloudEvent
        {
            Id = EventIds.Next(),
            Source = attributes.Source,
            Type = attributes.Type,
            SpecVersion = "1.0",
            ProtoData = new Any { TypeUrl = attributes.DataSchema ?? string.Empty, Value = ByteString.CopyFrom(body.Span) },
        };

        var attrs = cloudEvent.Attributes;
        if (attributes.Extensions is { } extensions)
        {
            foreach (var (name, value) in extensions)
            {
                ValidateExtensionName(name);
                attrs[name] = new CloudEventAttributeValue { CeString = value };
            }
        }

        attrs["datacontenttype"] = new CloudEventAttributeValue { CeString = attributes.DataContentType ?? ContentTypes.OctetStream };
        if (attributes.DataSchema is { Length: > 0 } schema)
        {
            attrs["dataschema"] = new CloudEventAttributeValue { CeUri = schema };
        }

        if (attributes.Subject is { Length: > 0 } subject)
        {
            attrs["subject"] = new CloudEventAttributeValue { CeString = subject };
        }

        if (attributes.Time is { } time)
        {
            attrs["time"] = new CloudEventAttributeValue { CeTimestamp = Timestamp.FromDateTimeOffset(time) };
        }

        var recorded = timeProvider.GetUtcNow();
        recorded = recorded.AddTicks(-(recorded.Ticks % TimeSpan.TicksPerMillisecond));
        attrs["recordedtime"] = new CloudEventAttributeValue { CeTimestamp = Timestamp.FromDateTimeOffset(recorded) };
        attrs["idempotencykey"] = new CloudEventAttributeValue { CeString = idempotencyKey };
        attrs["emitter"] = new CloudEventAttributeValue { CeString = EmitterName };
        return cloudEvent;
    }

    private static void ValidateExtensionName(string name)
    {
        // CloudEvents: attribute names are lowercase ASCII letters or digits, at most 20 characters recommended.
        if (name.Length == 0 || name.Any(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9'))))
        {
            throw new InvalidEventException(
                $"The extension attribute name \"{name}\" is not a CloudEvents attribute name (lowercase a-z and 0-9 only).",
                nameof(EventAttributes.Extensions));
        }
    }
}
