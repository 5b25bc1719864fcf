using System.Text.Json.Nodes;
using Loop.Testing;

namespace Loop.Jobs.Tests.Running;

/// <summary>Runs and their states, against both stores.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RunTests(SharedPostgres postgres)
{
    public static TheoryData<string> Kinds => TestStores.Kinds;

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Each_task_output_is_the_next_task_input(string kind)
    {
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture));
        var job = await jobs.Service.AddJobAsync(JobSpec.Parse("""
            {"initiators":[{"type":"web"}],
             "tasks":[{"type":"jsonparse","params":{"path":["quote","USD"]}},{"type":"multiply","params":{"times":100}},{"type":"noop"}]}
            """));

        var run = await jobs.Service.TriggerRunAsync(job.Id, JsonNode.Parse("""{"quote":{"USD":"1.2345"}}"""));

        var done = await jobs.WaitForStatusAsync(run.Id, RunStatus.Completed);
        done.Data!.GetValue<decimal>().Should().Be(123.45m);
        done.Results.Select(r => r.Type).Should().Equal("jsonparse", "multiply", "noop");
        done.Results[0].Output!.GetValue<string>().Should().Be("1.2345");
        done.FinishedAt.Should().Be(JobsHarness.T0);
        done.Owner.Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Runs_of_a_job_execute_in_order_and_a_pending_run_holds_back_the_later_ones(string kind)
    {
        var record = new RecordTask();
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), [record, new ExternalTask()]);
        var gated = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("record"), new TaskSpec("external"), new TaskSpec("record")] });
        var other = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("record")] });

        var first = await jobs.Service.TriggerRunAsync(gated.Id);
        var second = await jobs.Service.TriggerRunAsync(gated.Id);
        var third = await jobs.Service.TriggerRunAsync(gated.Id);
        var elsewhere = await jobs.Service.TriggerRunAsync(other.Id);

        await jobs.WaitForStatusAsync(first.Id, RunStatus.PendingBridge);
        await jobs.WaitForStatusAsync(elsewhere.Id, RunStatus.Completed);
        (await jobs.Store.GetRunAsync(second.Id, default))!.TaskIndex.Should().Be(0, "a pending run holds back the later runs of its job");
        record.Executions.Where(e => e.Run == second.Id || e.Run == third.Id).Should().BeEmpty();

        await jobs.Service.ResumePendingTaskAsync(first.Id, BridgeAnswer.WithData(JsonValue.Create(7)));
        await jobs.WaitForStatusAsync(first.Id, RunStatus.Completed);
        await jobs.WaitForStatusAsync(second.Id, RunStatus.PendingBridge);
        await jobs.Service.ResumePendingTaskAsync(second.Id, BridgeAnswer.WithData(JsonValue.Create(8)));
        await jobs.WaitForStatusAsync(third.Id, RunStatus.PendingBridge);

        var order = record.Executions.Where(e => e.Run != elsewhere.Id).ToList();
        order.Should().Equal((first.Id, 0), (first.Id, 2), (second.Id, 0), (second.Id, 2), (third.Id, 0));
        (await jobs.Store.GetRunAsync(first.Id, default))!.Data!.GetValue<int>().Should().Be(7, "the adapter's answer is the next task's input and passes through");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_failing_task_errors_its_run_with_the_reason_and_the_job_goes_on(string kind)
    {
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), [new ThrowingTask()]);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("multiply", new JsonObject { ["times"] = 2 })] });
        var broken = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("throws")] });

        var bad = await jobs.Service.TriggerRunAsync(job.Id, JsonValue.Create("not a number"));
        var good = await jobs.Service.TriggerRunAsync(job.Id, JsonValue.Create(21));
        var thrown = await jobs.Service.TriggerRunAsync(broken.Id);

        (await jobs.WaitForStatusAsync(bad.Id, RunStatus.Errored)).Error.Should().Be("task 0 (multiply): multiply: the input is not a number (was \"not a number\")");
        (await jobs.WaitForStatusAsync(good.Id, RunStatus.Completed)).Data!.GetValue<decimal>().Should().Be(42);
        (await jobs.WaitForStatusAsync(thrown.Id, RunStatus.Errored)).Error.Should().Contain("InvalidOperationException: the adapter is broken");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_sleeping_run_wakes_at_its_time_and_not_before(string kind)
    {
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture));
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("sleep", new JsonObject { ["for"] = "00:05:00" }), new TaskSpec("noop")] });

        var run = await jobs.Service.TriggerRunAsync(job.Id, JsonValue.Create("kept"));

        var asleep = await jobs.WaitForStatusAsync(run.Id, RunStatus.PendingSleep);
        asleep.SleepUntil.Should().Be(JobsHarness.T0.AddMinutes(5));

        // The run is stored asleep before its execution gives up its slot: wait for that, so that a run still
        // executing after the clock moves is one woken early, not one still finishing its way to sleep.
        await Loop.Testing.Eventually.WaitAsync(() => jobs.Service.ExecutingRuns == 0, "the sleeping run gave up its slot");
        jobs.Clock.Advance(TimeSpan.FromMinutes(4));
        jobs.Service.ExecutingRuns.Should().Be(0);
        (await jobs.Store.GetRunAsync(run.Id, default))!.Status.Should().Be(RunStatus.PendingSleep);

        jobs.Clock.Advance(TimeSpan.FromMinutes(1));

        var done = await jobs.WaitForStatusAsync(run.Id, RunStatus.Completed);
        done.Data!.GetValue<string>().Should().Be("kept");
        done.Results.Should().HaveCount(2);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_run_waits_for_its_confirmations_and_resumes_when_the_head_reaches_them(string kind)
    {
        var heads = new ManualHeadTracker(connected: true, new Head(100, "0x64"));
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), heads: heads);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")], MinConfirmations = 3 });

        var run = await jobs.Service.TriggerRunAsync(job.Id);

        var waiting = await jobs.WaitForStatusAsync(run.Id, RunStatus.PendingConfirmations);
        waiting.CreationHeight.Should().Be(100);
        waiting.WaitForHeight.Should().Be(103);
        await heads.SetHeadAsync(new Head(102, "0x66"));
        await jobs.WaitForRunAsync(run.Id, r => r.Version > waiting.Version || r.Status == RunStatus.PendingConfirmations, "a look after head 102");
        (await jobs.Store.GetRunAsync(run.Id, default))!.Status.Should().Be(RunStatus.PendingConfirmations);

        await heads.SetHeadAsync(new Head(103, "0x67"));

        await jobs.WaitForStatusAsync(run.Id, RunStatus.Completed);
    }

    /// <summary>
    /// An event initiator holds confirmations until it has checked its waiting runs' events: meanwhile a head past a
    /// run's confirmations resumes nothing, and a new run needing confirmations waits as if disconnected; both go on when
    /// the hold is released.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task While_an_initiator_holds_confirmations_no_head_resumes_a_run_and_the_release_resumes_them(string kind)
    {
        var heads = new ManualHeadTracker(connected: true, new Head(100, "0x64"));
        var initiator = new HoldingInitiator();
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), heads: heads, initiators: [initiator]);
        var confirming = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web(), new InitiatorSpec("holding")], Tasks = [new TaskSpec("noop")], MinConfirmations = 3 });
        var later = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")], MinConfirmations = 1 });
        var barrier = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] });
        var waiting = await jobs.WaitForStatusAsync((await jobs.Service.TriggerRunAsync(confirming.Id)).Id, RunStatus.PendingConfirmations);

        var hold = initiator.Runs!.HoldConfirmations();
        await heads.SetHeadAsync(new Head(103, "0x67"));
        var parked = await jobs.WaitForStatusAsync((await jobs.Service.TriggerRunAsync(later.Id)).Id, RunStatus.PendingConnection);
        await jobs.WaitForStatusAsync((await jobs.Service.TriggerRunAsync(barrier.Id)).Id, RunStatus.Completed);
        (await jobs.Store.GetRunAsync(waiting.Id, default))!.Status.Should().Be(RunStatus.PendingConfirmations, "the head reached the confirmations while held");

        // Released (a second dispose is a no-op): the head counts again. The parked run was created at 103 and needs one
        // confirmation more.
        hold.Dispose();
        hold.Dispose();
        await jobs.WaitForStatusAsync(waiting.Id, RunStatus.Completed);
        (await jobs.WaitForStatusAsync(parked.Id, RunStatus.PendingConfirmations)).WaitForHeight.Should().Be(104);
        await heads.SetHeadAsync(new Head(104, "0x68"));
        await jobs.WaitForStatusAsync(parked.Id, RunStatus.Completed);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_run_needing_the_chain_while_it_is_disconnected_resumes_on_reconnect(string kind)
    {
        var heads = new ManualHeadTracker(connected: false, new Head(10, "0x0a"));
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), heads: heads);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop", confirmations: 1)] });
        var run = await jobs.Service.TriggerRunAsync(job.Id);
        await jobs.WaitForStatusAsync(run.Id, RunStatus.PendingConnection);
        jobs.Service.GetHealthReport()["Jobs.Heads"].Should().NotBeNull();

        await heads.ConnectAsync();
        await heads.SetHeadAsync(new Head(11, "0x0b"));

        await jobs.WaitForStatusAsync(run.Id, RunStatus.Completed);
        jobs.Service.GetHealthReport()["Jobs.Heads"].Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_task_that_lost_its_dependency_runs_again_when_it_is_back(string kind)
    {
        var link = new NeedsLinkTask();
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), [link]);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("needs-link")] });
        var run = await jobs.Service.TriggerRunAsync(job.Id);
        (await jobs.WaitForStatusAsync(run.Id, RunStatus.PendingConnection)).Error.Should().Be("the link is down");

        link.Up = true;
        (await jobs.Service.ResumeConnectingRunsAsync()).Should().Be(1);

        (await jobs.WaitForStatusAsync(run.Id, RunStatus.Completed)).Data!.GetValue<string>().Should().Be("linked");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task An_external_error_answer_errors_the_run_and_a_pending_answer_changes_nothing(string kind)
    {
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), [new ExternalTask()]);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("external")] });
        var run = await jobs.Service.TriggerRunAsync(job.Id);
        var pending = await jobs.WaitForStatusAsync(run.Id, RunStatus.PendingBridge);

        (await jobs.Service.ResumePendingTaskAsync(run.Id, BridgeAnswer.Read(JsonNode.Parse("""{"pending":true}"""))!)).Version.Should().Be(pending.Version);
        var errored = await jobs.Service.ResumePendingTaskAsync(run.Id, BridgeAnswer.WithError("upstream 503"));

        errored.Status.Should().Be(RunStatus.Errored);
        (await jobs.Store.GetRunAsync(run.Id, default))!.Error.Should().Be("task 0 (external): upstream 503");
        var again = () => jobs.Service.ResumePendingTaskAsync(run.Id, BridgeAnswer.WithData(null));
        await again.Should().ThrowAsync<RunRefusedException>();
        var unknown = () => jobs.Service.ResumePendingTaskAsync(Guid.NewGuid(), BridgeAnswer.WithData(null));
        await unknown.Should().ThrowAsync<RunNotFoundException>();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_cancelled_run_ends_with_its_reason_and_the_job_goes_on(string kind)
    {
        var heads = new ManualHeadTracker(connected: true, new Head(100, "0x64"));
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture), heads: heads);
        var job = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")], MinConfirmations = 3 });
        var waiting = await jobs.Service.TriggerRunAsync(job.Id);
        var next = await jobs.Service.TriggerRunAsync(job.Id);
        await jobs.WaitForStatusAsync(waiting.Id, RunStatus.PendingConfirmations);

        var cancelled = await jobs.Service.CancelRunAsync(waiting.Id, "operator: wrong request");

        cancelled.Status.Should().Be(RunStatus.Cancelled);
        var stored = (await jobs.Store.GetRunAsync(waiting.Id, default))!;
        stored.Status.Should().Be(RunStatus.Cancelled);
        stored.Error.Should().Be("operator: wrong request");
        stored.FinishedAt.Should().Be(JobsHarness.T0);

        // The run it held back goes on to wait for its own confirmations; a later head does not revive the cancelled one.
        await jobs.WaitForStatusAsync(next.Id, RunStatus.PendingConfirmations);
        await heads.SetHeadAsync(new Head(103, "0x67"));
        await jobs.WaitForStatusAsync(next.Id, RunStatus.Completed);
        (await jobs.Store.GetRunAsync(waiting.Id, default))!.Status.Should().Be(RunStatus.Cancelled);

        (await FluentActions.Awaiting(() => jobs.Service.CancelRunAsync(waiting.Id, "again")).Should().ThrowAsync<RunRefusedException>()).WithMessage("*already finished*");
        await FluentActions.Awaiting(() => jobs.Service.CancelRunAsync(Guid.NewGuid(), "none")).Should().ThrowAsync<RunNotFoundException>();
        await FluentActions.Awaiting(() => jobs.Service.CancelRunAsync(next.Id, " ")).Should().ThrowAsync<ArgumentException>();
        jobs.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 620 && r.Message.Contains("operator: wrong request"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Web_runs_are_refused_for_unknown_archived_and_out_of_window_jobs(string kind)
    {
        await using var jobs = await JobsHarness.StartAsync(await TestStores.CreateAsync(kind, postgres.Fixture));
        var later = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")], StartAt = JobsHarness.T0.AddHours(1) });
        var cron = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron("0 0 * * * *")], Tasks = [new TaskSpec("noop")] });
        var archived = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop")] });
        await jobs.Service.ArchiveJobAsync(archived.Id);

        await FluentActions.Awaiting(() => jobs.Service.TriggerRunAsync("nope")).Should().ThrowAsync<JobNotFoundException>();
        (await FluentActions.Awaiting(() => jobs.Service.TriggerRunAsync(later.Id)).Should().ThrowAsync<RunRefusedException>()).WithMessage("*outside its startAt*");
        (await FluentActions.Awaiting(() => jobs.Service.TriggerRunAsync(cron.Id)).Should().ThrowAsync<RunRefusedException>()).WithMessage("*no web initiator*");
        (await FluentActions.Awaiting(() => jobs.Service.TriggerRunAsync(archived.Id)).Should().ThrowAsync<RunRefusedException>()).WithMessage("*archived*");
        await FluentActions.Awaiting(() => jobs.Service.ArchiveJobAsync("nope")).Should().ThrowAsync<JobNotFoundException>();

        jobs.Clock.Advance(TimeSpan.FromHours(1));
        await jobs.WaitForStatusAsync((await jobs.Service.TriggerRunAsync(later.Id)).Id, RunStatus.Completed);
    }

    /// <summary>An initiator that starts nothing and keeps the run starter, for a test to hold confirmations with.</summary>
    private sealed class HoldingInitiator : IJobInitiator
    {
        public IRunStarter? Runs { get; private set; }

        public string Type => "holding";

        public IEnumerable<JobValidationError> Validate(InitiatorSpec initiator, JobSpec job, DateTimeOffset now) => [];

        public ValueTask<IAsyncDisposable?> StartAsync(JobSpec job, int initiatorIndex, IRunStarter runs, CancellationToken cancellationToken)
        {
            Runs = runs;
            return ValueTask.FromResult<IAsyncDisposable?>(null);
        }
    }
}
