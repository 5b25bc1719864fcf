using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Loop.DurableEmitter.Coalescing;

/// <summary>
/// Groups items from many callers into batches that the callers flush themselves. A caller whose item arrives while
/// fewer than the allowed number of flushes run leads one at once, on its own thread, with what is queued (its own
/// item first among them when nothing waits); items that arrive meanwhile wait for the next flush, which is led from
/// the thread pool as soon as a flush ends. Used for inserts: a lone emit so pays no hand-off to a worker thread and
/// back, which took a fifth of its time (see docs/benchmarks.md), and under load batches form as they did with workers.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class CallerLedBatcher<T>
{
    private readonly ConcurrentQueue<T> _queue = new();
    private readonly Func<List<T>, CancellationToken, ValueTask> _flush;
    private readonly int _batchSize;
    private readonly int _maxFlushes;
    private readonly TimeSpan _linger;
    private readonly TimeProvider _timeProvider;
    private readonly Action<T> _onAbandoned;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _flushes;
    private volatile bool _completing;

    /// <param name="batchSize">The most items in one batch.</param>
    /// <param name="linger">How long a flush waits for more items before it takes the queue; zero takes what is queued.</param>
    /// <param name="maxFlushes">How many batches may be flushed at once.</param>
    /// <param name="timeProvider">The clock for the linger.</param>
    /// <param name="flush">Handles one batch. It must not throw: it owns reporting each item's outcome.</param>
    /// <param name="onAbandoned">Told of each item a stop that ran out of time left unflushed.</param>
    public CallerLedBatcher(
        int batchSize,
        TimeSpan linger,
        int maxFlushes,
        TimeProvider timeProvider,
        Func<List<T>, CancellationToken, ValueTask> flush,
        Action<T> onAbandoned)
    {
        _batchSize = Math.Max(1, batchSize);
        _maxFlushes = Math.Max(1, maxFlushes);
        _linger = linger;
        _timeProvider = timeProvider;
        _flush = flush;
        _onAbandoned = onAbandoned;
    }

    /// <summary>
    /// Queues an item, and flushes a batch on the caller's thread when a flush may start; returns when the item is
    /// either flushed or queued behind a running flush (its outcome is the item's own to report).
    /// </summary>
    /// <exception cref="ChannelClosedException">The batcher is completing.</exception>
    public ValueTask AddAsync(T item)
    {
        if (_completing)
        {
            throw new ChannelClosedException();
        }

        _queue.Enqueue(item);
        return LeadAsync();
    }

    /// <summary>Takes no new items, waits for the queued ones to be flushed, and abandons what is left if <paramref name="cancellationToken"/> ends first.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        _completing = true;
        SignalIfIdle();
        try
        {
            await _idle.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of time: running flushes are cancelled (each reports its items), queued items are abandoned.
            await _abort.CancelAsync().ConfigureAwait(false);
            while (_queue.TryDequeue(out var left))
            {
                _onAbandoned(left);
            }

            await _idle.Task.ConfigureAwait(false);
        }

        while (_queue.TryDequeue(out var left))
        {
            _onAbandoned(left);
        }
    }

    private async ValueTask LeadAsync()
    {
        // Whoever ends a flush looks at the queue after giving its slot back, and whoever queues an item tries for a
        // slot after queuing it: so an item is never left queued with nobody to flush it.
        if (!TryTakeSlot())
        {
            return;
        }

        try
        {
            if (_linger > TimeSpan.Zero && !_abort.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(_linger, _timeProvider, _abort.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_abort.IsCancellationRequested)
                {
                    // Stopping out of time: flush what is queued now (the flush sees the same cancellation).
                }
            }

            var batch = new List<T>(Math.Min(_batchSize, 64));
            while (batch.Count < _batchSize && _queue.TryDequeue(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count > 0)
            {
                await _flush(batch, _abort.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _flushes);
            if (!_queue.IsEmpty)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static self => _ = self.LeadAsync().AsTask(), this, preferLocal: false);
            }
            else
            {
                SignalIfIdle();
            }
        }
    }

    private bool TryTakeSlot()
    {
        var flushes = Volatile.Read(ref _flushes);
        while (flushes < _maxFlushes)
        {
            var seen = Interlocked.CompareExchange(ref _flushes, flushes + 1, flushes);
            if (seen == flushes)
            {
                return true;
            }

            flushes = seen;
        }

        return false;
    }

    private void SignalIfIdle()
    {
        if (_completing && Volatile.Read(ref _flushes) == 0 && _queue.IsEmpty)
        {
            _idle.TrySetResult();
        }
    }
}
