namespace Loop.Visor;

/// <summary>
/// When to restart a crashed set: after a delay that may grow by a multiplier per consecutive crash (capped), at most
/// <c>maxNumberOfRestarts</c> times; a set that ran longer than the reset period starts the count again.
/// </summary>
public sealed class RestartPolicy
{
    /// <summary>Crash restarts so far (since the last reset).</summary>
    public int Restarts { get; private set; }

    /// <summary>
    /// Records a crash of a set that ran for <paramref name="ranFor"/>; returns the delay before restarting, or null when
    /// the maximum number of restarts is reached.
    /// </summary>
    public TimeSpan? OnCrash(VisorConfig config, TimeSpan ranFor)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.RestartCounterResetSeconds > 0 && ranFor >= TimeSpan.FromSeconds(config.RestartCounterResetSeconds))
        {
            Restarts = 0;
        }

        if (Restarts >= config.MaxNumberOfRestarts)
        {
            return null;
        }

        var delay = config.RestartsDelaySeconds * Math.Pow(config.RestartBackoffMultiplier, Restarts);
        Restarts++;
        return TimeSpan.FromSeconds(Math.Min(delay, Math.Max(config.MaxRestartDelaySeconds, config.RestartsDelaySeconds)));
    }

    /// <summary>Clears the count (after an upgrade).</summary>
    public void Reset() => Restarts = 0;
}
