namespace Loop.Jobs;

/// <summary>
/// What a head tracker holds, thread-safe: the latest head (replaced only by a later one), whether it is connected, and
/// the trackables it tells (added and removed from any thread, read as a snapshot to tell outside the lock).
/// </summary>
internal sealed class TrackedHead(bool connected = false, Head? head = null)
{
    private readonly Lock _gate = new();
    private readonly List<IHeadTrackable> _trackables = [];
    private Head? _head = head;
    private bool _connected = connected;

    public Head? Head
    {
        get
        {
            lock (_gate)
            {
                return _head;
            }
        }
    }

    public bool Connected
    {
        get
        {
            lock (_gate)
            {
                return _connected;
            }
        }
    }

    /// <summary>Holds <paramref name="head"/> if it is later than the one held; returns whether it was.</summary>
    public bool TryAdvance(Head head)
    {
        lock (_gate)
        {
            return AdvanceLocked(head);
        }
    }

    /// <summary>
    /// Marks the tracker connected and holds <paramref name="head"/> if it is later than the one held, in one step, so
    /// no reader sees the new head while the tracker still reads as disconnected; returns whether the head was later.
    /// </summary>
    public bool Connect(Head head)
    {
        lock (_gate)
        {
            _connected = true;
            return AdvanceLocked(head);
        }
    }

    /// <summary>Holds <paramref name="head"/> if none is held (a head read back from a store).</summary>
    public void Seed(Head head)
    {
        lock (_gate)
        {
            _head ??= head;
        }
    }

    /// <summary>Sets the connection state; returns whether it changed, and the head held.</summary>
    public (bool Changed, Head? Head) SetConnected(bool connected)
    {
        lock (_gate)
        {
            var changed = _connected != connected;
            _connected = connected;
            return (changed, _head);
        }
    }

    /// <summary>Adds <paramref name="trackable"/>; dispose the result to remove it.</summary>
    public IDisposable Add(IHeadTrackable trackable)
    {
        ArgumentNullException.ThrowIfNull(trackable);
        lock (_gate)
        {
            _trackables.Add(trackable);
        }

        return new Registration(this, trackable);
    }

    /// <summary>The trackables now, to tell outside the lock.</summary>
    public List<IHeadTrackable> Snapshot()
    {
        lock (_gate)
        {
            return [.. _trackables];
        }
    }

    private bool AdvanceLocked(Head head)
    {
        if (_head is not null && head.Number <= _head.Number)
        {
            return false;
        }

        _head = head;
        return true;
    }

    private sealed class Registration(TrackedHead tracked, IHeadTrackable trackable) : IDisposable
    {
        public void Dispose()
        {
            lock (tracked._gate)
            {
                tracked._trackables.Remove(trackable);
            }
        }
    }
}
