using Microsoft.Extensions.Logging;

namespace Loop.Visor.Upgrades;

/// <summary>
/// What Visor does with a reported upgrade, apart from stopping and starting processes: accept it (prepared) or not
/// (the running version, a version refused before, a passing failure waiting out its retry delay), switch
/// <c>current</c> to it, or roll it back; each refusal and switch is logged and recorded in the home.
/// </summary>
internal sealed class UpgradeDecisions(
    VisorHome home, UpgradePreparer preparer, VisorStateRecorder state, VisorMetrics metrics, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>How long an upgrade that failed for a passing reason (the release server was down) waits before it is tried again.</summary>
    internal static readonly TimeSpan TransientRetryDelay = TimeSpan.FromMinutes(1);

    private readonly Dictionary<(string Tag, long Height), long> _retryAt = [];
    private readonly HashSet<(string Tag, long Height)> _ignored = [];

    /// <summary>
    /// Decides on a reported upgrade: the running version is ignored (once logged), a version refused before is not
    /// tried again until an operator clears it, and any other is prepared (null when that fails; the refusal is logged
    /// and recorded).
    /// </summary>
    public async Task<PreparedUpgrade?> AcceptAsync(UpgradeRequest request, RunConfig running, VisorConfig config, CancellationToken cancellationToken)
    {
        var key = (request.Tag, request.Height);
        if (string.Equals(request.Tag, running.Name, StringComparison.Ordinal))
        {
            if (_ignored.Add(key))
            {
                VisorLog.SameVersion(logger, request.Tag, request.Height, request.Source);
            }

            return null;
        }

        if (_retryAt.TryGetValue(key, out var retryAt) && timeProvider.GetTimestamp() < retryAt)
        {
            return null;
        }

        if (VisorStateFile.Load(home).RefusalOf(request.Tag) is { } earlier)
        {
            if (_ignored.Add(key))
            {
                VisorLog.RefusedBefore(logger, request.Tag, earlier.At, earlier.Reason, home.Root);
            }

            return null;
        }

        try
        {
            var (folder, height) = await preparer.PrepareAsync(request, config, cancellationToken).ConfigureAwait(false);
            return new PreparedUpgrade(request, folder, height);
        }
        catch (UpgradeRefusal refusal)
        {
            Refuse(request, refusal.Message, refusal.Transient);
            return null;
        }
    }

    /// <summary>After the old version stopped: the pre-upgrade hook, then the switch of <c>current</c>. False keeps the old version.</summary>
    public async Task<bool> SwitchAsync(PreparedUpgrade upgrade, string from, VisorConfig config, CancellationToken cancellationToken)
    {
        try
        {
            await preparer.RunPreUpgradeHookAsync(upgrade.Request, upgrade.Height, config, cancellationToken).ConfigureAwait(false);
        }
        catch (UpgradeRefusal refusal)
        {
            Refuse(upgrade.Request, refusal.Message, refusal.Transient);
            return false;
        }

        home.SwitchCurrent(upgrade.Folder, config);
        var to = RunConfigFile.Load(upgrade.Folder).Name;
        var request = upgrade.Request;
        state.Update(s => s with
        {
            CurrentVersion = to,
            UpgradeHeights = upgrade.Height > 0 ? new Dictionary<string, long>(s.UpgradeHeights, StringComparer.Ordinal) { [to] = upgrade.Height } : s.UpgradeHeights,
            LastUpgrade = new UpgradeRecord(from, to, upgrade.Height, timeProvider.GetUtcNow(), request.Source),
        });
        metrics.Upgraded(request.Tag);
        VisorLog.Upgraded(logger, from, request.Tag, upgrade.Height, request.Source);
        return true;
    }

    /// <summary>The new version died within the rollback window: <c>current</c> goes back, and the version is refused.</summary>
    public void RollBack(PreparedUpgrade upgrade, string failed, string previous, string what, VisorConfig config)
    {
        var reason = $"version {failed} died at start: {what}";
        VisorLog.RollingBack(logger, failed, what, previous);
        home.SwitchCurrent(previous, config);
        home.ForgetPrevious();
        var restored = RunConfigFile.Load(previous).Name;
        var now = timeProvider.GetUtcNow();
        state.Update(s => s with
        {
            CurrentVersion = restored,
            LastRollback = new RollbackRecord(failed, restored, now, reason),
            Refused = [.. s.Refused.Where(r => r.Tag != upgrade.Request.Tag), new RefusalRecord(upgrade.Request.Tag, upgrade.Height, now, reason + "; rolled back")],
        });
        metrics.RolledBack(upgrade.Request.Tag);
    }

    /// <summary>Logs a refusal; a lasting one is recorded in the home so that no later Visor tries that version again.</summary>
    private void Refuse(UpgradeRequest request, string reason, bool transient)
    {
        if (transient)
        {
            VisorLog.UpgradeRetried(logger, reason, request.Source, TransientRetryDelay);
            _retryAt[(request.Tag, request.Height)] = timeProvider.GetTimestamp() + (long)(TransientRetryDelay.TotalSeconds * timeProvider.TimestampFrequency);
            return;
        }

        VisorLog.UpgradeRefused(logger, reason, request.Source, request.Tag);
        state.Update(s => s with
        {
            Refused = [.. s.Refused.Where(r => r.Tag != request.Tag), new RefusalRecord(request.Tag, request.Height, timeProvider.GetUtcNow(), reason)],
        });
    }
}
