using Loop.Jobs.Tasks;
using Loop.Jobs.Telemetry;
using Loop.Json;
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
        var node = JsonParameters.Get(initiator.Params, "time");
        if (TaskParams.Time(node) is not { } time)
        {
            yield return new JobValidationError("time", $"must be an RFC 3339 time (was {JsonParameters.Describe(node)})");
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

        var time = TaskParams.Time(JsonParameters.Get(job.Initiators[initiatorIndex].Params, "time"))!.Value;
        return new FireTimer(runs.TimeProvider, time, (_, _) => null, async _ =>
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

}
