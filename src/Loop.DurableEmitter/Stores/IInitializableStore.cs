namespace Loop.DurableEmitter;

/// <summary>A store that prepares itself (schema, connections) before the emitter starts using it.</summary>
public interface IInitializableStore
{
    /// <summary>Prepares the store. Idempotent.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken = default);
}
