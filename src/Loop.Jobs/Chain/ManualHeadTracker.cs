namespace Loop.Jobs;

/// <summary>
/// A head tracker set by code (<see cref="SetHeadAsync"/>, <see cref="ConnectAsync"/>, <see cref="DisconnectAsync"/>):
/// for hosts that learn heads some other way, and for tests. Keeps only heads later than the one held, and tells its
/// trackables in order, one call at a time.
/// </summary>
public sealed class ManualHeadTracker : IHeadTracker
{
    private readonly SemaphoreSlim _notify = new(1, 1);
    private readonly TrackedHead _tracked;

    /// <summary>Creates a tracker, connected or not, with an optional first head.</summary>
    public ManualHeadTracker(bool connected = true, Head? head = null)
    {
        _tracked = new TrackedHead(connected, head);
    }

    /// <inheritdoc />
    public Head? Head => _tracked.Head;

    /// <inheritdoc />
    public bool Connected => _tracked.Connected;

    /// <inheritdoc />
    public IDisposable Register(IHeadTrackable trackable) => _tracked.Add(trackable);

    /// <summary>Sets the head when it is later than the one held, and tells the trackables; returns whether it was later.</summary>
    public async Task<bool> SetHeadAsync(Head head, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(head);
        await _notify.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_tracked.TryAdvance(head))
            {
                return false;
            }

            foreach (var trackable in _tracked.Snapshot())
            {
                await trackable.OnNewHeadAsync(head, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _notify.Release();
        }
    }

    /// <summary>Marks the tracker connected and tells the trackables.</summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default) =>
        SetConnectedAsync(true, cancellationToken);

    /// <summary>Marks the tracker disconnected and tells the trackables.</summary>
    public Task DisconnectAsync(CancellationToken cancellationToken = default) =>
        SetConnectedAsync(false, cancellationToken);

    private async Task SetConnectedAsync(bool connected, CancellationToken cancellationToken)
    {
        await _notify.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (changed, head) = _tracked.SetConnected(connected);
            if (!changed)
            {
                return;
            }

            foreach (var trackable in _tracked.Snapshot())
            {
                await (connected ? trackable.ConnectAsync(head, cancellationToken) : trackable.DisconnectAsync(cancellationToken)).ConfigureAwait(false);
            }
        }
        finally
        {
            _notify.Release();
        }
    }
}
