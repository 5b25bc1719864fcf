namespace Loop.Jobs;

/// <summary>
/// The chain's latest head, as the job runner needs it: runs waiting for confirmations resume when the head reaches
/// their creation height plus the confirmations, and runs pending a connection resume when the tracker connects.
/// <see cref="ManualHeadTracker"/> is set by code; a tracker over a real chain plugs in here.
/// </summary>
public interface IHeadTracker
{
    /// <summary>The latest head, or null when none is known.</summary>
    Head? Head { get; }

    /// <summary>Whether the tracker is connected to its source.</summary>
    bool Connected { get; }

    /// <summary>Adds <paramref name="trackable"/> to those told of connects, disconnects and new heads; dispose the result to remove it.</summary>
    IDisposable Register(IHeadTrackable trackable);
}
