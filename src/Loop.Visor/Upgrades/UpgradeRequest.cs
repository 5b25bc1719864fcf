namespace Loop.Visor;

/// <summary>An upgrade to switch to: the release tag (not yet validated) and the height it happens at.</summary>
/// <param name="Tag">The release tag as the source reported it.</param>
/// <param name="Height">The upgrade height (0 when unknown).</param>
/// <param name="Source">Which source reported it.</param>
public sealed record UpgradeRequest(string Tag, long Height, string Source);

/// <summary>Where Visor learns that an upgrade is due. Polled every 2 s.</summary>
public interface IUpgradeSource
{
    /// <summary>A name for logs.</summary>
    string Name { get; }

    /// <summary>Returns a due upgrade, or null. Throws when the source cannot be reached (counted against the retry limits).</summary>
    /// <param name="runConfig">The version running now.</param>
    /// <param name="cancellationToken">Cancels the poll.</param>
    ValueTask<UpgradeRequest?> PollAsync(RunConfig runConfig, CancellationToken cancellationToken);
}
