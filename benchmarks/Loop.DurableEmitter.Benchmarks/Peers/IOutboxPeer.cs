namespace Loop.DurableEmitter.Benchmarks.Peers;

/// <summary>An outbox measured by <see cref="PeersHarness"/>: a call that returns once the event is durable, and a count of events delivered to its in-process sink.</summary>
internal interface IOutboxPeer : IAsyncDisposable
{
    /// <summary>Stores one event; returns when it is on disk.</summary>
    Task PublishAsync(byte[] body);

    /// <summary>Events delivered to the sink (and, where the library says so, marked done) so far; null for a case that delivers nothing (the floor, the ceiling, store-only).</summary>
    long? Delivered { get; }
}
