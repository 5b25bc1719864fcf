namespace Loop.Jobs;

/// <summary>The trackables a head tracker tells of its connection and heads: added and removed from any thread, read as a snapshot.</summary>
internal sealed class HeadTrackables
{
    private readonly Lock _gate = new();
    private readonly List<IHeadTrackable> _trackables = [];

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

    private sealed class Registration(HeadTrackables list, IHeadTrackable trackable) : IDisposable
    {
        public void Dispose()
        {
            lock (list._gate)
            {
                list._trackables.Remove(trackable);
            }
        }
    }
}
