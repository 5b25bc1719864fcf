using System.Text.Json.Nodes;
using Loop.Jobs.Tasks.Bridges;
using Loop.Jobs.Tasks.BuiltIn;
using Loop.Jobs.Telemetry;
using Loop.Jobs.Validation;
using Microsoft.Extensions.Logging;

namespace Loop.Jobs.Running;

/// <summary>
/// Executes one claimed run from its first task not completed: checks confirmations, runs each task, writes each
/// completed task (a checkpoint that also renews the lease), and parks the run when a task is pending or finishes it.
/// </summary>
internal sealed class RunExecutor(
    SpecCache<StoredBridge> bridges,
    StoreBatches<JobRun, bool> writer,
    TypeRegistry<IJobTask> tasks,
    JobsHttp http,
    IHeadTracker? heads,
    ConfirmationHolds holds,
    LoopJobsOptions options,
    TimeProvider clock,
    JobsMetrics metrics,
    ILogger logger)
{
    /// <summary>
    /// Whether <paramref name="run"/> has no effect at all (it starts fresh, its tasks are pure, it needs no
    /// confirmations), so that its end may ride with the next write of its job (see <see cref="ExecuteAsync"/>).
    /// </summary>
    public bool CanDefer(JobRun run, JobSpec? job) =>
        job is not null && run.TaskIndex == 0 && job.MinConfirmations == 0
        && job.Tasks.All(t => t.Confirmations is null or 0 && tasks.Find(t.Type)?.IsPure == true);

    /// <summary>
    /// Executes <paramref name="run"/>; true when it finished (completed or errored) and that was written, or, when
    /// <paramref name="deferred"/> is given (only for a run that <see cref="CanDefer"/>), added there for the caller to
    /// write with <see cref="WriteDeferredAsync"/>.
    /// </summary>
    public async Task<bool> ExecuteAsync(JobRun run, JobSpec? job, CancellationToken stopping, List<JobRun>? deferred = null)
    {
        if (job is null)
        {
            return await FinishAsync(run, RunStatus.Errored, $"job {run.JobId} does not exist").ConfigureAwait(false);
        }

        // A run taken ahead of its wake time (a sleeper, or a fire written ahead of its occurrence) starts at it, on a
        // local timer; system timers may fire a little early, so wait until the clock says so.
        while (run.SleepUntil is { } wake && clock.GetUtcNow() < wake)
        {
            try
            {
                await Task.Delay(wake - clock.GetUtcNow(), clock, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                await ReleaseAsync([run]).ConfigureAwait(false);
                return false;
            }
        }

        if (run.Status == RunStatus.PendingSleep)
        {
            // A sleep task completes when its run wakes, with its input as its output.
            Complete(run, job.Tasks[run.TaskIndex], run.Data);
        }

        run.Status = RunStatus.InProgress;
        run.SleepUntil = null;
        run.WaitForHeight = null;
        run.PendingBridge = null;
        while (run.TaskIndex < job.Tasks.Count)
        {
            var spec = job.Tasks[run.TaskIndex];
            var type = tasks.Find(spec.Type);
            var bridge = type is null ? await bridges.FindAsync(spec.Type, stopping).ConfigureAwait(false) : null;
            if (type is null && bridge is null)
            {
                return await FinishAsync(run, RunStatus.Errored, $"task {run.TaskIndex}: the task type '{spec.Type}' is no longer known (a task type or bridge removed since the job was added)").ConfigureAwait(false);
            }

            var needed = Math.Max(job.MinConfirmations, Math.Max(spec.Confirmations ?? 0, bridge?.Confirmations ?? 0));
            if (needed > 0)
            {
                // A head does not count while an event initiator has still to check its waiting runs' events.
                var head = heads?.Connected == true && !holds.Held ? heads.Head : null;
                if (head is null)
                {
                    await ParkAsync(run, RunStatus.PendingConnection).ConfigureAwait(false);
                    return false;
                }

                run.CreationHeight ??= head.Number;
                if (head.Number < run.CreationHeight + needed)
                {
                    run.WaitForHeight = run.CreationHeight + needed;
                    await ParkAsync(run, RunStatus.PendingConfirmations).ConfigureAwait(false);
                    return false;
                }
            }

            var context = new TaskContext(job, run, spec, clock);
            TaskResult result;
            try
            {
                result = type is not null
                    ? await type.RunAsync(context, stopping).ConfigureAwait(false)
                    : await new BridgeTask(bridge!, http, options.ResponseBaseUrl).RunAsync(context, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The host is stopping: hand the run back as it was, so that the next host (or this one on restart)
                // runs this task again without waiting for the lease to run out.
                await ReleaseAsync([run]).ConfigureAwait(false);
                return false;
            }
            catch (Exception ex)
            {
                result = TaskResult.Errored($"{spec.Type}: {ex.GetType().Name}: {ex.Message}");
            }

            switch (result.Outcome)
            {
                case TaskOutcome.Completed:
                    Complete(run, spec, result.Output);

                    // A pure task's completion rides with the next write; any other is written before the next task.
                    if (run.TaskIndex < job.Tasks.Count && type?.IsPure != true && !await CheckpointAsync(run).ConfigureAwait(false))
                    {
                        return false;
                    }

                    break;
                case TaskOutcome.Errored:
                    JobsLog.TaskFailed(logger, run.TaskIndex, spec.Type, run.Id, run.JobId, result.Error!);
                    run.Results.Add(new TaskRunResult(run.TaskIndex, spec.Type, false, null, result.Error, clock.GetUtcNow()));
                    return await FinishAsync(run, RunStatus.Errored, $"task {run.TaskIndex} ({spec.Type}): {result.Error}", deferred).ConfigureAwait(false);
                case TaskOutcome.PendingExternal:
                    run.PendingBridge = bridge?.Name ?? spec.Type;
                    await ParkAsync(run, RunStatus.PendingBridge).ConfigureAwait(false);
                    return false;
                case TaskOutcome.Sleep when result.Until > clock.GetUtcNow():
                    run.SleepUntil = result.Until;
                    await ParkAsync(run, RunStatus.PendingSleep).ConfigureAwait(false);
                    return false;
                case TaskOutcome.Sleep:
                    Complete(run, spec, run.Data);
                    break;
                case TaskOutcome.PendingConnection:
                    run.Error = result.Error;
                    await ParkAsync(run, RunStatus.PendingConnection).ConfigureAwait(false);
                    return false;
            }
        }

        return await FinishAsync(run, RunStatus.Completed, null, deferred).ConfigureAwait(false);
    }

    /// <summary>Writes the ends of deferred runs in one transaction, in order; false when any was changed elsewhere.</summary>
    public async Task<bool> WriteDeferredAsync(List<JobRun> deferred)
    {
        if (deferred.Count == 0)
        {
            return true;
        }

        var written = await writer.AllAsync([.. deferred]).ConfigureAwait(false);
        var all = true;
        for (var i = 0; i < deferred.Count; i++)
        {
            if (written[i])
            {
                Finished(deferred[i]);
            }
            else
            {
                all = false;
                JobsLog.RunLost(logger, deferred[i].Id, deferred[i].JobId);
            }
        }

        deferred.Clear();
        return all;
    }

    /// <summary>Hands claimed runs back as they are (unexecuted, or cut short by the host stopping): no owner, no lease.</summary>
    public async Task ReleaseAsync(IEnumerable<JobRun> runs)
    {
        var writes = runs.Select(run =>
        {
            run.Owner = null;
            run.LeaseUntil = null;
            return writer.OneAsync(run);
        }).ToList();
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>Records a completed task: its output becomes the run's data and the next task's input.</summary>
    public void Complete(JobRun run, TaskSpec spec, JsonNode? output)
    {
        run.Results.Add(new TaskRunResult(run.TaskIndex, spec.Type, true, output?.DeepClone(), null, clock.GetUtcNow()));
        run.Data = output;
        run.TaskIndex++;
        run.Error = null;
    }

    private async Task<bool> CheckpointAsync(JobRun run)
    {
        run.LeaseUntil = clock.GetUtcNow() + options.RunLease;
        return await WriteOrLoseAsync(run).ConfigureAwait(false);
    }

    private async Task ParkAsync(JobRun run, RunStatus status)
    {
        run.Status = status;
        run.Owner = null;
        run.LeaseUntil = null;
        if (await WriteOrLoseAsync(run).ConfigureAwait(false))
        {
            JobsLog.RunParked(logger, run.Id, run.JobId, status.ToName(), run.TaskIndex);
        }
    }

    private async Task<bool> FinishAsync(JobRun run, RunStatus status, string? error, List<JobRun>? deferred = null)
    {
        run.Status = status;
        run.Error = error;
        run.FinishedAt = clock.GetUtcNow();
        run.Owner = null;
        run.LeaseUntil = null;
        if (deferred is not null)
        {
            deferred.Add(run);
            return true;
        }

        if (await WriteOrLoseAsync(run).ConfigureAwait(false))
        {
            Finished(run);
            return true;
        }

        return false;
    }

    private void Finished(JobRun run)
    {
        metrics.Finished(run, run.FinishedAt!.Value - run.CreatedAt);
        JobsLog.RunFinished(logger, run.Id, run.JobId, run.Status.ToName(), run.Results.Count, run.Error is null ? string.Empty : ": " + run.Error);
    }

    private async Task<bool> WriteOrLoseAsync(JobRun run)
    {
        if (await writer.OneAsync(run).ConfigureAwait(false))
        {
            return true;
        }

        JobsLog.RunLost(logger, run.Id, run.JobId);
        return false;
    }
}
