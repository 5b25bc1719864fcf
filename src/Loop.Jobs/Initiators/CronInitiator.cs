using System.Globalization;
using Loop.Jobs.Telemetry;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Initiators;

/// <summary>
/// <c>cron</c> <c>{"schedule": "*/5 * * * * *", "timeZone"?: "Europe/Berlin"}</c>: a run at every occurrence. Each
/// occurrence is a fire recorded in the store, so hosts sharing it start one run per occurrence between them. A fire
/// missed while no host ran starts one run on start (<see cref="LoopJobsOptions.RunMissedCronFire"/>).
/// </summary>
internal sealed class CronInitiator(LoopJobsOptions options, ILogger logger) : IJobInitiator
{
    public string Type => InitiatorTypes.Cron;

    public IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now)
    {
        var errors = new List<JobValidationError>();
        CronSchedule.TryRead(initiator, errors);
        return errors;
    }

    public async ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken)
    {
        var schedule = CronSchedule.TryRead(job.Initiators[initiatorIndex], null)!;
        var clock = runs.TimeProvider;
        var now = clock.GetUtcNow();
        if (options.RunMissedCronFire)
        {
            var last = await runs.GetLastFireAsync(job.Id, initiatorIndex, cancellationToken).ConfigureAwait(false) ?? job.CreatedAt;
            if (schedule.NextAfter(last) is { } missed && missed < now)
            {
                JobsLog.FireMissed(logger, job.Id, Type, missed);
                await runs.StartRunAsync(job, initiatorIndex, null, Fire(initiatorIndex, missed), null, cancellationToken).ConfigureAwait(false);
            }
        }

        // The next occurrence after the one that fired, or after now when the host fell behind (missed ones skipped).
        return schedule.NextAfter(now) is { } first
            ? new FireTimer(clock, first, (occurrence, at) => schedule.NextAfter(occurrence > at ? occurrence : at), async occurrence =>
            {
                try
                {
                    await runs.StartRunAsync(job, initiatorIndex, null, Fire(initiatorIndex, occurrence), null, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    JobsLog.InitiatorFailed(logger, job.Id, InitiatorTypes.Cron, ex.Message);
                }
            })
            : null;
    }

    private static InitiatorFire Fire(int index, DateTimeOffset occurrence) =>
        new(index, "cron:" + occurrence.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), occurrence);
}
