using System.Diagnostics;
using System.Text.Json.Nodes;
using Loop.Jobs.Stores.Postgres;
using Loop.Testing;

namespace Loop.Jobs.Tests.Running;

/// <summary>
/// Real host processes on one PostgreSQL database, killed with SIGKILL: runs resume from their first task not completed,
/// the task that was executing runs again, sleepers keep their wake time, pending runs stay pending; two hosts share the
/// work and a cron fire starts one run between them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostFaultTests(SharedPostgres postgres)
{
    [Fact]
    public async Task A_host_killed_mid_runs_resumes_them_on_restart_and_repeats_only_the_task_it_was_executing()
    {
        using var folder = new MarkedFolder("loop-jobs-crash");
        var prefix = PostgresFixture.UniqueTable();
        var store = new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix });
        await store.InitializeAsync(default);
        var now = TimeProvider.System.GetUtcNow();
        var held = await AddAsync(store, "held", [Journal(), Journal(hold: true), Journal()]);
        var sleeper = await AddAsync(store, "sleeper", [Journal(), new TaskSpec("sleep", new JsonObject { ["until"] = now.AddSeconds(6).ToUnixTimeMilliseconds() / 1000m }), Journal()]);
        var many = await AddAsync(store, "many", [Journal(), Journal(), Journal()]);
        var heldRun = await CreateRunAsync(store, held);
        var sleepRun = await CreateRunAsync(store, sleeper);
        var manyRuns = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            manyRuns.Add(await CreateRunAsync(store, many));
        }

        using (var first = await StartHostAsync(prefix, "host-a", folder.Path))
        {
            await Eventually.WaitAsync(() => Journal(folder.Path).Contains(("host-a", heldRun, 1)), "the held task to start");
            await Eventually.WaitAsync(async () => (await store.GetRunAsync(sleepRun, default))!.Status == RunStatus.PendingSleep, "the sleeper asleep");
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }

        var sleepingAt = (await store.GetRunAsync(sleepRun, default))!.SleepUntil;
        var beforeRestart = Journal(folder.Path);
        File.WriteAllText(Path.Combine(folder.Path, "release"), string.Empty);

        using (var second = await StartHostAsync(prefix, "host-b", folder.Path))
        {
            await Eventually.WaitAsync(async () => (await store.GetRunAsync(heldRun, default))!.Status == RunStatus.Completed, "the held run completed after the restart");
            await Eventually.WaitAsync(async () => (await store.ListRunsAsync(many, default)).All(r => r.Status == RunStatus.Completed), "every run of the busy job completed");
            var slept = await WaitForAsync(store, sleepRun, RunStatus.Completed);
            slept.Results[1].FinishedAt.Should().BeOnOrAfter(sleepingAt!.Value, "a sleeper wakes at its original time, not earlier");
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }

        var journal = Journal(folder.Path);
        journal.Count(e => e.Run == heldRun && e.Task == 0).Should().Be(1, "a checkpointed task is not run again");
        journal.Count(e => e.Run == heldRun && e.Task == 1).Should().Be(2, "the task executing at the kill runs again on restart (at-least-once)");
        journal.Should().Contain(("host-b", heldRun, 1));
        foreach (var run in manyRuns)
        {
            for (var task = 0; task < 3; task++)
            {
                journal.Count(e => e.Run == run && e.Task == task).Should().BeInRange(1, 2, "every task of every run ran, at most twice");
            }
        }

        var repeated = journal.GroupBy(e => (e.Run, e.Task)).Count(g => g.Count() > 1);
        repeated.Should().BeLessThanOrEqualTo(beforeRestart.Select(e => e.Run).Distinct().Count() + 1, "only tasks in flight at the kill repeat");
    }

    [Fact]
    public async Task Pending_and_sleeping_runs_stay_so_across_a_kill_and_hold_back_their_jobs()
    {
        using var folder = new MarkedFolder("loop-jobs-pending");
        await using var adapter = await TestAdapter.StartAsync();
        var prefix = PostgresFixture.UniqueTable();
        var store = new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix });
        await store.InitializeAsync(default);
        await store.AddBridgeAsync(new StoredBridge("adapter", adapter.Url, JobService.HashToken(new string('t', 32)), null, 0), default);
        var external = await AddAsync(store, "external", [Journal(), new TaskSpec("adapter")]);
        var sleeper = await AddAsync(store, "sleeper", [Journal(), new TaskSpec("sleep", new JsonObject { ["for"] = "01:00:00" })]);
        var pendingRun = await CreateRunAsync(store, external);
        var sleepRun = await CreateRunAsync(store, sleeper);

        using (var first = await StartHostAsync(prefix, "host-a", folder.Path))
        {
            await WaitForAsync(store, pendingRun, RunStatus.PendingBridge);
            await WaitForAsync(store, sleepRun, RunStatus.PendingSleep);
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }

        var asleep = (await store.GetRunAsync(sleepRun, default))!;
        var other = await AddAsync(store, "other", [Journal()]);
        using (var second = await StartHostAsync(prefix, "host-b", folder.Path))
        {
            var laterExternal = await CreateRunAsync(store, external);
            var laterSleeper = await CreateRunAsync(store, sleeper);
            var proof = await CreateRunAsync(store, other);
            await WaitForAsync(store, proof, RunStatus.Completed);
            (await store.GetRunAsync(pendingRun, default))!.Status.Should().Be(RunStatus.PendingBridge);
            var again = (await store.GetRunAsync(sleepRun, default))!;
            again.Status.Should().Be(RunStatus.PendingSleep);
            again.SleepUntil.Should().Be(asleep.SleepUntil, "the wake time is stored, not recomputed on restart");
            (await store.GetRunAsync(laterExternal, default))!.TaskIndex.Should().Be(0, "a pending run holds back its job across restarts");
            (await store.GetRunAsync(laterSleeper, default))!.TaskIndex.Should().Be(0);
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }

        Journal(folder.Path).Count(e => e.Run == pendingRun || e.Run == sleepRun).Should().Be(2, "no task of a parked run is repeated");
        adapter.Requests.Should().ContainSingle("the adapter is asked once");
    }

    [Fact]
    public async Task Two_hosts_share_the_runs_a_cron_fire_starts_one_run_and_a_killed_host_runs_are_taken_over()
    {
        using var folder = new MarkedFolder("loop-jobs-two-hosts");
        var prefix = PostgresFixture.UniqueTable();
        var store = new PgJobStore(postgres.Fixture.DataSource, new PgJobStoreOptions { TablePrefix = prefix });
        await store.InitializeAsync(default);
        var cron = await AddAsync(store, "cron", [Journal()], InitiatorSpec.Cron("* * * * * *"));
        var held = await AddAsync(store, "held", [Journal(hold: true), Journal()]);

        using var a = await StartHostAsync(prefix, "host-a", folder.Path, maxConcurrentRuns: 6);
        var heldRun = await CreateRunAsync(store, held);
        await Eventually.WaitAsync(() => Journal(folder.Path).Contains(("host-a", heldRun, 0)), "host-a holding a run");
        using var b = await StartHostAsync(prefix, "host-b", folder.Path, maxConcurrentRuns: 6);

        // Ten jobs whose runs hold until released: host-a has room for five of them, so host-b must take the rest.
        var busyRuns = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            busyRuns.Add(await CreateRunAsync(store, await AddAsync(store, $"busy{i}", [Journal(hold: true), Journal()])));
        }

        await Eventually.WaitAsync(() => Journal(folder.Path).Count(e => busyRuns.Contains(e.Run)) == 10, "every busy run started on one host or the other");
        Journal(folder.Path).Where(e => busyRuns.Contains(e.Run)).Select(e => e.Host).Distinct().Should().BeEquivalentTo("host-a", "host-b");

        await Eventually.WaitAsync(async () => (await store.ListRunsAsync(cron, default)).Count >= 4, "four cron fires with both hosts up");
        a.Kill(entireProcessTree: true);
        await a.WaitForExitAsync();
        var atKill = (await store.ListRunsAsync(cron, default)).Count;
        File.WriteAllText(Path.Combine(folder.Path, "release"), string.Empty);

        await WaitForAsync(store, heldRun, RunStatus.Completed);
        await Eventually.WaitAsync(async () => (await store.ListRunsAsync(cron, default)).Count >= atKill + 3, "cron fires go on with one host");
        await Eventually.WaitAsync(async () => (await Task.WhenAll(busyRuns.Select(r => store.GetRunAsync(r, default)))).All(r => r!.Status == RunStatus.Completed), "every busy run completed");
        b.Kill(entireProcessTree: true);
        await b.WaitForExitAsync();

        var cronRuns = await store.ListRunsAsync(cron, default);
        await using (var count = postgres.Fixture.DataSource.CreateCommand($"SELECT count(*) FROM public.{prefix}_fires WHERE job_id = 'cron'"))
        {
            ((long)(await count.ExecuteScalarAsync())!).Should().Be(cronRuns.Count, "every cron run belongs to one recorded fire");
        }

        var seconds = (cronRuns[^1].CreatedAt - cronRuns[0].CreatedAt).TotalSeconds;
        cronRuns.Count.Should().BeLessThanOrEqualTo((int)seconds + 2, "two hosts firing the same schedule start one run per occurrence, not two");
        var journal = Journal(folder.Path);
        journal.Should().Contain(("host-b", heldRun, 0), "host-b took over the dead host's run after its lease");
        journal.Where(e => busyRuns.Contains(e.Run) && e.Task == 0 && e.Host == "host-a").Should().AllSatisfy(e => journal.Should().Contain(("host-b", e.Run, 0)), "the busy runs host-a held were taken over");
        journal.Where(e => cronRuns.Select(r => r.Id).Contains(e.Run)).GroupBy(e => e.Run).Should().OnlyContain(g => g.Count() <= 2);
    }

    private static TaskSpec Journal(bool hold = false) => new("journal", hold ? new JsonObject { ["hold"] = true } : null);

    private static async Task<string> AddAsync(IJobStore store, string id, TaskSpec[] tasks, InitiatorSpec? initiator = null)
    {
        var job = new JobSpec { Id = id, Initiators = [initiator ?? InitiatorSpec.Web()], Tasks = tasks }.With(createdAt: TimeProvider.System.GetUtcNow());
        await store.AddJobAsync(job, default);
        return id;
    }

    private static async Task<Guid> CreateRunAsync(IJobStore store, string jobId)
    {
        var run = new JobRun { Id = Guid.NewGuid(), JobId = jobId, InitiatorType = "web", CreatedAt = TimeProvider.System.GetUtcNow(), Status = RunStatus.InProgress };
        (await store.CreateRunAsync(run, null, default)).Should().BeTrue();
        return run.Id;
    }

    private static async Task<JobRun> WaitForAsync(IJobStore store, Guid runId, RunStatus status)
    {
        JobRun? run = null;
        await Eventually.WaitAsync(async () => (run = await store.GetRunAsync(runId, default))?.Status == status, $"run {runId} {status.ToName()}");
        return run!;
    }

    private static List<(string Host, Guid Run, int Task)> Journal(string folder)
    {
        var path = Path.Combine(folder, "journal");
        return !File.Exists(path)
            ? []
            : [.. File.ReadAllLines(path).Where(l => l.EndsWith(" start", StringComparison.Ordinal)).Select(l => l.Split(' ')).Select(p => (p[0], Guid.Parse(p[1]), int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture)))];
    }

    private async Task<Process> StartHostAsync(string prefix, string hostId, string folder, int maxConcurrentRuns = 16)
    {
        var child = BuiltProgram.Start(
            BuiltProgram.Path("tests/Loop.Jobs.TestHost", "Loop.Jobs.TestHost.dll"),
            postgres.Fixture.ConnectionString,
            prefix,
            hostId,
            folder,
            maxConcurrentRuns.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        child.OutputDataReceived += (_, line) =>
        {
            if (line.Data == "ready")
            {
                ready.TrySetResult();
            }
        };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return child;
    }
}
