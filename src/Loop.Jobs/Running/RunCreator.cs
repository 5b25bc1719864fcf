using System.Threading.Channels;

namespace Loop.Jobs.Running;

/// <summary>
/// Creates runs from every caller through one loop that takes all creations waiting and writes them in one store call
/// (one transaction): many callers starting runs at once share a commit instead of paying one each.
/// </summary>
internal sealed class RunCreator : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly IJobStore _store;
    private readonly Channel<(NewRun Run, TaskCompletionSource<bool> Created)> _pending =
        Channel.CreateUnbounded<(NewRun, TaskCompletionSource<bool>)>(new UnboundedChannelOptions { SingleReader = false });

    // Two batches in flight: one commits while the next fills (a single loop left callers waiting a commit apart).
    private const int Writers = 2;
    private readonly Task _loop;

    public RunCreator(IJobStore store)
    {
        _store = store;
        _loop = Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(CreateLoopAsync)));
    }

    /// <summary>Creates the run; false when its fire was taken or its job is archived or gone.</summary>
    public Task<bool> CreateAsync(JobRun run, InitiatorFire? fire)
    {
        var created = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((new NewRun(run, fire), created)))
        {
            created.SetException(new ObjectDisposedException(nameof(RunCreator)));
        }

        return created.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task CreateLoopAsync()
    {
        var batch = new List<(NewRun Run, TaskCompletionSource<bool> Created)>(MaxBatch);
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            // The other loop may have taken what woke this one.
            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var results = await _store.CreateRunsAsync([.. batch.Select(b => b.Run)], CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Created.SetResult(results[i]);
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, created) in batch)
                {
                    created.SetException(ex);
                }
            }
        }
    }
}
