using Loop.Jobs.Stores.InMemory;
using Microsoft.Extensions.Time.Testing;

namespace Loop.Jobs.Tests.Running;

/// <summary>System timers may fire a little early; a cron or run-at run never starts before its time.</summary>
public sealed class EarlyTimerTests
{
    [Fact]
    public async Task Cron_and_run_at_timers_that_fire_early_start_no_run_before_the_occurrence()
    {
        var clock = new EarlyTimers(JobsHarness.T0, early: TimeSpan.FromMilliseconds(2));
        var store = new MemJobStore();
        await using var jobs = await JobsHarness.StartAsync(store, clock: clock);
        var cron = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Cron("*/5 * * * * *")], Tasks = [new TaskSpec("noop")] });
        var once = await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.RunAt(JobsHarness.T0.AddSeconds(5))], Tasks = [new TaskSpec("noop")] });

        // The timers fire 2 ms early; a run is written ahead of its occurrence but must not start before it.
        clock.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        var ahead = await jobs.WaitForRunsAsync(cron.Id, 1);
        ahead.Single().Results.Should().BeEmpty("at 00:00:04.999 the run exists and has not started");
        (await jobs.WaitForRunsAsync(once.Id, 1)).Single().Results.Should().BeEmpty();

        clock.Advance(TimeSpan.FromMilliseconds(1));
        (await jobs.WaitForStatusAsync(ahead.Single().Id, RunStatus.Completed)).Results.Single().FinishedAt.Should().Be(JobsHarness.T0.AddSeconds(5));

        (await jobs.WaitForRunsAsync(cron.Id, 1)).Single().CreatedAt.Should().Be(JobsHarness.T0.AddSeconds(5), "a cron run never starts before its occurrence");
        (await jobs.WaitForRunsAsync(once.Id, 1)).Single().CreatedAt.Should().Be(JobsHarness.T0.AddSeconds(5), "a run-at run never starts before its time");
    }

    /// <summary>A fake clock whose timers fire <c>early</c> before they are due, as system timers can.</summary>
    private sealed class EarlyTimers(DateTimeOffset start, TimeSpan early) : FakeTimeProvider(start)
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            base.CreateTimer(callback, state, dueTime > early ? dueTime - early : dueTime, period);
    }
}
