using Loop.DurableEmitter.Ingress;

namespace Loop.DurableEmitter;

/// <summary>The ingress answered, but refused one event. The event stays stored and is retried until it expires.</summary>
public sealed class IngressRejectedException : DurableEmitterException
{
    /// <summary>Creates the exception.</summary>
    public IngressRejectedException(string eventId, PublishErrorCode code, string reason)
        : base($"The ingress rejected event {eventId}: {code}: {reason}")
    {
        EventId = eventId;
        Code = code;
        Reason = reason;
    }

    /// <summary>The CloudEvent id.</summary>
    public string EventId { get; }

    /// <summary>The ingress's error code.</summary>
    public PublishErrorCode Code { get; }

    /// <summary>The ingress's reason.</summary>
    public string Reason { get; }
}
