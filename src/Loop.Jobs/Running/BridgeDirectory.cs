using System.Collections.Concurrent;

namespace Loop.Jobs.Running;

/// <summary>The bridges by name, read from the store once each (a bridge does not change once added).</summary>
internal sealed class BridgeDirectory(IJobStore store)
{
    private readonly ConcurrentDictionary<string, StoredBridge> _known = new(StringComparer.Ordinal);

    public async Task<StoredBridge?> FindAsync(string taskType, CancellationToken cancellationToken)
    {
        var name = taskType.ToLowerInvariant();
        if (_known.TryGetValue(name, out var bridge))
        {
            return bridge;
        }

        bridge = await store.GetBridgeAsync(name, cancellationToken).ConfigureAwait(false);
        if (bridge is not null)
        {
            _known.TryAdd(name, bridge);
        }

        return bridge;
    }
}
