using System.Collections.Concurrent;
using Loop.Jobs.Stores.InMemory;

namespace Loop.Jobs.Tests.Running;

/// <summary>
/// When a run's end is written: before the next run of its job does anything with an effect; runs without any effect
/// (pure tasks only) end together in one write, in order.
/// </summary>
public sealed class RunEndTests
{
    [Fact]
    public async Task A_run_with_an_effect_starts_only_after_the_run_before_it_is_stored_as_ended()
    {
        var store = new MemJobStore();
        var probe = new EarlierRunsProbe(store);
        await using var jobs = await JobsHarness.StartAsync(store, [probe], configure: o => o.RunsPerJobClaim = 8);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop"), new TaskSpec("probe")] });

        var runs = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            runs.Add((await jobs.Service.TriggerRunAsync(job.Id)).Id);
        }

        await jobs.WaitForStatusAsync(runs[^1], RunStatus.Completed);
        probe.Violations.Should().BeEmpty("every earlier run of the job is stored as ended before a later run's effect");
        probe.Seen.Should().Be(20);
    }

    [Fact]
    public async Task Runs_without_effect_end_together_in_one_write_in_order()
    {
        var store = new CountingStore(new MemJobStore());
        await using var jobs = await JobsHarness.StartAsync(store, configure: o => o.RunsPerJobClaim = 8);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop"), new TaskSpec("multiply", new() { ["times"] = 2 })] });
        await jobs.Service.StopAsync();

        // Eight runs queued while no host runs; a fresh host claims them together and ends them in one write.
        var queued = new List<JobRun>();
        for (var i = 0; i < 8; i++)
        {
            var run = new JobRun { Id = Guid.NewGuid(), JobId = job.Id, InitiatorType = "web", CreatedAt = JobsHarness.T0, Input = i, Data = i, Status = RunStatus.InProgress };
            await store.CreateRunAsync(run, null, default);
            queued.Add(run);
        }

        store.Writes.Clear();
        await using var host = await JobsHarness.StartAsync(store, configure: o => o.RunsPerJobClaim = 8, clock: jobs.Clock);
        await host.WaitForStatusAsync(queued[^1].Id, RunStatus.Completed);

        store.Writes.Should().ContainSingle("eight pure runs end in one write").Which.Should().Equal(queued.Select(r => r.Id));
        foreach (var (run, i) in queued.Select((r, i) => (r, i)))
        {
            (await store.GetRunAsync(run.Id, default))!.Data!.GetValue<decimal>().Should().Be(2 * i);
        }
    }

    /// <summary>A task with an effect that checks, when it starts, that every earlier run of its job is stored as ended.</summary>
    private sealed class EarlierRunsProbe(IJobStore store) : IJobTask
    {
        public ConcurrentQueue<string> Violations { get; } = new();

        public int Seen;

        public string Type => "probe";

        public async ValueTask<TaskResult> RunAsync(TaskContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Seen);
            foreach (var run in await store.ListRunsAsync(context.Job.Id, cancellationToken))
            {
                if (run.Id == context.RunId)
                {
                    break;
                }

                if (!run.Status.IsFinished())
                {
                    Violations.Enqueue($"{run} not stored as ended when {context.RunId} started its effect");
                }
            }

            return TaskResult.Completed(context.Input);
        }
    }

    /// <summary>A store that notes the runs of every update call.</summary>
    private sealed class CountingStore(IJobStore inner) : IJobStore
    {
        public ConcurrentQueue<Guid[]> Writes { get; } = new();

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task AddJobAsync(JobSpec job, CancellationToken cancellationToken) => inner.AddJobAsync(job, cancellationToken);

        public Task<JobSpec?> GetJobAsync(string jobId, CancellationToken cancellationToken) => inner.GetJobAsync(jobId, cancellationToken);

        public Task<IReadOnlyList<JobSpec>> ListActiveJobsAsync(CancellationToken cancellationToken) => inner.ListActiveJobsAsync(cancellationToken);

        public Task<bool> ArchiveJobAsync(string jobId, DateTimeOffset at, CancellationToken cancellationToken) => inner.ArchiveJobAsync(jobId, at, cancellationToken);

        public Task AddBridgeAsync(StoredBridge bridge, CancellationToken cancellationToken) => inner.AddBridgeAsync(bridge, cancellationToken);

        public Task<StoredBridge?> GetBridgeAsync(string name, CancellationToken cancellationToken) => inner.GetBridgeAsync(name, cancellationToken);

        public Task<IReadOnlyList<StoredBridge>> ListBridgesAsync(CancellationToken cancellationToken) => inner.ListBridgesAsync(cancellationToken);

        public Task<IReadOnlyList<bool>> CreateRunsAsync(IReadOnlyList<NewRun> runs, CancellationToken cancellationToken) => inner.CreateRunsAsync(runs, cancellationToken);

        public Task<DateTimeOffset?> GetLastFireAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken) => inner.GetLastFireAsync(jobId, initiatorIndex, cancellationToken);

        public Task<Guid?> FindFireRunAsync(string jobId, int initiatorIndex, string key, CancellationToken cancellationToken) => inner.FindFireRunAsync(jobId, initiatorIndex, key, cancellationToken);

        public Task<IReadOnlyList<PendingFire>> ListPendingFiresAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken) => inner.ListPendingFiresAsync(jobId, initiatorIndex, cancellationToken);

        public Task<long?> GetInitiatorCheckpointAsync(string jobId, int initiatorIndex, CancellationToken cancellationToken) => inner.GetInitiatorCheckpointAsync(jobId, initiatorIndex, cancellationToken);

        public Task SaveInitiatorCheckpointAsync(string jobId, int initiatorIndex, long position, CancellationToken cancellationToken) => inner.SaveInitiatorCheckpointAsync(jobId, initiatorIndex, position, cancellationToken);

        public Task<Head?> GetHeadAsync(string chain, CancellationToken cancellationToken) => inner.GetHeadAsync(chain, cancellationToken);

        public Task<bool> SaveHeadAsync(string chain, Head head, CancellationToken cancellationToken) => inner.SaveHeadAsync(chain, head, cancellationToken);

        public Task<JobRun?> GetRunAsync(Guid runId, CancellationToken cancellationToken) => inner.GetRunAsync(runId, cancellationToken);

        public Task<IReadOnlyList<JobRun>> ListRunsAsync(string jobId, CancellationToken cancellationToken) => inner.ListRunsAsync(jobId, cancellationToken);

        public Task<IReadOnlyList<JobRun>> ClaimRunsAsync(string owner, DateTimeOffset now, DateTimeOffset wakeBy, DateTimeOffset leaseUntil, long? height, int jobs, int runsPerJob, CancellationToken cancellationToken) =>
            inner.ClaimRunsAsync(owner, now, wakeBy, leaseUntil, height, jobs, runsPerJob, cancellationToken);

        public Task<IReadOnlyList<bool>> UpdateRunsAsync(IReadOnlyList<JobRun> runs, CancellationToken cancellationToken)
        {
            Writes.Enqueue([.. runs.Select(r => r.Id)]);
            return inner.UpdateRunsAsync(runs, cancellationToken);
        }

        public Task<int> ResumeConnectingRunsAsync(CancellationToken cancellationToken) => inner.ResumeConnectingRunsAsync(cancellationToken);

        public Task<DateTimeOffset?> GetNextWakeAsync(CancellationToken cancellationToken) => inner.GetNextWakeAsync(cancellationToken);

        public Task<IReadOnlyDictionary<RunStatus, long>> CountRunsAsync(CancellationToken cancellationToken) => inner.CountRunsAsync(cancellationToken);

        public Task<int> DeleteFinishedRunsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken) => inner.DeleteFinishedRunsAsync(before, limit, cancellationToken);
    }
}
