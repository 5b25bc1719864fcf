namespace Loop.DurableEmitter;

/// <summary>The base of the errors the durable emitter raises.</summary>
public class DurableEmitterException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DurableEmitterException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>An event cannot be built from the given body and attributes; nothing was stored.</summary>
public sealed class InvalidEventException : ArgumentException
{
    /// <summary>Creates the exception naming the attribute at fault.</summary>
    public InvalidEventException(string message, string attributeName)
        : base(message, attributeName)
    {
    }
}

/// <summary>
/// The store did not accept the event. The emit did not succeed; the event may or may not have reached the store (a
/// timeout can hide a commit), and if it did it will still be delivered.
/// </summary>
public sealed class EventPersistenceException : DurableEmitterException
{
    /// <summary>Creates the exception.</summary>
    public EventPersistenceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The event was not sent: its row's lease would end before a send could finish (it waited too long in the transport's
/// buffer), and after that another process may send it. The row stays pending and is retransmitted.
/// </summary>
public sealed class DeliveryLeaseEndedException : DurableEmitterException
{
    /// <summary>Creates the exception for the event <paramref name="eventId"/>.</summary>
    public DeliveryLeaseEndedException(string eventId)
        : base($"event {eventId} was not sent: its lease would end before a send could finish; it stays pending for retransmit")
    {
        EventId = eventId;
    }

    /// <summary>The CloudEvent id.</summary>
    public string EventId { get; }
}
