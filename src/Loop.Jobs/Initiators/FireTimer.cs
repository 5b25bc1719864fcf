namespace Loop.Jobs.Initiators;

/// <summary>
/// The timer of the cron and run-at initiators: it fires each occurrence <see cref="Lead"/> before it is due (so that
/// the fire and its run are stored when the run is due; the run itself waits for the occurrence as its wake time),
/// never earlier (system timers may fire a millisecond early: it is set again), and sets itself for the next
/// occurrence before the fire is stored, so a slow store does not shift the cadence. Disposing stops it and waits for
/// fires in flight.
/// </summary>
internal sealed class FireTimer : IAsyncDisposable
{
    /// <summary>
    /// How long before its occurrence a fire is written (and its run claimed): a store that stalls for less than this
    /// (a PostgreSQL checkpoint's fsync, measured at ~0.8 s on this machine) does not make the run late.
    /// </summary>
    public static readonly TimeSpan Lead = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _clock;
    private readonly Func<DateTimeOffset, DateTimeOffset, DateTimeOffset?> _next;
    private readonly Func<DateTimeOffset, Task> _fire;
    private readonly Lock _gate = new();
    private readonly List<Task> _inFlight = [];
    private ITimer? _timer;
    private bool _stopped;

    /// <summary>Starts the timer for <paramref name="first"/>.</summary>
    /// <param name="clock">The clock.</param>
    /// <param name="first">The first occurrence.</param>
    /// <param name="next">The occurrence after one that fired, given it and the time (null: none).</param>
    /// <param name="fire">Stores the fire of an occurrence; it must not throw.</param>
    public FireTimer(TimeProvider clock, DateTimeOffset first, Func<DateTimeOffset, DateTimeOffset, DateTimeOffset?> next, Func<DateTimeOffset, Task> fire)
    {
        _clock = clock;
        _next = next;
        _fire = fire;
        Arm(first);
    }

    public async ValueTask DisposeAsync()
    {
        Task[] inFlight;
        lock (_gate)
        {
            _stopped = true;
            _timer?.Dispose();
            inFlight = [.. _inFlight];
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    private void Arm(DateTimeOffset occurrence)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _timer?.Dispose();
            var due = occurrence - Lead - _clock.GetUtcNow();
            _timer = _clock.CreateTimer(_ => Fired(occurrence), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fired(DateTimeOffset occurrence)
    {
        var now = _clock.GetUtcNow();
        if (now < occurrence - Lead)
        {
            Arm(occurrence);
            return;
        }

        if (_next(occurrence, now) is { } next)
        {
            Arm(next);
        }

        var fire = _fire(occurrence);
        lock (_gate)
        {
            _inFlight.Add(fire);
        }

        _ = fire.ContinueWith(done => { lock (_gate) { _inFlight.Remove(done); } }, TaskScheduler.Default);
    }
}
