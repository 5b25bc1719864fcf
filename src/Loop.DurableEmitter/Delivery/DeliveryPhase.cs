namespace Loop.DurableEmitter;

/// <summary>The <c>phase</c> attribute of the send instruments: how an event came to be sent.</summary>
internal static class DeliveryPhase
{
    /// <summary>The first send, queued by the emit that stored the event.</summary>
    public const string Batch = "batch";

    /// <summary>A send of a pending row claimed by the retransmit loop.</summary>
    public const string Retransmit = "retransmit";

    /// <summary>The single-event fallback publish after a failed batch send.</summary>
    public const string Fallback = "fallback";
}
