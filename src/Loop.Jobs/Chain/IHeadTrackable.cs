namespace Loop.Jobs;

/// <summary>Something told about a head tracker's connection and heads, in order, one call at a time.</summary>
public interface IHeadTrackable
{
    /// <summary>The tracker connected; <paramref name="head"/> is the latest head known, if any.</summary>
    Task ConnectAsync(Head? head, CancellationToken cancellationToken);

    /// <summary>The tracker lost its connection.</summary>
    Task DisconnectAsync(CancellationToken cancellationToken);

    /// <summary>A new, later head arrived.</summary>
    Task OnNewHeadAsync(Head head, CancellationToken cancellationToken);
}
