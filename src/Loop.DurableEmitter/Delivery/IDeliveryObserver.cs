namespace Loop.DurableEmitter;

/// <summary>
/// Hears each event's delivery outcome, so that an application can react to delivery without polling the table.
/// Register with <c>AddDurableEmitter().AddDeliveryObserver&lt;T&gt;()</c>. Called on the emitter's threads: return
/// quickly; an exception thrown here is ignored (delivery goes on).
/// </summary>
public interface IDeliveryObserver
{
    /// <summary>The rows were delivered and marked delivered in the store.</summary>
    void OnDelivered(IReadOnlyList<long> rowIds);

    /// <summary>A send of the row failed; the row stays pending and is retransmitted (until it expires).</summary>
    void OnFailed(long rowId, Exception reason);
}
