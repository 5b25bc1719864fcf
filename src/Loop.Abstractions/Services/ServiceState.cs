namespace Loop.Services;

/// <summary>The lifecycle states of a <see cref="LoopService"/>.</summary>
public enum ServiceState
{
    /// <summary>Constructed, not started.</summary>
    Unstarted,

    /// <summary>Start is running.</summary>
    Starting,

    /// <summary>Started and running.</summary>
    Started,

    /// <summary>Start threw; the service cannot be started again.</summary>
    StartFailed,

    /// <summary>Stop is running.</summary>
    Stopping,

    /// <summary>Stopped; the service cannot be started again.</summary>
    Stopped,
}
