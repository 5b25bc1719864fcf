namespace Loop.Telemetry;

/// <summary>What to log for a failure in a run of failures.</summary>
internal enum OutageStep
{
    /// <summary>Nothing: the outage was reported less than an interval ago.</summary>
    None,

    /// <summary>The first failure after a success: a warning that the outage started.</summary>
    Started,

    /// <summary>An interval passed since the last line: one line with the count and duration so far.</summary>
    Ongoing,
}

/// <summary>
/// One run of failures of one thing (an ingress, a store operation, a full buffer), so that it is logged the way an
/// operator can read it: a warning when it starts, at most one line per interval with the count while it lasts, and
/// one line when it ends, instead of a line per failure. Thread-safe.
/// </summary>
/// <remarks>
/// With <c>recoverAfter</c>, a success ends the outage only when the last failure is that long ago: for failures that
/// come and go many times a second under load (a full buffer), so that they read as one outage, not a line per gap.
/// </remarks>
internal sealed class OutageTracker(TimeProvider timeProvider, TimeSpan interval, TimeSpan recoverAfter = default)
{
    private readonly Lock _gate = new();
    private long _since;
    private long _lastFailure;
    private long _lastLine;
    private int _failures;
    private string _lastError = string.Empty;

    /// <summary>Whether the last outcome was a failure.</summary>
    public bool Ongoing
    {
        get
        {
            lock (_gate)
            {
                return _failures > 0;
            }
        }
    }

    /// <summary>Failures in the current outage (0 when there is none).</summary>
    public int Failures
    {
        get
        {
            lock (_gate)
            {
                return _failures;
            }
        }
    }

    /// <summary>How long the current outage has lasted (zero when there is none).</summary>
    public TimeSpan Duration
    {
        get
        {
            lock (_gate)
            {
                return _failures > 0 ? timeProvider.GetElapsedTime(_since) : TimeSpan.Zero;
            }
        }
    }

    /// <summary>The error of the latest failure of the current outage.</summary>
    public string LastError
    {
        get
        {
            lock (_gate)
            {
                return _lastError;
            }
        }
    }

    /// <summary>Records a failure and says what to log for it.</summary>
    public OutageStep Fail(string error)
    {
        var now = timeProvider.GetTimestamp();
        lock (_gate)
        {
            _lastError = error;
            _lastFailure = now;
            if (_failures++ == 0)
            {
                _since = now;
                _lastLine = now;
                return OutageStep.Started;
            }

            if (timeProvider.GetElapsedTime(_lastLine, now) >= interval)
            {
                _lastLine = now;
                return OutageStep.Ongoing;
            }

            return OutageStep.None;
        }
    }

    /// <summary>Records a success; when it ends an outage, returns how many failures it had and how long it lasted (once).</summary>
    public (int Failures, TimeSpan Duration)? Succeed()
    {
        lock (_gate)
        {
            if (_failures == 0 || (recoverAfter > TimeSpan.Zero && timeProvider.GetElapsedTime(_lastFailure) < recoverAfter))
            {
                return null;
            }

            var ended = (_failures, timeProvider.GetElapsedTime(_since));
            _failures = 0;
            _lastError = string.Empty;
            return ended;
        }
    }
}
