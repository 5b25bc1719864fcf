using System.Collections.Concurrent;

namespace Loop.Jobs.Running;

/// <summary>
/// Jobs and bridges by id, each read from the store once: a job's spec and a bridge never change once stored (a job's
/// archive time does, which the store checks itself when it creates a run; <see cref="Forget"/> drops an archived job).
/// </summary>
internal sealed class SpecCache<T>(Func<string, CancellationToken, Task<T?>> read, StringComparer comparer)
    where T : class
{
    private readonly ConcurrentDictionary<string, T> _known = new(comparer);

    public async Task<T?> FindAsync(string key, CancellationToken cancellationToken)
    {
        if (_known.TryGetValue(key, out var value))
        {
            return value;
        }

        value = await read(key, cancellationToken).ConfigureAwait(false);
        if (value is not null)
        {
            _known.TryAdd(key, value);
        }

        return value;
    }

    public void Forget(string key) => _known.TryRemove(key, out _);
}
