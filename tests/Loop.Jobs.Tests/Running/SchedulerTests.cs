using System.Diagnostics.Metrics;
using Loop.Jobs.Stores.InMemory;
using Loop.Testing;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Jobs.Tests.Running;

/// <summary>Cron and run-at initiators on a fake clock: no test waits on wall time.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SchedulerTests(SharedPostgres postgres)
{
    public static TheoryData<string> Kinds => TestStores.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_cron_job_runs_at_every_occurrence_and_stops_when_archived(string kind)
    {
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture));
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron("*/5 * * * * *")], Tasks = [new TaskSpec("noop")] });

        // Before the fire's lead (1 s) nothing is written; the run is written ahead and starts at its occurrence.
        jobs.Clock.Advance(TimeSpan.FromSeconds(3.9));
        (await jobs.Store.ListRunsAsync(job.Id, default)).Should().BeEmpty();
        jobs.Clock.Advance(TimeSpan.FromSeconds(1.1));
        var first = await jobs.WaitForRunsAsync(job.Id, 1);
        first[0].CreatedAt.Should().Be(JobsHarness.T0.AddSeconds(5));
        first[0].InitiatorType.Should().Be("cron");
        await jobs.WaitForStatusAsync(first[0].Id, RunStatus.Completed);
        jobs.Clock.Advance(TimeSpan.FromSeconds(5));
        await jobs.WaitForRunsAsync(job.Id, 2);
        (await jobs.Store.GetLastFireAsync(job.Id, 0, default)).Should().Be(JobsHarness.T0.AddSeconds(10));

        await jobs.Service.ArchiveJobAsync(job.Id);
        jobs.Clock.Advance(TimeSpan.FromSeconds(30));

        (await jobs.Store.ListRunsAsync(job.Id, default)).Should().HaveCount(2, "an archived job starts no run");
    }

    [Fact]
    public async Task A_cron_fire_missed_while_no_host_ran_starts_one_run_on_start_unless_configured_off()
    {
        var store = new MemJobStore();
        var clock = new FakeTimeProvider(JobsHarness.T0);
        string jobId;
        await using (var first = await JobsHarness.StartAsync(store, clock: clock))
        {
            jobId = (await first.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron("0 * * * * *")], Tasks = [new TaskSpec("noop")] })).Id;
            clock.Advance(TimeSpan.FromMinutes(1));
            await first.WaitForRunsAsync(jobId, 1);
        }

        clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(30));
        await using (var off = await JobsHarness.StartAsync(store, clock: clock, configure: o => o.RunMissedCronFire = false))
        {
            (await store.ListRunsAsync(jobId, default)).Should().HaveCount(1);
        }

        await using var second = await JobsHarness.StartAsync(store, clock: clock);
        var runs = await second.WaitForRunsAsync(jobId, 2);
        runs.Should().HaveCount(2, "ten missed occurrences start one run");
        second.Logs.GetSnapshot().Should().Contain(r => r.Message.Contains("missed its fire due"));
        clock.Advance(TimeSpan.FromSeconds(30));
        (await second.WaitForRunsAsync(jobId, 3)).Last().CreatedAt.Should().Be(JobsHarness.T0.AddMinutes(12));
    }

    [Fact]
    public async Task A_run_at_job_runs_once_at_its_time_across_restarts_and_is_run_on_start_when_its_time_passed_meanwhile()
    {
        var store = new MemJobStore();
        var clock = new FakeTimeProvider(JobsHarness.T0);
        string once;
        string missed;
        await using (var first = await JobsHarness.StartAsync(store, clock: clock))
        {
            once = (await first.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.RunAt(JobsHarness.T0.AddHours(1))], Tasks = [new TaskSpec("noop")] })).Id;
            missed = (await first.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.RunAt(JobsHarness.T0.AddHours(3))], Tasks = [new TaskSpec("noop")] })).Id;
            clock.Advance(TimeSpan.FromMinutes(59));
            (await store.ListRunsAsync(once, default)).Should().BeEmpty();
            clock.Advance(TimeSpan.FromMinutes(1));
            await first.WaitForRunsAsync(once, 1);
        }

        clock.Advance(TimeSpan.FromHours(5));
        await using var second = await JobsHarness.StartAsync(store, clock: clock);
        await second.WaitForRunsAsync(missed, 1);
        clock.Advance(TimeSpan.FromDays(1));
        (await store.ListRunsAsync(once, default)).Should().HaveCount(1);
        (await store.ListRunsAsync(missed, default)).Should().HaveCount(1);
    }

    [Fact]
    public async Task Scheduler_lateness_and_run_counts_are_measured()
    {
        using var meterFactory = new TestMeterFactory();
        using var lateness = new MetricCollector<double>(meterFactory, "Loop.Jobs", "loop.jobs.scheduler.lateness");
        using var finished = new MetricCollector<long>(meterFactory, "Loop.Jobs", "loop.jobs.runs.finished");
        var clock = new FakeTimeProvider(JobsHarness.T0);
        await using var service = new JobService(new MemJobStore(), new LoopJobsOptions(), new Http(), timeProvider: clock, meterFactory: meterFactory);
        await service.StartAsync();
        var job = await service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron("*/10 * * * * *")], Tasks = [new TaskSpec("noop")] });

        clock.Advance(TimeSpan.FromSeconds(10));

        await Eventually.WaitAsync(() => finished.GetMeasurementSnapshot().Count == 1, "a finished run counted");
        lateness.GetMeasurementSnapshot().Should().ContainSingle().Which.Value.Should().Be(0);
        finished.LastMeasurement!.Tags.Should().Contain(new KeyValuePair<string, object?>("outcome", "completed")).And.Contain(new KeyValuePair<string, object?>("job", job.Id));
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
