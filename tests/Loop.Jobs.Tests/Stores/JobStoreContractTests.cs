using System.Text.Json.Nodes;

namespace Loop.Jobs.Tests.Stores;

/// <summary>What every job store promises; run against the memory store and PostgreSQL.</summary>
public abstract class JobStoreContractTests
{
    private static readonly DateTimeOffset T0 = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected abstract Task<IJobStore> CreateStoreAsync();

    [Fact]
    public async Task A_job_is_stored_once_and_archived()
    {
        var store = await CreateStoreAsync();
        var job = Job("a");
        await store.AddJobAsync(job, default);

        var again = () => store.AddJobAsync(Job("a"), default);
        (await again.Should().ThrowAsync<JobValidationException>()).Which.Errors.Should().ContainSingle(e => e.Path == "id");

        var read = await store.GetJobAsync("a", default);
        read!.ToJson().ToJsonString().Should().Be(job.ToJson().ToJsonString());
        read.CreatedAt.Should().Be(T0);
        (await store.ListActiveJobsAsync(default)).Select(j => j.Id).Should().Equal("a");

        (await store.ArchiveJobAsync("a", T0.AddHours(1), default)).Should().BeTrue();
        (await store.ArchiveJobAsync("nope", T0, default)).Should().BeFalse();
        (await store.GetJobAsync("a", default))!.ArchivedAt.Should().Be(T0.AddHours(1));
        (await store.ListActiveJobsAsync(default)).Should().BeEmpty();
    }

    [Fact]
    public async Task Runs_get_increasing_sequences_and_an_archived_job_gets_none()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        var first = Run("a");
        var second = Run("a");
        (await store.CreateRunAsync(first, null, default)).Should().BeTrue();
        (await store.CreateRunAsync(second, null, default)).Should().BeTrue();
        second.Sequence.Should().BeGreaterThan(first.Sequence);

        (await store.CreateRunAsync(Run("missing"), null, default)).Should().BeFalse();
        await store.ArchiveJobAsync("a", T0, default);
        (await store.CreateRunAsync(Run("a"), null, default)).Should().BeFalse();
        (await store.ListRunsAsync("a", default)).Select(r => r.Id).Should().Equal(first.Id, second.Id);
    }

    [Fact]
    public async Task A_fire_creates_one_run_however_often_it_is_offered()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        var fire = new InitiatorFire(0, "cron:1", T0);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.CreateRunAsync(Run("a"), fire, default)));

        results.Count(r => r).Should().Be(1);
        (await store.ListRunsAsync("a", default)).Should().HaveCount(1);
        (await store.GetLastFireAsync("a", 0, default)).Should().Be(T0);
        (await store.GetLastFireAsync("a", 1, default)).Should().BeNull();
        (await store.CreateRunAsync(Run("a"), new InitiatorFire(0, "cron:2", T0.AddSeconds(5)), default)).Should().BeTrue();
        (await store.GetLastFireAsync("a", 0, default)).Should().Be(T0.AddSeconds(5));
    }

    [Fact]
    public async Task A_fire_names_the_run_it_created()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        var run = Run("a");
        (await store.CreateRunAsync(run, new InitiatorFire(1, "0xabc:3", T0), default)).Should().BeTrue();
        (await store.CreateRunAsync(Run("a"), new InitiatorFire(1, "0xabc:3", T0), default)).Should().BeFalse();

        (await store.FindFireRunAsync("a", 1, "0xabc:3", default)).Should().Be(run.Id);
        (await store.FindFireRunAsync("a", 0, "0xabc:3", default)).Should().BeNull();
        (await store.FindFireRunAsync("a", 1, "0xabc:4", default)).Should().BeNull();
    }

    [Fact]
    public async Task Pending_fires_are_those_whose_runs_wait_for_confirmations_or_a_connection()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        async Task<JobRun> FiredAsync(int initiator, string key, RunStatus status, long height)
        {
            var run = Run("a");
            run.Status = status;
            run.CreationHeight = height;
            (await store.CreateRunAsync(run, new InitiatorFire(initiator, key, T0), default)).Should().BeTrue();
            return run;
        }

        var confirming = await FiredAsync(1, "0xa:0", RunStatus.PendingConfirmations, 10);
        var connecting = await FiredAsync(1, "0xb:1", RunStatus.PendingConnection, 11);
        await FiredAsync(1, "0xc:0", RunStatus.InProgress, 12);
        await FiredAsync(1, "0xd:0", RunStatus.Cancelled, 13);
        var other = await FiredAsync(0, "0xe:0", RunStatus.PendingConfirmations, 14);

        (await store.ListPendingFiresAsync("a", 1, default)).Should().BeEquivalentTo(
            [new PendingFire("0xa:0", confirming.Id, 10), new PendingFire("0xb:1", connecting.Id, 11)]);
        (await store.ListPendingFiresAsync("a", 0, default)).Should().Equal(new PendingFire("0xe:0", other.Id, 14));
        (await store.ListPendingFiresAsync("b", 1, default)).Should().BeEmpty();
    }

    [Fact]
    public async Task An_initiator_checkpoint_only_moves_forward()
    {
        var store = await CreateStoreAsync();
        (await store.GetInitiatorCheckpointAsync("a", 0, default)).Should().BeNull();
        await store.SaveInitiatorCheckpointAsync("a", 0, 10, default);
        await store.SaveInitiatorCheckpointAsync("a", 0, 7, default);
        await store.SaveInitiatorCheckpointAsync("a", 1, 3, default);

        (await store.GetInitiatorCheckpointAsync("a", 0, default)).Should().Be(10);
        (await store.GetInitiatorCheckpointAsync("a", 1, default)).Should().Be(3);
        await store.SaveInitiatorCheckpointAsync("a", 0, 11, default);
        (await store.GetInitiatorCheckpointAsync("a", 0, default)).Should().Be(11);
    }

    [Fact]
    public async Task A_head_is_saved_only_when_later_than_the_one_held_per_chain()
    {
        var store = await CreateStoreAsync();
        (await store.GetHeadAsync("main", default)).Should().BeNull();
        (await store.SaveHeadAsync("main", new Head(5, "0x05"), default)).Should().BeTrue();
        (await store.SaveHeadAsync("main", new Head(5, "0x5b"), default)).Should().BeFalse();
        (await store.SaveHeadAsync("main", new Head(4, "0x04"), default)).Should().BeFalse();
        (await store.SaveHeadAsync("side", new Head(1, "0x01"), default)).Should().BeTrue();

        (await store.GetHeadAsync("main", default)).Should().Be(new Head(5, "0x05"));
        (await store.SaveHeadAsync("main", new Head(6, "0x06"), default)).Should().BeTrue();
        (await store.GetHeadAsync("main", default)).Should().Be(new Head(6, "0x06"));
        (await store.GetHeadAsync("side", default)).Should().Be(new Head(1, "0x01"));
    }

    [Fact]
    public async Task Only_the_first_unfinished_run_of_a_job_is_claimed()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        await store.AddJobAsync(Job("b"), default);
        var a1 = Run("a");
        var a2 = Run("a");
        var b1 = Run("b");
        foreach (var run in new[] { a1, a2, b1 })
        {
            await store.CreateRunAsync(run, null, default);
        }

        var claimed = await store.ClaimRunsAsync("h1", T0, T0, T0.AddSeconds(30), null, 10, 1, default);
        claimed.Select(r => r.Id).Should().Equal(a1.Id, b1.Id);
        claimed.Should().OnlyContain(r => r.Owner == "h1" && r.LeaseUntil == T0.AddSeconds(30));

        (await store.ClaimRunsAsync("h2", T0.AddSeconds(1), T0.AddSeconds(1), T0.AddSeconds(31), null, 10, 1, default)).Should().BeEmpty("both heads are leased");

        // Finishing a1 makes a2 the head.
        var done = claimed[0];
        done.Status = RunStatus.Completed;
        done.FinishedAt = T0;
        done.Owner = null;
        (await store.UpdateRunsAsync([done], default)).Should().Equal(true);
        (await store.ClaimRunsAsync("h2", T0.AddSeconds(1), T0.AddSeconds(1), T0.AddSeconds(31), null, 10, 1, default)).Select(r => r.Id).Should().Equal(a2.Id);
    }

    [Fact]
    public async Task A_claim_takes_the_fresh_runs_right_after_a_head_in_order_up_to_the_limit()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        await store.AddJobAsync(Job("b"), default);
        var a = new List<JobRun>();
        for (var i = 0; i < 5; i++)
        {
            var run = Run("a");
            await store.CreateRunAsync(run, null, default);
            a.Add(run);
        }

        var b1 = Run("b");
        await store.CreateRunAsync(b1, null, default);

        var claimed = await store.ClaimRunsAsync("h1", T0, T0, T0.AddSeconds(30), null, 10, 3, default);

        claimed.Select(r => r.Id).Should().Equal(a[0].Id, a[1].Id, a[2].Id, b1.Id);
        (await store.ClaimRunsAsync("h2", T0, T0, T0.AddSeconds(30), null, 10, 3, default)).Should().BeEmpty("a's head is leased, so none of a's runs is free to another host");

        // A lease that ran out lets another host take the head and the runs after it, the unleased one included.
        var taken = await store.ClaimRunsAsync("h2", T0.AddSeconds(31), T0.AddSeconds(31), T0.AddSeconds(61), null, 1, 5, default);
        taken.Select(r => r.Id).Should().Equal(a.Select(r => r.Id));
        taken.Should().OnlyContain(r => r.Owner == "h2");
    }

    [Fact]
    public async Task A_parked_run_holds_back_the_later_runs_of_its_job()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        var first = Run("a");
        await store.CreateRunAsync(first, null, default);
        await store.CreateRunAsync(Run("a"), null, default);
        var claimed = (await store.ClaimRunsAsync("h", T0, T0, T0.AddSeconds(30), null, 10, 1, default)).Single();
        claimed.Status = RunStatus.PendingBridge;
        claimed.PendingBridge = "x";
        claimed.Owner = null;
        await store.UpdateRunsAsync([claimed], default);

        (await store.ClaimRunsAsync("h", T0.AddHours(1), T0.AddHours(1), T0.AddHours(2), 1_000_000, 10, 1, default)).Should().BeEmpty();
    }

    [Fact]
    public async Task An_expired_lease_is_taken_over_and_the_old_owner_loses_its_writes()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        await store.CreateRunAsync(Run("a"), null, default);
        var mine = (await store.ClaimRunsAsync("h1", T0, T0, T0.AddSeconds(30), null, 10, 1, default)).Single();

        (await store.ClaimRunsAsync("h2", T0.AddSeconds(29), T0.AddSeconds(29), T0.AddSeconds(59), null, 10, 1, default)).Should().BeEmpty();
        var theirs = (await store.ClaimRunsAsync("h2", T0.AddSeconds(31), T0.AddSeconds(31), T0.AddSeconds(61), null, 10, 1, default)).Single();
        theirs.Owner.Should().Be("h2");

        mine.TaskIndex = 1;
        (await store.UpdateRunsAsync([mine], default)).Should().Equal(false);
        theirs.TaskIndex = 1;
        (await store.UpdateRunsAsync([theirs], default)).Should().Equal(true);
        (await store.GetRunAsync(theirs.Id, default))!.Version.Should().Be(theirs.Version);
    }

    [Fact]
    public async Task Sleeping_and_confirming_runs_are_claimed_when_due()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("s"), default);
        await store.AddJobAsync(Job("c"), default);
        await store.CreateRunAsync(Run("s"), null, default);
        await store.CreateRunAsync(Run("c"), null, default);
        foreach (var run in await store.ClaimRunsAsync("h", T0, T0, T0.AddSeconds(30), null, 10, 1, default))
        {
            run.Owner = null;
            run.LeaseUntil = null;
            if (run.JobId == "s")
            {
                run.Status = RunStatus.PendingSleep;
                run.SleepUntil = T0.AddMinutes(5);
            }
            else
            {
                run.Status = RunStatus.PendingConfirmations;
                run.WaitForHeight = 103;
            }

            await store.UpdateRunsAsync([run], default);
        }

        (await store.GetNextWakeAsync(default)).Should().Be(T0.AddMinutes(5));
        (await store.ClaimRunsAsync("h", T0.AddMinutes(4), T0.AddMinutes(4), T0.AddMinutes(5), 102, 10, 1, default)).Should().BeEmpty();
        (await store.ClaimRunsAsync("h", T0.AddMinutes(4), T0.AddMinutes(4), T0.AddMinutes(5), null, 10, 1, default)).Should().BeEmpty();
        (await store.ClaimRunsAsync("h", T0.AddMinutes(4), T0.AddMinutes(4), T0.AddMinutes(5), 103, 10, 1, default)).Select(r => r.JobId).Should().Equal("c");
        (await store.ClaimRunsAsync("h", T0.AddMinutes(5), T0.AddMinutes(5), T0.AddMinutes(6), null, 10, 1, default)).Select(r => r.JobId).Should().Equal("s");
    }

    [Fact]
    public async Task A_run_created_ahead_of_its_occurrence_is_claimed_once_its_wake_time_is_within_the_horizon()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        var run = Run("a");
        run.SleepUntil = T0.AddSeconds(1);
        await store.CreateRunAsync(run, new InitiatorFire(0, "cron:1", T0.AddSeconds(1)), default);
        var after = Run("a");
        await store.CreateRunAsync(after, null, default);

        (await store.GetNextWakeAsync(default)).Should().Be(T0.AddSeconds(1));
        (await store.ClaimRunsAsync("h", T0.AddMilliseconds(999), T0.AddMilliseconds(999), T0.AddSeconds(30), null, 10, 5, default)).Should().BeEmpty("neither it nor the run after it starts early");
        (await store.ClaimRunsAsync("h", T0.AddMilliseconds(900), T0.AddSeconds(1), T0.AddSeconds(30), null, 10, 5, default)).Select(r => r.Id).Should().Equal(run.Id, after.Id);
        (await store.ClaimRunsAsync("h2", T0.AddSeconds(29), T0.AddSeconds(40), T0.AddSeconds(60), null, 10, 5, default)).Should().BeEmpty("a lease ends by now, not by the wake horizon");
    }

    [Fact]
    public async Task Runs_pending_a_connection_resume_together()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        await store.CreateRunAsync(Run("a"), null, default);
        var run = (await store.ClaimRunsAsync("h", T0, T0, T0.AddSeconds(30), null, 10, 1, default)).Single();
        run.Status = RunStatus.PendingConnection;
        run.Owner = null;
        await store.UpdateRunsAsync([run], default);
        (await store.ClaimRunsAsync("h", T0, T0, T0.AddSeconds(30), null, 10, 1, default)).Should().BeEmpty();

        (await store.ResumeConnectingRunsAsync(default)).Should().Be(1);

        (await store.ClaimRunsAsync("h", T0, T0, T0.AddSeconds(30), null, 10, 1, default)).Single().Status.Should().Be(RunStatus.InProgress);
    }

    [Fact]
    public async Task A_run_round_trips_with_its_data_and_results()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        var run = Run("a", new JsonObject { ["price"] = 1.5m, ["tags"] = new JsonArray("x", "y") });
        run.CreationHeight = 42;
        await store.CreateRunAsync(run, null, default);
        var claimed = (await store.ClaimRunsAsync("h", T0, T0, T0.AddSeconds(30), null, 10, 1, default)).Single();
        claimed.Results.Add(new TaskRunResult(0, "multiply", true, JsonValue.Create(150m), null, T0.AddSeconds(1)));
        claimed.Data = JsonValue.Create(150m);
        claimed.TaskIndex = 1;
        await store.UpdateRunsAsync([claimed], default);

        var read = (await store.GetRunAsync(run.Id, default))!;
        read.Input!.ToJsonString().Should().Be(run.Input!.ToJsonString());
        read.CreationHeight.Should().Be(42);
        read.TaskIndex.Should().Be(1);
        read.Data!.GetValue<decimal>().Should().Be(150m);
        read.Results.Should().ContainSingle().Which.Should().Match<TaskRunResult>(r => r.Completed && r.Type == "multiply" && r.FinishedAt == T0.AddSeconds(1));
        read.InitiatorType.Should().Be("web");
        read.CreatedAt.Should().Be(T0);
    }

    [Fact]
    public async Task Bridges_are_stored_once_by_name()
    {
        var store = await CreateStoreAsync();
        var bridge = new StoredBridge("price", new Uri("http://127.0.0.1:1/"), [1, 2, 3], "out", 2);
        await store.AddBridgeAsync(bridge, default);
        var again = () => store.AddBridgeAsync(bridge, default);
        await again.Should().ThrowAsync<JobValidationException>();
        var read = (await store.GetBridgeAsync("price", default))!;
        read.Url.Should().Be(bridge.Url);
        read.IncomingTokenHash.Should().Equal(1, 2, 3);
        read.OutgoingToken.Should().Be("out");
        read.Confirmations.Should().Be(2);
        (await store.GetBridgeAsync("other", default)).Should().BeNull();
        (await store.ListBridgesAsync(default)).Should().ContainSingle();
    }

    [Fact]
    public async Task The_reaper_deletes_old_finished_runs_in_batches_and_keeps_the_rest()
    {
        var store = await CreateStoreAsync();
        await store.AddJobAsync(Job("a"), default);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var run = Run("a");
            await store.CreateRunAsync(run, new InitiatorFire(0, $"cron:{i}", T0.AddSeconds(i)), default);
            var claimed = (await store.ClaimRunsAsync("h", T0, T0, T0.AddSeconds(30), null, 1, 1, default)).Single();
            claimed.Status = RunStatus.Completed;
            claimed.FinishedAt = T0.AddDays(i < 3 ? 0 : 10);
            claimed.Owner = null;
            await store.UpdateRunsAsync([claimed], default);
            ids.Add(run.Id);
        }

        var open = Run("a");
        await store.CreateRunAsync(open, null, default);

        (await store.DeleteFinishedRunsAsync(T0.AddDays(5), 2, default)).Should().Be(2);
        (await store.DeleteFinishedRunsAsync(T0.AddDays(5), 2, default)).Should().Be(1);
        (await store.DeleteFinishedRunsAsync(T0.AddDays(5), 2, default)).Should().Be(0);
        (await store.ListRunsAsync("a", default)).Select(r => r.Id).Should().Equal(ids[3], ids[4], open.Id);
        (await store.GetLastFireAsync("a", 0, default)).Should().Be(T0.AddSeconds(4), "the latest fire of an initiator is kept");
    }

    [Fact]
    public async Task Concurrent_claims_never_hand_one_run_to_two_owners()
    {
        var store = await CreateStoreAsync();
        for (var j = 0; j < 20; j++)
        {
            await store.AddJobAsync(Job($"j{j}"), default);
            await store.CreateRunAsync(Run($"j{j}"), null, default);
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(h => store.ClaimRunsAsync($"h{h}", T0, T0, T0.AddSeconds(30), null, 20, 1, default)));

        var all = claims.SelectMany(c => c).Select(r => r.Id).ToList();
        all.Should().OnlyHaveUniqueItems();
        all.Should().HaveCount(20);
    }

    private static JobSpec Job(string id) => new JobSpec
    {
        Id = id,
        Initiators = [InitiatorSpec.Web()],
        Tasks = [new TaskSpec("noop")],
    }.With(createdAt: T0);

    private static JobRun Run(string jobId, JsonNode? input = null) => new()
    {
        Id = Guid.NewGuid(),
        JobId = jobId,
        InitiatorType = "web",
        CreatedAt = T0,
        Input = input,
        Data = input?.DeepClone(),
        Status = RunStatus.InProgress,
    };
}
