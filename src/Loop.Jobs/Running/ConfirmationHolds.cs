namespace Loop.Jobs.Running;

/// <summary>
/// While any hold is taken, the head does not count for confirmations: runs waiting for confirmations are not resumed,
/// and a run that needs confirmations is parked as waiting for a connection. An event initiator holds confirmations
/// until it has checked, against the chain, the events behind its waiting runs (after a start or a lost connection);
/// before that, a head that reached a run's confirmations may belong to a chain that no longer holds the run's event.
/// </summary>
internal sealed class ConfirmationHolds
{
    private int _count;

    /// <summary>Told when the last hold is released (on the releasing thread).</summary>
    public Action? Released { get; set; }

    /// <summary>Whether any hold is taken.</summary>
    public bool Held => Volatile.Read(ref _count) > 0;

    /// <summary>Takes a hold; disposing the result releases it (once).</summary>
    public IDisposable Hold()
    {
        Interlocked.Increment(ref _count);
        return new Release(this);
    }

    private void End()
    {
        if (Interlocked.Decrement(ref _count) == 0)
        {
            Released?.Invoke();
        }
    }

    private sealed class Release(ConfirmationHolds holds) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                holds.End();
            }
        }
    }
}
