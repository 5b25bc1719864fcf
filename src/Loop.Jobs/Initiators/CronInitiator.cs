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

        return new Occurrences(schedule, clock, now, next => runs.StartRunAsync(job, initiatorIndex, null, Fire(initiatorIndex, next), null, CancellationToken.None), logger, job.Id);
    }

    private static InitiatorFire Fire(int index, DateTimeOffset occurrence) =>
        new(index, "cron:" + occurrence.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), occurrence);

    /// <summary>A timer set for the next occurrence, set again for the one after as it fires (before the run is stored, so a slow store does not shift the cadence).</summary>
    private sealed class Occurrences : IAsyncDisposable
    {
        private readonly CronSchedule _schedule;
        private readonly TimeProvider _clock;
        private readonly Func<DateTimeOffset, Task<JobRun?>> _fire;
        private readonly ILogger _logger;
        private readonly string _jobId;
        private readonly Lock _gate = new();
        private readonly List<Task> _inFlight = [];
        private ITimer? _timer;
        private bool _stopped;

        public Occurrences(CronSchedule schedule, TimeProvider clock, DateTimeOffset from, Func<DateTimeOffset, Task<JobRun?>> fire, ILogger logger, string jobId)
        {
            _schedule = schedule;
            _clock = clock;
            _fire = fire;
            _logger = logger;
            _jobId = jobId;
            Arm(from);
        }

        public async ValueTask DisposeAsync()
        {
            Task[] inFlight;
            lock (_gate)
            {
                _stopped = true;
                _timer?.Dispose();
                inFlight = [.. _inFlight];
            }

            await Task.WhenAll(inFlight).ConfigureAwait(false);
        }

        private void Arm(DateTimeOffset after)
        {
            if (_schedule.NextAfter(after) is { } next)
            {
                ArmAt(next);
            }
        }

        private void ArmAt(DateTimeOffset next)
        {
            lock (_gate)
            {
                if (_stopped)
                {
                    return;
                }

                _timer?.Dispose();
                var due = next - FireLead.Lead - _clock.GetUtcNow();
                _timer = _clock.CreateTimer(_ => Fired(next), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
            }
        }

        private void Fired(DateTimeOffset occurrence)
        {
            var now = _clock.GetUtcNow();
            if (now < occurrence - FireLead.Lead)
            {
                // System timers may fire a millisecond early; the run is written no earlier than its lead, and starts
                // no earlier than its occurrence (its wake time).
                ArmAt(occurrence);
                return;
            }

            // The next occurrence after this one, or after now when the host fell behind (missed ones are skipped).
            Arm(occurrence > now ? occurrence : now);
            var fire = FireAsync(occurrence);
            lock (_gate)
            {
                _inFlight.Add(fire);
            }

            _ = fire.ContinueWith(done => { lock (_gate) { _inFlight.Remove(done); } }, TaskScheduler.Default);
        }

        private async Task FireAsync(DateTimeOffset occurrence)
        {
            try
            {
                await _fire(occurrence).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                JobsLog.InitiatorFailed(_logger, _jobId, InitiatorTypes.Cron, ex.Message);
            }
        }
    }
}
