using System.Globalization;
using System.Text.Json.Nodes;
using Loop.Jobs.Tasks;
using Loop.Jobs.Telemetry;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Initiators;

/// <summary>
/// <c>runat</c> <c>{"time": "2027-01-01T00:00:00Z"}</c>: one run at that time (a time in the past is refused when the
/// job is added). Its fire is recorded in the store, so it runs once across hosts and restarts; a time passed while no
/// host ran starts its run on start.
/// </summary>
internal sealed class RunAtInitiator(ILogger logger) : IJobInitiator
{
    public string Type => InitiatorTypes.RunAt;

    public IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now)
    {
        var node = TaskParams.Get(initiator.Params, "time");
        if (Time(node) is not { } time)
        {
            yield return new JobValidationError("time", $"must be an RFC 3339 time (was {TaskParams.Describe(node)})");
        }
        else if (time <= now)
        {
            yield return new JobValidationError("time", $"is in the past ({JobSpec.Time(time)}, now {JobSpec.Time(now)})");
        }
    }

    public async ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken)
    {
        if (await runs.GetLastFireAsync(job.Id, initiatorIndex, cancellationToken).ConfigureAwait(false) is not null)
        {
            return null;
        }

        var time = Time(TaskParams.Get(job.Initiators[initiatorIndex].Params, "time"))!.Value;
        return new Once(runs.TimeProvider, time, async () =>
        {
            try
            {
                await runs.StartRunAsync(job, initiatorIndex, null, new InitiatorFire(initiatorIndex, "runat", time), null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                JobsLog.InitiatorFailed(logger, job.Id, InitiatorTypes.RunAt, ex.Message);
            }
        });
    }

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    private sealed class Once : IAsyncDisposable
    {
        private readonly TimeProvider _clock;
        private readonly DateTimeOffset _at;
        private readonly Func<Task> _fire;
        private readonly Lock _gate = new();
        private ITimer? _timer;
        private Task _fired = Task.CompletedTask;
        private bool _stopped;

        public Once(TimeProvider clock, DateTimeOffset at, Func<Task> fire)
        {
            _clock = clock;
            _at = at;
            _fire = fire;
            Arm();
        }

        public async ValueTask DisposeAsync()
        {
            lock (_gate)
            {
                _stopped = true;
                _timer?.Dispose();
            }

            await _fired.ConfigureAwait(false);
        }

        private void Arm()
        {
            lock (_gate)
            {
                if (_stopped)
                {
                    return;
                }

                _timer?.Dispose();
                var due = _at - FireLead.Lead - _clock.GetUtcNow();
                _timer = _clock.CreateTimer(_ => Fired(), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
            }
        }

        private void Fired()
        {
            // System timers may fire a millisecond early; the run is written no earlier than its lead, and starts no
            // earlier than its time (its wake time).
            if (_clock.GetUtcNow() < _at - FireLead.Lead)
            {
                Arm();
                return;
            }

            lock (_gate)
            {
                _fired = _fire();
            }
        }
    }
}
