using System.Threading.Channels;

namespace Loop.Jobs.Running;

/// <summary>
/// Writes run updates from every executing run through one loop that takes all updates waiting and writes them in one
/// store call (one transaction): with many runs in flight, one commit carries many task results instead of one each.
/// </summary>
internal sealed class RunWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private readonly IJobStore _store;
    private readonly Channel<(JobRun Run, TaskCompletionSource<bool> Written)> _pending =
        Channel.CreateUnbounded<(JobRun, TaskCompletionSource<bool>)>(new UnboundedChannelOptions { SingleReader = false });

    // Two batches in flight: one commits while the next fills (a single loop left callers waiting a commit apart).
    private const int Writers = 2;
    private readonly Task _loop;

    public RunWriter(IJobStore store)
    {
        _store = store;
        _loop = Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteLoopAsync)));
    }

    /// <summary>Writes <paramref name="run"/> if its version is still the stored one; false when it changed elsewhere.</summary>
    public Task<bool> WriteAsync(JobRun run)
    {
        var written = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((run, written)))
        {
            written.SetException(new ObjectDisposedException(nameof(RunWriter)));
        }

        return written.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<(JobRun Run, TaskCompletionSource<bool> Written)>(MaxBatch);
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                var results = await _store.UpdateRunsAsync([.. batch.Select(b => b.Run)], CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Written.SetResult(results[i]);
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, written) in batch)
                {
                    written.SetException(ex);
                }
            }
        }
    }
}
