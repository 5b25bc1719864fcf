using Loop.Jobs.Telemetry;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Maintenance;

/// <summary>
/// The store reaper: deletes finished runs older than <see cref="LoopJobsOptions.RunRetention"/>, in batches of
/// <see cref="LoopJobsOptions.ReaperBatchSize"/> so that no statement holds locks for long, until none is left. Run by a
/// <see cref="Loop.Services.SleeperTask"/> every <see cref="LoopJobsOptions.ReaperInterval"/>.
/// </summary>
internal sealed class RunReaper(IJobStore store, LoopJobsOptions options, TimeProvider clock, ILogger logger)
{
    public async ValueTask ReapAsync(CancellationToken cancellationToken)
    {
        var before = clock.GetUtcNow() - options.RunRetention;
        var total = 0;
        int deleted;
        do
        {
            deleted = await store.DeleteFinishedRunsAsync(before, options.ReaperBatchSize, cancellationToken).ConfigureAwait(false);
            total += deleted;
        }
        while (deleted == options.ReaperBatchSize && !cancellationToken.IsCancellationRequested);

        if (total > 0)
        {
            JobsLog.Reaped(logger, total, before);
        }
    }
}
