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
    private readonly Channel<(IReadOnlyList<JobRun> Runs, TaskCompletionSource<IReadOnlyList<bool>> Written)> _pending =
        Channel.CreateUnbounded<(IReadOnlyList<JobRun>, TaskCompletionSource<IReadOnlyList<bool>>)>(new UnboundedChannelOptions { SingleReader = false });

    // Two batches in flight: one commits while the next fills (a single loop left callers waiting a commit apart).
    private const int Writers = 2;
    private readonly Task _loop;

    public RunWriter(IJobStore store)
    {
        _store = store;
        _loop = Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(WriteLoopAsync)));
    }

    /// <summary>Writes <paramref name="run"/> if its version is still the stored one; false when it changed elsewhere.</summary>
    public async Task<bool> WriteAsync(JobRun run) => (await WriteAllAsync([run]).ConfigureAwait(false))[0];

    /// <summary>Writes <paramref name="runs"/> in one transaction (never split across two), each if its version is still the stored one.</summary>
    public Task<IReadOnlyList<bool>> WriteAllAsync(IReadOnlyList<JobRun> runs)
    {
        var written = new TaskCompletionSource<IReadOnlyList<bool>>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.Writer.TryWrite((runs, written)))
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
        var batch = new List<(IReadOnlyList<JobRun> Runs, TaskCompletionSource<IReadOnlyList<bool>> Written)>();
        while (await _pending.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            var count = 0;
            while (count < MaxBatch && _pending.Reader.TryRead(out var item))
            {
                batch.Add(item);
                count += item.Runs.Count;
            }

            // The other loop may have taken what woke this one.
            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var results = await _store.UpdateRunsAsync([.. batch.SelectMany(b => b.Runs)], CancellationToken.None).ConfigureAwait(false);
                var at = 0;
                foreach (var (runs, written) in batch)
                {
                    written.SetResult([.. results.Skip(at).Take(runs.Count)]);
                    at += runs.Count;
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
