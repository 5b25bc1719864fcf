using System.Threading.Channels;

namespace Loop.DurableEmitter.Coalescing;

/// <summary>
/// Groups items written by many callers into batches handled by a fixed number of workers. Used for delivery marks
/// (many acks, one delete or update) and lease releases; inserts, whose callers wait, use <see cref="CallerLedBatcher{T}"/>.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class BatchCoalescer<T>
{
    private readonly Channel<T> _channel;
    private readonly Func<List<T>, CancellationToken, ValueTask> _flush;
    private readonly int _batchSize;
    private readonly TimeSpan _linger;
    private readonly TimeProvider _timeProvider;
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _abort = new();
    private readonly Action<T>? _onAbandoned;

    /// <param name="batchSize">The most items in one batch.</param>
    /// <param name="linger">How long a batch waits for more items after its first; zero sends what is ready.</param>
    /// <param name="workers">How many batches may be handled at once.</param>
    /// <param name="timeProvider">The clock for the linger.</param>
    /// <param name="flush">Handles one batch. It must not throw: it owns reporting each item's outcome.</param>
    /// <param name="onAbandoned">Told of each item a stop that ran out of time left unflushed.</param>
    public BatchCoalescer(
        int batchSize,
        TimeSpan linger,
        int workers,
        TimeProvider timeProvider,
        Func<List<T>, CancellationToken, ValueTask> flush,
        Action<T>? onAbandoned = null)
    {
        _onAbandoned = onAbandoned;
        _batchSize = Math.Max(1, batchSize);
        _linger = linger;
        _timeProvider = timeProvider;
        _flush = flush;
        _channel = Channel.CreateUnbounded<T>();
        _workers = new Task[Math.Max(1, workers)];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = Task.Run(RunWorkerAsync);
        }
    }

    /// <summary>Adds an item; false once completing.</summary>
    public bool TryAdd(T item) => _channel.Writer.TryWrite(item);

    /// <summary>Stops taking items, lets the workers flush what was added, and waits for them.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        using var registration = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _abort);
        await Task.WhenAll(_workers).ConfigureAwait(false);
        while (_channel.Reader.TryRead(out var left))
        {
            _onAbandoned?.Invoke(left);
        }

        _abort.Dispose();
    }

    private async Task RunWorkerAsync()
    {
        var batch = new List<T>(_batchSize);
        var token = _abort.Token;
        try
        {
            while (await ChannelBatchReader.ReadBatchAsync(_channel.Reader, batch, _batchSize, _linger, _timeProvider, token).ConfigureAwait(false))
            {
                await _flush(batch, token).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Aborted by a stop that ran out of time.
            foreach (var left in batch)
            {
                _onAbandoned?.Invoke(left);
            }
        }
    }
}
