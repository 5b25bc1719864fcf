using System.Threading.Channels;

namespace Loop.DurableEmitter.Coalescing;

/// <summary>Reads items from a channel in batches: up to a size, or until a linger measured from the batch's first item.</summary>
internal static class ChannelBatchReader
{
    /// <summary>
    /// Waits for a first item, then adds what is available up to <paramref name="maxItems"/>, waiting for more at most
    /// <paramref name="linger"/> after the first (a maximum age, not a debounce). Returns false once the channel is
    /// completed and drained.
    /// </summary>
    public static async ValueTask<bool> ReadBatchAsync<T>(
        ChannelReader<T> reader,
        List<T> batch,
        int maxItems,
        TimeSpan linger,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        batch.Clear();
        while (batch.Count == 0)
        {
            if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            Drain(reader, batch, maxItems);
        }

        if (batch.Count >= maxItems || linger <= TimeSpan.Zero)
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(linger, timeProvider);
        using var lingering = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (batch.Count < maxItems && await reader.WaitToReadAsync(lingering.Token).ConfigureAwait(false))
            {
                Drain(reader, batch, maxItems);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The linger ran out: send what we have.
        }

        return true;

        static void Drain(ChannelReader<T> reader, List<T> batch, int maxItems)
        {
            while (batch.Count < maxItems && reader.TryRead(out var item))
            {
                batch.Add(item);
            }
        }
    }
}
