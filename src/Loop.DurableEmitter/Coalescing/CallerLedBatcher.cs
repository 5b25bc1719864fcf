using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Loop.DurableEmitter.Coalescing;

/// <summary>
/// Groups items from many callers into batches that the callers flush themselves (a group commit). A caller whose item
/// arrives while a flush may start leads one at once, on its own thread, with what is queued; items that arrive while
/// the allowed flushes run wait for the next. So a lone emit pays no hand-off to a worker thread and back.
/// </summary>
/// <remarks>
/// The callers of a flushed batch are woken one by one, and callers that emit in a loop queue again at once. A flush
/// led by the first of them back would hold one row while the rest wait for its commit (measured: 4 rows a batch at
/// 16 callers, against 16 for the commit ceiling). So after a batch, the caller that brings back the last of its
/// callers leads (or the batch fills first); callers that do not come back are waited for at most
/// <see cref="ReturnWait"/>, after which the next <see cref="BatchesWithoutWaitAfterTimeout"/> batches do not wait.
/// <para>
/// While a flush runs, another starts only for a whole batch: fewer items wait for the running flush to end, whose
/// end leads them. Started at once, each of them led a commit of one or two rows beside it, so several small commits
/// raced for the same WAL flushes (measured, 16 callers and 4 flushes allowed: 11.8k emits/s against 14.3k for one
/// flush at a time; with this rule 13.7k against 14.1k; 64 callers 21.2k against 18.5k). Several flushes still run
/// when more than a batch waits, as under a burst, or where each commit waits on a remote server. An insert that hangs
/// (a lock, a lost connection) so holds the emits queued behind it until it ends, at most the emitter's publish
/// timeout, instead of each of them taking a connection into the same wait.
/// </para>
/// <para>
/// The wait's state (callers expected, whether its timer is set, batches left without a wait) changes under one lock,
/// held for a few instructions: with separate atomics a returning caller could disarm the timer just after a flush
/// ending on another thread had armed it, leaving "armed" set with no timer to fire, and queued items with nobody to
/// lead them once callers stopped coming back.
/// </para>
/// </remarks>
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
    private readonly ITimer _wake;
    private readonly Lock _gate = new();
    private int _flushes;
    private volatile bool _completing;

    // Guarded by _gate. _wakeArmed is true only while a timer fire is pending.
    private int _returning;
    private int _skipWaits;
    private bool _wakeArmed;

    /// <param name="batchSize">The most items in one batch.</param>
    /// <param name="linger">How long a flush waits for more items before it takes the queue; zero takes what is queued.</param>
    /// <param name="maxFlushes">How many batches may be flushed at once.</param>
    /// <param name="timeProvider">The clock for the linger.</param>
    /// <param name="returnWaitClock">
    /// The clock of the wait for returning callers: <see cref="TimeProvider.System"/> in the emitter, whatever clock its
    /// events are dated by, since it is thread scheduling, not time the caller configured; a test may pass a fake one.
    /// </param>
    /// <param name="flush">Handles one batch. It must not throw: it owns reporting each item's outcome.</param>
    /// <param name="onAbandoned">Told of each item a stop that ran out of time left unflushed.</param>
    public CallerLedBatcher(
        int batchSize,
        TimeSpan linger,
        int maxFlushes,
        TimeProvider timeProvider,
        TimeProvider returnWaitClock,
        Func<List<T>, CancellationToken, ValueTask> flush,
        Action<T> onAbandoned)
    {
        _batchSize = Math.Max(1, batchSize);
        _maxFlushes = Math.Max(1, maxFlushes);
        _linger = linger;
        _timeProvider = timeProvider;
        _flush = flush;
        _onAbandoned = onAbandoned;
        _wake = returnWaitClock.CreateTimer(static s => ((CallerLedBatcher<T>)s!).StopWaiting(timedOut: true), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How long a batch waits at most for the callers of the previous batch to come back (see <see cref="AddAsync"/>).</summary>
    public static TimeSpan ReturnWait { get; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// After a wait for returning callers ran out (callers that emit once and go, as requests do), this many batches
    /// are flushed without waiting before it is tried again: such callers pay the wait once in that many batches.
    /// </summary>
    public const int BatchesWithoutWaitAfterTimeout = 16;

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

        // Group commit: the callers of the batch just flushed are woken one by one, and most emit again at once. A
        // flush led by the first of them to come back would hold one row, and the others would wait for it to commit;
        // so while callers of the last batch are still expected (and the batch is not full), the caller that brings
        // the last of them leads. A caller that does not come back is waited for at most ReturnWait.
        lock (_gate)
        {
            if (_returning > 0)
            {
                _returning--;
                if (_returning > 0 && _queue.Count < _batchSize)
                {
                    ArmWakeLocked();
                    return ValueTask.CompletedTask;
                }

                if (_returning == 0)
                {
                    // The last one is back: the wait is over before its timer.
                    DisarmWakeLocked();
                }
            }
        }

        return LeadAsync();
    }

    /// <summary>Takes no new items, waits for the queued ones to be flushed, and abandons what is left if <paramref name="cancellationToken"/> ends first.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        _completing = true;
        StopWaiting(timedOut: false);
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

            SignalIfIdle();
            await _idle.Task.ConfigureAwait(false);
        }

        _wake.Dispose();
    }

    private async ValueTask LeadAsync()
    {
        // Whoever ends a flush looks at the queue after giving its slot back, and whoever queues an item tries for a
        // slot after queuing it: so an item is never left queued with nobody to flush it.
        if (!TryTakeSlot())
        {
            return;
        }

        var flushed = 0;
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

            // A stop out of time abandons what is still queued.
            while (batch.Count < _batchSize && !_abort.IsCancellationRequested && _queue.TryDequeue(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count > 0)
            {
                await _flush(batch, _abort.Token).ConfigureAwait(false);
                flushed = batch.Count;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _flushes);
            EndFlush(flushed);
        }
    }

    /// <summary>After a flush of <paramref name="flushed"/> items: expects its callers back, and sees that what was queued meanwhile gets a leader.</summary>
    private void EndFlush(int flushed)
    {
        if (_abort.IsCancellationRequested)
        {
            SignalIfIdle();
            return;
        }

        bool lead;
        lock (_gate)
        {
            if (flushed > 0)
            {
                if (_skipWaits > 0)
                {
                    _skipWaits--;
                }
                else if (!_completing)
                {
                    _returning += flushed;
                }
            }

            if (_queue.IsEmpty)
            {
                lead = false;
            }
            else if (_returning == 0)
            {
                lead = true;
            }
            else
            {
                // Queued meanwhile, and callers of this batch are expected: the last of them leads, or the timer does.
                ArmWakeLocked();
                return;
            }
        }

        if (lead)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => _ = self.LeadAsync().AsTask(), this, preferLocal: false);
        }
        else
        {
            SignalIfIdle();
        }
    }

    private void ArmWakeLocked()
    {
        if (!_wakeArmed)
        {
            _wakeArmed = true;
            _wake.Change(ReturnWait, Timeout.InfiniteTimeSpan);
        }
    }

    private void DisarmWakeLocked()
    {
        if (_wakeArmed)
        {
            // A fire already under way still runs; it finds nothing to stop waiting for, or ends a later wait early.
            _wakeArmed = false;
            _wake.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Callers of the last batch that have not come back by now are not waited for.</summary>
    private void StopWaiting(bool timedOut)
    {
        lock (_gate)
        {
            if (_returning > 0 && timedOut)
            {
                _skipWaits = BatchesWithoutWaitAfterTimeout;
            }

            _returning = 0;
            _wakeArmed = false;
        }

        if (!_queue.IsEmpty)
        {
            _ = LeadAsync().AsTask();
        }
    }

    private bool TryTakeSlot()
    {
        var flushes = Volatile.Read(ref _flushes);
        while (flushes < _maxFlushes)
        {
            // A second flush starts only for a whole batch: less waits for the running one to end (its end leads what is
            // queued), so that queued items make one commit instead of several small ones racing for the same WAL flush.
            if (flushes > 0 && _queue.Count < _batchSize)
            {
                return false;
            }

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
