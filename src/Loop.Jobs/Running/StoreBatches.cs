using System.Threading.Channels;

namespace Loop.Jobs.Running;

/// <summary>
/// Hands the store every item waiting, from every caller, in one call (one statement, one commit), with two calls in
/// flight so that one commits while the next fills: many runs created or written at once share a commit instead of
/// paying one each. The items one caller submits together go in one call, never split across two. Used for run
/// creations (<see cref="IJobStore.CreateRunsAsync"/>) and run writes (<see cref="IJobStore.UpdateRunsAsync"/>).
/// </summary>
internal sealed class StoreBatches<TItem, TResult> : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private const int Loops = 2;
    private readonly Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> _store;
    private readonly Channel<(IReadOnlyList<TItem> Items, TaskCompletionSource<IReadOnlyList<TResult>> Done)> _pending =
        Channel.CreateUnbounded<(IReadOnlyList<TItem>, TaskCompletionSource<IReadOnlyList<TResult>>)>();

    private readonly Task _loops;

    public StoreBatches(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> store)
    {
        _store = store;
        _loops = Task.WhenAll(Enumerable.Range(0, Loops).Select(_ => Task.Run(LoopAsync)));
    }

    /// <summary>The store's result for <paramref name="item"/>.</summary>
    public async Task<TResult> OneAsync(TItem item) => (await AllAsync([item]).ConfigureAwait(false))[0];

    /// <summary>The store's results for <paramref name="items"/>, handed to it in one call.</summary>
    public Task<IReadOnlyList<TResult>> AllAsync(IReadOnlyList<TItem> items)
    {
        var done = new TaskCompletionSource<IReadOnlyList<TResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((items, done)))
        {
            done.SetException(new ObjectDisposedException(nameof(StoreBatches<TItem, TResult>)));
        }

        return done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loops.ConfigureAwait(false);
    }

    private async Task LoopAsync()
    {
        var batch = new List<(IReadOnlyList<TItem> Items, TaskCompletionSource<IReadOnlyList<TResult>> Done)>();
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var count = 0;
            while (count < MaxBatch && _pending.Reader.TryRead(out var submitted))
            {
                batch.Add(submitted);
                count += submitted.Items.Count;
            }

            // The other loop may have taken what woke this one.
            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var results = await _store([.. batch.SelectMany(b => b.Items)]).ConfigureAwait(false);
                var at = 0;
                foreach (var (items, done) in batch)
                {
                    done.SetResult([.. results.Skip(at).Take(items.Count)]);
                    at += items.Count;
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, done) in batch)
                {
                    done.SetException(ex);
                }
            }
        }
    }
}
