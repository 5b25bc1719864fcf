using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loop.Services;

/// <summary>
/// Runs a piece of work in the background whenever it is woken, optionally also every <c>interval</c>.
/// </summary>
/// <remarks>
/// The promise: every <see cref="WakeUp"/> is followed by at least one run of the work that starts after it;
/// <see cref="WakeUp"/> never blocks; the work never runs twice at once. Wake-ups that arrive while a run is pending
/// coalesce into that run, so the work should be idempotent. A run that throws is logged and does not stop the task.
/// </remarks>
public sealed partial class SleeperTask : IAsyncDisposable
{
    // Capacity one: a pending wake-up already promises a run that starts after every later wake-up.
    private readonly Channel<bool> _wakeUps = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly Func<CancellationToken, ValueTask> _work;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan? _interval;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task? _loop;
    private Task? _stopped;
    private ITimer? _timer;
    private long _runs;

    /// <summary>Creates a sleeper task; it does nothing until <see cref="Start"/>.</summary>
    /// <param name="name">A name for logs.</param>
    /// <param name="work">The work. Its token is cancelled when the task stops.</param>
    /// <param name="interval">When set, the task also wakes itself this often.</param>
    /// <param name="timeProvider">The clock for the interval; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">Where failed runs are logged.</param>
    public SleeperTask(
        string name,
        Func<CancellationToken, ValueTask> work,
        TimeSpan? interval = null,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(work);
        if (interval is { } i && i <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The interval must be positive.");
        }

        Name = name;
        _work = work;
        _interval = interval;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The task's name.</summary>
    public string Name { get; }

    /// <summary>How many runs of the work have finished, successful or not.</summary>
    internal long CompletedRuns => Interlocked.Read(ref _runs);

    /// <summary>Starts the background loop (and the interval timer, if any).</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_loop is not null || _stopped is not null)
            {
                throw new InvalidOperationException($"SleeperTask {Name} was already started.");
            }

            _loop = Task.Run(RunAsync);
            if (_interval is { } interval)
            {
                _timer = _timeProvider.CreateTimer(static s => ((SleeperTask)s!).WakeUp(), this, interval, interval);
            }
        }
    }

    /// <summary>Asks for a run of the work. Never blocks; ignored once the task is stopping.</summary>
    public void WakeUp() => _wakeUps.Writer.TryWrite(true);

    /// <summary>Stops the loop: cancels a run in progress and waits for it to end. Idempotent.</summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopped ??= StopCoreAsync();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task StopCoreAsync()
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        _wakeUps.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _stopping.Token;
        var reader = _wakeUps.Reader;
        try
        {
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                // Take the wake-up before running, so a wake-up during the run queues the next run.
                reader.TryRead(out _);
                try
                {
                    await _work(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    LogWorkFailed(_logger, Name, ex);
                }
                finally
                {
                    Interlocked.Increment(ref _runs);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    // It logs on its owner's logger, so its id must be clear of every package's own ids (they start at 1): the 900s are
    // Loop.Abstractions'.
    [LoggerMessage(EventId = 901, Level = LogLevel.Error, Message = "SleeperTask {Name}: a run of the work failed")]
    private static partial void LogWorkFailed(ILogger logger, string name, Exception exception);
}
